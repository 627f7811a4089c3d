/* A SANE backend for tests: one flatbed scanner, "scandtest:0", with the
 * hardware buttons that SANE's own `test` backend lacks.
 *
 * Buttons are read-only bool options ("scan", "email") as real backends
 * expose them (SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT); a button reads
 * TRUE while its name is a line of the file $SCANDTEST_BUTTONS. The device can
 * be open by one process at a time (flock on $SCANDTEST_BUTTONS.lock), like
 * a USB scanner, so a test can see whether a poller releases it. Pages are
 * 100x100 8-bit gray; source "ADF" gives $SCANDTEST_ADF_PAGES pages (default
 * 10) then NO_DOCS, and $SCANDTEST_DELAY_MS slows every read of at most 500
 * bytes. It has no reader thread, so cancelling never leaves a lock held (the
 * `test` backend's asynchronously cancelled thread can, under ASan). Loaded by
 * SANE's dll backend through LD_LIBRARY_PATH. */
#include <sane/sane.h>
#include <sane/saneopts.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define EXPORT(name) sane_scandtest_##name

enum {
  OPT_COUNT,
  OPT_SCAN,
  OPT_EMAIL,
  OPT_RESOLUTION,
  OPT_SOURCE,
  NUM_OPTIONS
};
#define SIDE 100

static SANE_Device device = { "0", "scand", "button tester", "flatbed scanner" };
static const SANE_Device *device_list[] = { &device, NULL };
static const SANE_Word resolutions[] = { 1, 100 };
static SANE_String_Const sources[] = { "Flatbed", "ADF", NULL };

static SANE_Option_Descriptor options[NUM_OPTIONS] = {
  [OPT_COUNT] = { SANE_NAME_NUM_OPTIONS,
                  SANE_TITLE_NUM_OPTIONS,
                  SANE_DESC_NUM_OPTIONS,
                  SANE_TYPE_INT,
                  SANE_UNIT_NONE,
                  sizeof(SANE_Word),
                  SANE_CAP_SOFT_DETECT,
                  SANE_CONSTRAINT_NONE,
                  { NULL } },
  [OPT_SCAN] = { "scan",
                 "Scan button",
                 "The scan button on the device",
                 SANE_TYPE_BOOL,
                 SANE_UNIT_NONE,
                 sizeof(SANE_Word),
                 SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT,
                 SANE_CONSTRAINT_NONE,
                 { NULL } },
  [OPT_EMAIL] = { "email",
                  "E-mail button",
                  "The e-mail button on the device",
                  SANE_TYPE_BOOL,
                  SANE_UNIT_NONE,
                  sizeof(SANE_Word),
                  SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT,
                  SANE_CONSTRAINT_NONE,
                  { NULL } },
  [OPT_RESOLUTION] = { SANE_NAME_SCAN_RESOLUTION,
                       SANE_TITLE_SCAN_RESOLUTION,
                       SANE_DESC_SCAN_RESOLUTION,
                       SANE_TYPE_INT,
                       SANE_UNIT_DPI,
                       sizeof(SANE_Word),
                       SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT,
                       SANE_CONSTRAINT_WORD_LIST,
                       { .word_list = resolutions } },
  [OPT_SOURCE] = { SANE_NAME_SCAN_SOURCE,
                   SANE_TITLE_SCAN_SOURCE,
                   SANE_DESC_SCAN_SOURCE,
                   SANE_TYPE_STRING,
                   SANE_UNIT_NONE,
                   16,
                   SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT,
                   SANE_CONSTRAINT_STRING_LIST,
                   { .string_list = sources } },
};

typedef struct {
  int lock_fd;
  int scanning;
  int sent;
  int adf; /* source is the feeder */
  int pages_fed;
} Handle;

static int env_int(const char *name, int def) {
  const char *v = getenv(name);
  return v && *v ? atoi(v) : def;
}

static const char *state_file(void) {
  const char *f = getenv("SCANDTEST_BUTTONS");
  return f ? f : "/nonexistent";
}

static int button_pressed(const char *name) {
  FILE *f = fopen(state_file(), "r");
  if (!f)
    return 0;
  char line[64];
  int pressed = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (strcmp(line, name) == 0)
      pressed = 1;
  }
  fclose(f);
  return pressed;
}

SANE_Status EXPORT(init)(SANE_Int *version, SANE_Auth_Callback authorize) {
  (void) authorize;
  if (version)
    *version = SANE_VERSION_CODE(1, 0, 0);
  return SANE_STATUS_GOOD;
}

void EXPORT(exit)(void) {
}

SANE_Status EXPORT(get_devices)(const SANE_Device ***list, SANE_Bool local_only) {
  (void) local_only;
  *list = device_list;
  return SANE_STATUS_GOOD;
}

SANE_Status EXPORT(open)(SANE_String_Const name, SANE_Handle *h) {
  if (name[0] && strcmp(name, "scandtest:0") != 0 && strcmp(name, "0") != 0)
    return SANE_STATUS_INVAL;
  char path[4096];
  snprintf(path, sizeof path, "%s.lock", state_file());
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return SANE_STATUS_IO_ERROR;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    close(fd);
    return SANE_STATUS_DEVICE_BUSY;
  }
  Handle *handle = calloc(1, sizeof *handle);
  handle->lock_fd = fd;
  *h = handle;
  return SANE_STATUS_GOOD;
}

void EXPORT(close)(SANE_Handle h) {
  Handle *handle = h;
  close(handle->lock_fd);
  free(handle);
}

const SANE_Option_Descriptor *EXPORT(get_option_descriptor)(SANE_Handle h, SANE_Int n) {
  (void) h;
  return n >= 0 && n < NUM_OPTIONS ? &options[n] : NULL;
}

SANE_Status EXPORT(control_option)(SANE_Handle h, SANE_Int n, SANE_Action action, void *value, SANE_Int *info) {
  Handle *handle = h;
  if (info)
    *info = 0;
  if (n < 0 || n >= NUM_OPTIONS)
    return SANE_STATUS_INVAL;
  if (action == SANE_ACTION_GET_VALUE) {
    SANE_Word *w = value;
    switch (n) {
      case OPT_COUNT:
        *w = NUM_OPTIONS;
        break;
      case OPT_SCAN:
        *w = button_pressed("scan");
        break;
      case OPT_EMAIL:
        *w = button_pressed("email");
        break;
      case OPT_RESOLUTION:
        *w = 100;
        break;
      case OPT_SOURCE:
        strcpy(value, handle->adf ? "ADF" : "Flatbed");
        break;
    }
    return SANE_STATUS_GOOD;
  }
  if (n == OPT_SOURCE && action == SANE_ACTION_SET_VALUE) {
    if (strcmp(value, "ADF") == 0)
      handle->adf = 1;
    else if (strcmp(value, "Flatbed") == 0)
      handle->adf = 0;
    else
      return SANE_STATUS_INVAL;
    return SANE_STATUS_GOOD;
  }
  if (n == OPT_RESOLUTION && action == SANE_ACTION_SET_VALUE && *(SANE_Word *) value == 100)
    return SANE_STATUS_GOOD;
  return SANE_STATUS_INVAL;
}

SANE_Status EXPORT(get_parameters)(SANE_Handle h, SANE_Parameters *p) {
  (void) h;
  p->format = SANE_FRAME_GRAY;
  p->last_frame = SANE_TRUE;
  p->bytes_per_line = SIDE;
  p->pixels_per_line = SIDE;
  p->lines = SIDE;
  p->depth = 8;
  return SANE_STATUS_GOOD;
}

SANE_Status EXPORT(start)(SANE_Handle h) {
  Handle *handle = h;
  if (handle->adf && handle->pages_fed >= env_int("SCANDTEST_ADF_PAGES", 10))
    return SANE_STATUS_NO_DOCS;
  if (handle->adf)
    handle->pages_fed++;
  handle->scanning = 1;
  handle->sent = 0;
  return SANE_STATUS_GOOD;
}

SANE_Status EXPORT(read)(SANE_Handle h, SANE_Byte *buf, SANE_Int max, SANE_Int *len) {
  Handle *handle = h;
  *len = 0;
  if (!handle->scanning)
    return SANE_STATUS_CANCELLED;
  int left = SIDE * SIDE - handle->sent;
  if (left == 0)
    return SANE_STATUS_EOF;
  int n = left < max ? left : max;
  if (n > 500)
    n = 500;
  int delay = env_int("SCANDTEST_DELAY_MS", 0);
  if (delay > 0)
    usleep((useconds_t) delay * 1000);
  if (!handle->scanning)
    return SANE_STATUS_CANCELLED;
  for (int i = 0; i < n; i++)
    buf[i] = (SANE_Byte) ((handle->sent + i) % SIDE < 50 ? 0x20 : 0xe0);
  handle->sent += n;
  *len = n;
  return SANE_STATUS_GOOD;
}

void EXPORT(cancel)(SANE_Handle h) {
  Handle *handle = h;
  handle->scanning = 0;
}

SANE_Status EXPORT(set_io_mode)(SANE_Handle h, SANE_Bool non_blocking) {
  (void) h;
  return non_blocking ? SANE_STATUS_UNSUPPORTED : SANE_STATUS_GOOD;
}

SANE_Status EXPORT(get_select_fd)(SANE_Handle h, SANE_Int *fd) {
  (void) h;
  (void) fd;
  return SANE_STATUS_UNSUPPORTED;
}
