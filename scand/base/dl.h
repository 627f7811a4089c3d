/* Libraries loaded when first used.
 *
 * An idle daemon needs neither Samba's client nor Tesseract: linked, their
 * 70 shared objects cost every scand process about 40 ms of symbol binding
 * at start and 11 MiB of resident pages. A library listed here is opened
 * with dlopen() by its soname the first time a function of scand needs it,
 * and its functions are called through pointers named sym_<function>, each
 * declared with the type of the library's own prototype (so a changed
 * prototype fails to compile). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The pointer to a library function: SCAND_DL_DECLARE(f) in the library's
 * header, SCAND_DL_DEFINE(f) once in its .c, SCAND_DL_SYMBOL(f) in its
 * symbol table. */
#define SCAND_DL_DECLARE(f) extern typeof(f) *sym_##f
#define SCAND_DL_DEFINE(f) typeof(f) *sym_##f
#define SCAND_DL_SYMBOL(f)                                                                                             \
  { #f, (void **) &sym_##f }

typedef struct {
  const char *name;
  void **pointer;
} ScandDlSymbol;

/* One library: its soname, what it is for (for the error), its symbols
 * (ending with { NULL, NULL }) and the outcome of the one attempt. */
typedef struct {
  const char *soname;
  const char *purpose;
  const ScandDlSymbol *symbols;
  gsize once;
  char *failure;
} ScandDlLibrary;

/* Opens lib and resolves all its symbols the first time (thread-safe);
 * later calls return the first outcome. FALSE with a one-line error naming
 * the library and what is missing. */
gboolean scand_dl_load(ScandDlLibrary *lib, GError **error);

G_END_DECLS
