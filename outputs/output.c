#include "outputs/output-private.h"

#include <string.h>

/* The output table: one line per output type. */
static const ScandOutputDriver *const drivers[] = {
  &scand_output_folder,
  &scand_output_smb,
  &scand_output_usb, &scand_output_print,
  NULL,
};

const ScandOutputDriver *scand_output_driver_find(const char *type) {
  if (!type)
    return NULL;
  for (guint i = 0; drivers[i]; i++)
    if (strcmp(drivers[i]->type, type) == 0)
      return drivers[i];
  return NULL;
}

const ScandOutputDriver *const *scand_output_drivers(void) {
  return drivers;
}
