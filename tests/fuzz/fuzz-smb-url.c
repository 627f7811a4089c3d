/* Fuzzes the SMB output's pure parts: any bytes as "URL\nNAME" give a parsed
 * smb:// URL or a one-line error that never echoes a URL carrying user info;
 * whatever is accepted turns into a libsmbclient URL with every segment
 * percent-encoded, and any delivery name into a name without the characters
 * SMB gives a meaning to. Never a crash. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/smb-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-smb-url: %s\n", what);
    abort();
  }
}

/* Only unreserved characters, '%' escapes and '/' may follow "smb://host". */
static gboolean encoded(const char *s) {
  for (; *s; s++)
    if (!g_ascii_isalnum(*s) && !strchr("-._~%/", *s))
      return FALSE;
  return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *text = g_strndup((const char *) data, size);
  char *nl = strchr(text, '\n');
  const char *name = "scan.pdf";
  if (nl) {
    *nl = '\0';
    name = nl + 1;
  }

  g_autofree char *safe = scand_smb_safe_name(name);
  for (const char *p = safe; *p; p++)
    require((guchar) *p >= 0x20 && *p != 0x7f && !strchr("\\:*?\"<>|", *p), "special character in a safe name");
  g_autofree char *suffixed = scand_smb_name_with_suffix(safe, 2);
  require(strstr(suffixed, "-2") != NULL, "no -2 in the suffixed name");
  g_autofree char *temp = scand_smb_temp_name(name, name);
  require(temp[0] == '.' && strlen(temp) < 160, "temporary name not hidden or too long");
  for (const char *p = temp; *p; p++)
    require(g_ascii_isalnum(*p) || strchr("._-", *p), "odd character in the temporary name");

  g_autoptr(GError) error = NULL;
  g_autoptr(ScandSmbUrl) url = scand_smb_url_parse(text, &error);
  if (!url) {
    require(error != NULL, "no URL and no error");
    require(strchr(error->message, '\n') == NULL, "error on more than one line");
    if (strchr(text, '@') && *text)
      require(strstr(error->message, text) == NULL, "error echoes a URL with user info");
    return 0;
  }
  require(*url->host && *url->share, "empty host or share");
  require(!strchr(url->share, '/') && url->dir[0] != '/', "slash in the share or leading slash in the dir");
  g_auto(GStrv) segs = g_strsplit(url->dir, "/", -1);
  for (guint i = 0; segs[i]; i++)
    require(*url->dir == '\0' || (*segs[i] && strcmp(segs[i], ".") != 0 && strcmp(segs[i], "..") != 0),
            "empty, '.' or '..' segment in the dir");
  g_autofree char *shown = scand_smb_url_display(url);
  require(g_str_has_prefix(shown, "smb://"), "display not smb://");
  const char *shown_path = strchr(shown + 6, '/');
  require(shown_path && !memchr(shown + 6, '@', (size_t) (shown_path - shown - 6)), "display with user info");
  g_autofree char *full = scand_smb_url_for(url, safe);
  require(g_str_has_prefix(full, "smb://"), "libsmbclient URL not smb://");
  const char *path = strchr(full + 6, '/');
  require(path != NULL && encoded(path), "libsmbclient URL path not encoded");
  return 0;
}
