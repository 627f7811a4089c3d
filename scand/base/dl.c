#include "scand/base/dl.h"

#include <dlfcn.h>

#include "scand/base/error.h"

gboolean scand_dl_load(ScandDlLibrary *lib, GError **error) {
  if (g_once_init_enter(&lib->once)) {
    /* RTLD_NODELETE: the pointers stay good for the life of the process. */
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!handle)
      lib->failure = g_strdup_printf("%s needs %s, which cannot be loaded: %s", lib->purpose, lib->soname, dlerror());
    for (const ScandDlSymbol *s = lib->symbols; handle && s->name; s++) {
      *s->pointer = dlsym(handle, s->name);
      if (!*s->pointer) {
        lib->failure = g_strdup_printf("%s needs %s, which has no %s", lib->purpose, lib->soname, s->name);
        for (const ScandDlSymbol *t = lib->symbols; t->name; t++)
          *t->pointer = NULL;
        dlclose(handle);
        handle = NULL;
      }
    }
    g_once_init_leave(&lib->once, 1);
  }
  if (lib->failure) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_FAILED, lib->failure);
    return FALSE;
  }
  return TRUE;
}
