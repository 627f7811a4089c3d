/* Runs a libFuzzer target over every file of a corpus directory, so that the
 * corpus is an ordinary regression test. Usage: replay DIR|FILE… */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned replayed;

static int compare_paths(gconstpointer a, gconstpointer b) {
  return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

static int replay_path(const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    if (!dir) {
      fprintf(stderr, "replay: cannot open %s\n", path);
      return 1;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(dir)))
      g_ptr_array_add(names, g_build_filename(path, name, NULL));
    g_ptr_array_sort(names, compare_paths);
    int failed = 0;
    for (guint i = 0; i < names->len; i++)
      failed |= replay_path(names->pdata[i]);
    return failed;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error)) {
    fprintf(stderr, "replay: %s\n", error->message);
    return 1;
  }
  LLVMFuzzerTestOneInput((const uint8_t *) data, len);
  replayed++;
  printf("ok %s (%zu bytes)\n", path, (size_t) len);
  return 0;
}

int main(int argc, char **argv) {
  int failed = 0, files = 0;
  for (int i = 1; i < argc; i++, files++)
    failed |= replay_path(argv[i]);
  if (files == 0) {
    fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
    return 2;
  }
  if (replayed == 0) {
    fprintf(stderr, "replay: the corpus is empty: nothing was tested\n");
    return 1;
  }
  return failed;
}
