/* Attachments of a received mail through GMime, streamed from the spool file. */
#include "scand/core/mail-attachments.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEAD_BYTES 1024 /* a PDF header may sit anywhere in the first 1024 bytes */
#define TAIL_BYTES 1024 /* %%EOF, the JPEG end marker and IEND sit within the last ones */
#define MAX_DEPTH 16    /* multiparts nested deeper than this are not looked into */

/* GMime 3.2 declares no cleanup functions of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)

struct ScandReceivedMail {
  GMimeStream *stream;
  GMimeMessage *message;
  char *subject, *from_address, *from_name, *message_id;
  GPtrArray *attachments; /* ScandAttachment* */
  GPtrArray *skipped;     /* char* */
  guint leaves;
};

/* ---- pure: types, magic, completeness ----------------------------------- */

static const struct {
  const char *mime;
  ScandAttachmentKind kind;
} declared_types[] = {
  { "application/pdf", SCAND_ATTACHMENT_PDF }, { "application/x-pdf", SCAND_ATTACHMENT_PDF },
  { "image/jpeg", SCAND_ATTACHMENT_JPEG },     { "image/jpg", SCAND_ATTACHMENT_JPEG },
  { "image/pjpeg", SCAND_ATTACHMENT_JPEG },    { "image/png", SCAND_ATTACHMENT_PNG },
  { "image/x-png", SCAND_ATTACHMENT_PNG },     { "image/tiff", SCAND_ATTACHMENT_TIFF },
  { "image/tif", SCAND_ATTACHMENT_TIFF },      { "image/x-tiff", SCAND_ATTACHMENT_TIFF },
};

/* Types that say nothing about the content: the name and the bytes decide. */
static const char *const generic_types[] = {
  "application/octet-stream",   "application/binary",  "application/x-download",
  "application/force-download", "application/unknown", "binary/octet-stream",
};

static const struct {
  const char *ext;
  ScandAttachmentKind kind;
} extensions[] = {
  { ".pdf", SCAND_ATTACHMENT_PDF },   { ".jpg", SCAND_ATTACHMENT_JPEG }, { ".jpeg", SCAND_ATTACHMENT_JPEG },
  { ".jpe", SCAND_ATTACHMENT_JPEG },  { ".png", SCAND_ATTACHMENT_PNG },  { ".tif", SCAND_ATTACHMENT_TIFF },
  { ".tiff", SCAND_ATTACHMENT_TIFF },
};

static const char *const executable_extensions[] = {
  ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".dll", ".js",  ".jse",
  ".vbs", ".vbe", ".wsf", ".ps1", ".jar", ".sh",  ".lnk", ".hta", ".cpl", ".app",
};

/* Magic numbers of programs (PE, ELF, Mach-O, scripts). */
static gboolean looks_executable(const guchar *h, gsize n) {
  static const char *const magic[] = { "MZ",
                                       "\x7f"
                                       "ELF",
                                       "#!",
                                       "\xca\xfe\xba\xbe",
                                       "\xcf\xfa\xed\xfe",
                                       "\xfe\xed\xfa\xce" };
  for (guint i = 0; i < G_N_ELEMENTS(magic); i++)
    if (n >= strlen(magic[i]) && memcmp(h, magic[i], strlen(magic[i])) == 0)
      return TRUE;
  return FALSE;
}

const char *scand_attachment_kind_extension(ScandAttachmentKind kind) {
  static const char *const ext[] = { "pdf", "jpg", "png", "tif" };
  return (guint) kind < G_N_ELEMENTS(ext) ? ext[kind] : "bin";
}

static const char *kind_name(ScandAttachmentKind kind) {
  static const char *const names[] = { "a PDF", "a JPEG image", "a PNG image", "a TIFF image" };
  return (guint) kind < G_N_ELEMENTS(names) ? names[kind] : "?";
}

gboolean scand_attachment_magic_matches(ScandAttachmentKind kind, const guchar *h, gsize n) {
  switch (kind) {
    case SCAND_ATTACHMENT_PDF:
      /* PDF 32000-1 7.5.2 lets the header sit within the first 1024 bytes. */
      for (gsize i = 0; i + 5 <= n && i < HEAD_BYTES; i++)
        if (memcmp(h + i, "%PDF-", 5) == 0)
          return TRUE;
      return FALSE;
    case SCAND_ATTACHMENT_JPEG:
      return n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff;
    case SCAND_ATTACHMENT_PNG:
      return n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0;
    case SCAND_ATTACHMENT_TIFF:
      return n >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0 || memcmp(h, "II+\0", 4) == 0 ||
                        memcmp(h, "MM\0+", 4) == 0);
  }
  return FALSE;
}

static gboolean tail_has(const guchar *tail, gsize n, const char *what, gsize len) {
  for (gsize i = n >= len ? n - len + 1 : 0; i-- > 0;)
    if (memcmp(tail + i, what, len) == 0)
      return TRUE;
  return FALSE;
}

/* The first IFD offset of a classic TIFF header. */
static guint64 tiff_first_ifd(const guchar *h, gsize n) {
  if (n < 8)
    return 0;
  gboolean le = h[0] == 'I';
  if (h[2] == 43 || h[3] == 43) { /* BigTIFF: an 8-byte offset at 8 */
    guint64 off64 = 0;
    if (n < 16)
      return 0;
    memcpy(&off64, h + 8, 8);
    return le ? GUINT64_FROM_LE(off64) : GUINT64_FROM_BE(off64);
  }
  guint32 off;
  memcpy(&off, h + 4, 4);
  return le ? GUINT32_FROM_LE(off) : GUINT32_FROM_BE(off);
}

gboolean scand_attachment_complete(ScandAttachmentKind kind, const guchar *head, gsize head_len, const guchar *tail,
                                   gsize tail_len, guint64 size, char **why) {
  *why = NULL;
  if (!scand_attachment_magic_matches(kind, head, head_len)) {
    *why = g_strdup_printf("the content is not %s", kind_name(kind));
    return FALSE;
  }
  gboolean ok = TRUE;
  switch (kind) {
    case SCAND_ATTACHMENT_PDF:
      ok = tail_has(tail, tail_len, "%%EOF", 5);
      break;
    case SCAND_ATTACHMENT_JPEG:
      ok = tail_has(tail, tail_len, "\xff\xd9", 2);
      break;
    case SCAND_ATTACHMENT_PNG:
      ok = tail_has(tail, tail_len, "IEND", 4);
      break;
    case SCAND_ATTACHMENT_TIFF: {
      guint64 ifd = tiff_first_ifd(head, head_len);
      ok = ifd >= 8 && ifd + 2 <= size;
      break;
    }
  }
  if (!ok)
    *why = g_strdup_printf("%s that is cut short (its end is missing)", kind_name(kind));
  return ok;
}

/* ---- GMime -------------------------------------------------------------- */

static void mail_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    g_mime_init();
    g_once_init_leave(&once, 1);
  }
}

static void attachment_free(ScandAttachment *a) {
  g_free(a->filename);
  g_free(a->mime_type);
  g_free(a);
}

/* Header text fit for facts, logs and templates: valid UTF-8, no control
 * characters, at most 998 bytes. */
static char *clean_text(const char *text) {
  if (!text)
    return NULL;
  g_autofree char *valid = g_utf8_make_valid(text, -1);
  GString *s = g_string_new(NULL);
  for (const char *p = valid; *p && s->len < 998; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
      g_string_append_c(s, ' ');
    else
      g_string_append_unichar(s, c);
  }
  return g_string_free(s, FALSE);
}

/* The decoded first bytes of a part (up to cap). */
static gsize part_head(GMimePart *part, guchar *buf, gsize cap) {
  GMimeDataWrapper *content = g_mime_part_get_content(part);
  GMimeStream *raw = content ? g_mime_data_wrapper_get_stream(content) : NULL;
  if (!raw)
    return 0;
  g_mime_stream_reset(raw);
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(raw);
  GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
  if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      enc == GMIME_CONTENT_ENCODING_UUENCODE) {
    g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(enc, FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
  }
  gsize n = 0;
  while (n < cap) {
    ssize_t r = g_mime_stream_read(filtered, (char *) buf + n, cap - n);
    if (r <= 0)
      break;
    n += (gsize) r;
  }
  g_mime_stream_reset(raw);
  return n;
}

static gboolean name_has_suffix(const char *name, const char *suffix) {
  gsize n = strlen(name), s = strlen(suffix);
  return n > s && g_ascii_strcasecmp(name + n - s, suffix) == 0;
}

static void skip(ScandReceivedMail *mail, const char *filename, const char *mime, const char *why) {
  g_autofree char *name = clean_text(filename ? filename : mime);
  g_ptr_array_add(mail->skipped, g_strdup_printf("%s: %s", name, why));
}

/* The kind a part says it is, by its declared type, else (generic types
 * only) by its name. FALSE when it does not claim to be a document. */
static gboolean claimed_kind(const char *mime, const char *filename, ScandAttachmentKind *kind) {
  for (guint i = 0; i < G_N_ELEMENTS(declared_types); i++)
    if (strcmp(mime, declared_types[i].mime) == 0) {
      *kind = declared_types[i].kind;
      return TRUE;
    }
  gboolean generic = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(generic_types); i++)
    generic |= strcmp(mime, generic_types[i]) == 0;
  for (guint i = 0; generic && filename && i < G_N_ELEMENTS(extensions); i++)
    if (name_has_suffix(filename, extensions[i].ext)) {
      *kind = extensions[i].kind;
      return TRUE;
    }
  return FALSE;
}

static void consider_part(ScandReceivedMail *mail, GMimePart *part, guint index) {
  GMimeObject *obj = GMIME_OBJECT(part);
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  g_autofree char *mime_raw = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
  g_autofree char *mime = g_ascii_strdown(mime_raw, -1);
  const char *filename = g_mime_part_get_filename(part);
  GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
  gboolean attachment = disp && g_mime_content_disposition_is_attachment(disp);
  if (!filename && !attachment && (g_str_has_prefix(mime, "text/") || g_str_has_prefix(mime, "multipart/")))
    return; /* the body */
  guchar head[HEAD_BYTES];
  gsize n = part_head(part, head, sizeof head);
  for (guint i = 0; filename && i < G_N_ELEMENTS(executable_extensions); i++)
    if (name_has_suffix(filename, executable_extensions[i])) {
      skip(mail, filename, mime, "an executable (by its name): not taken");
      return;
    }
  if (looks_executable(head, n)) {
    skip(mail, filename, mime, "an executable (by its content): not taken");
    return;
  }
  ScandAttachmentKind kind;
  if (!claimed_kind(mime, filename, &kind)) {
    g_autofree char *why = g_strdup_printf("not a document (%s): not taken", mime);
    skip(mail, filename, mime, why);
    return;
  }
  if (!scand_attachment_magic_matches(kind, head, n)) {
    g_autofree char *why = g_strdup_printf("declared %s but the content is not one: not taken", kind_name(kind));
    skip(mail, filename, mime, why);
    return;
  }
  if (!filename && !attachment && (disp || g_mime_object_get_content_id(obj))) {
    skip(mail, filename, mime, "an inline image without a name (a logo?): not taken");
    return;
  }
  ScandAttachment *a = g_new0(ScandAttachment, 1);
  a->part = index;
  a->filename = clean_text(filename);
  a->mime_type = g_strdup(mime);
  a->kind = kind;
  g_ptr_array_add(mail->attachments, a);
}

static void walk(ScandReceivedMail *mail, GMimeObject *obj, guint depth) {
  if (GMIME_IS_MULTIPART(obj)) {
    if (depth >= MAX_DEPTH) {
      skip(mail, NULL, "multipart", "nested too deeply: not looked into");
      return;
    }
    int count = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
    for (int i = 0; i < count; i++)
      walk(mail, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    skip(mail, NULL, "message/rfc822", "a forwarded message: its attachments are not taken");
  } else if (GMIME_IS_PART(obj)) {
    consider_part(mail, GMIME_PART(obj), mail->leaves++);
  }
}

static void read_headers(ScandReceivedMail *mail) {
  mail->subject = clean_text(g_mime_message_get_subject(mail->message));
  mail->message_id = clean_text(g_mime_message_get_message_id(mail->message));
  InternetAddressList *from = g_mime_message_get_from(mail->message);
  for (int i = 0; from && i < internet_address_list_length(from); i++) {
    InternetAddress *a = internet_address_list_get_address(from, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(a))
      continue;
    mail->from_address = clean_text(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
    const char *name = internet_address_get_name(a);
    mail->from_name = name && *name ? clean_text(name) : NULL;
    break;
  }
}

ScandReceivedMail *scand_received_mail_open_fd(int fd, GError **error) {
  mail_init();
  g_autoptr(GMimeStream) stream = g_mime_stream_fs_new(fd);
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, TRUE);
  GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
  if (!message) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "not a mail message");
    return NULL;
  }
  ScandReceivedMail *mail = g_new0(ScandReceivedMail, 1);
  mail->stream = g_steal_pointer(&stream);
  mail->message = message;
  mail->attachments = g_ptr_array_new_with_free_func((GDestroyNotify) attachment_free);
  mail->skipped = g_ptr_array_new_with_free_func(g_free);
  read_headers(mail);
  GMimeObject *body = g_mime_message_get_mime_part(message);
  if (body)
    walk(mail, body, 0);
  return mail;
}

ScandReceivedMail *scand_received_mail_open(const char *path, GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    scand_fs_error_errno(error, errno, "cannot open %s", path);
    return NULL;
  }
  return scand_received_mail_open_fd(fd, error);
}

void scand_received_mail_free(ScandReceivedMail *mail) {
  if (!mail)
    return;
  g_clear_object(&mail->message);
  g_clear_object(&mail->stream);
  g_free(mail->subject);
  g_free(mail->from_address);
  g_free(mail->from_name);
  g_free(mail->message_id);
  g_ptr_array_unref(mail->attachments);
  g_ptr_array_unref(mail->skipped);
  g_free(mail);
}

const char *scand_received_mail_get_subject(ScandReceivedMail *mail) {
  return mail->subject;
}

const char *scand_received_mail_get_from_address(ScandReceivedMail *mail) {
  return mail->from_address;
}

const char *scand_received_mail_get_from_name(ScandReceivedMail *mail) {
  return mail->from_name;
}

const char *scand_received_mail_get_message_id(ScandReceivedMail *mail) {
  return mail->message_id;
}

GPtrArray *scand_received_mail_get_attachments(ScandReceivedMail *mail) {
  return mail->attachments;
}

GPtrArray *scand_received_mail_get_skipped(ScandReceivedMail *mail) {
  return mail->skipped;
}

/* The leaf part number index of the message, or NULL. */
static GMimePart *find_leaf(GMimeObject *obj, guint *left, guint depth) {
  if (GMIME_IS_MULTIPART(obj)) {
    int count = depth < MAX_DEPTH ? g_mime_multipart_get_count(GMIME_MULTIPART(obj)) : 0;
    for (int i = 0; i < count; i++) {
      GMimePart *p = find_leaf(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), left, depth + 1);
      if (p)
        return p;
    }
    return NULL;
  }
  if (!GMIME_IS_PART(obj) || GMIME_IS_MESSAGE_PART(obj))
    return NULL;
  if ((*left)-- == 0)
    return GMIME_PART(obj);
  return NULL;
}

/* Reads head and tail of a written file and checks it is complete. */
static gboolean check_written(int fd, ScandAttachmentKind kind, const char *name, GError **error) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return scand_fs_error_errno(error, errno, "%s", name);
  guchar head[HEAD_BYTES], tail[TAIL_BYTES];
  ssize_t h = pread(fd, head, sizeof head, 0);
  off_t from = st.st_size > (off_t) sizeof tail ? st.st_size - (off_t) sizeof tail : 0;
  ssize_t t = pread(fd, tail, sizeof tail, from);
  g_autofree char *why = NULL;
  if (h < 0 || t < 0)
    return scand_fs_error_errno(error, errno, "cannot read back %s", name);
  if (!scand_attachment_complete(kind, head, (gsize) h, tail, (gsize) t, (guint64) st.st_size, &why)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", name, why);
    return FALSE;
  }
  return TRUE;
}

gboolean scand_received_mail_save_attachment(ScandReceivedMail *mail, const ScandAttachment *a, const char *dest,
                                             guint64 max_bytes, GError **error) {
  guint left = a->part;
  GMimeObject *body = g_mime_message_get_mime_part(mail->message);
  GMimePart *part = body ? find_leaf(body, &left, 0) : NULL;
  const char *name = a->filename ? a->filename : a->mime_type;
  GMimeDataWrapper *content = part ? g_mime_part_get_content(part) : NULL;
  if (!content) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s: no such part in the message", name);
    return FALSE;
  }
  g_autofree char *tmp = g_strdup_printf("%s.part", dest);
  int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return scand_fs_error_errno(error, errno, "cannot create %s", tmp);
  g_autoptr(GMimeStream) out = g_mime_stream_fs_new(fd); /* closes fd */
  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), TRUE);
  ssize_t written = g_mime_data_wrapper_write_to_stream(content, out);
  gboolean ok = written >= 0 && g_mime_stream_flush(out) == 0;
  if (!ok)
    scand_fs_error_errno(error, errno ? errno : EIO, "cannot write %s", tmp);
  else if (max_bytes && (guint64) written > max_bytes) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: larger than %" G_GUINT64_FORMAT " bytes", name, max_bytes);
    ok = FALSE;
  } else {
    ok = check_written(fd, a->kind, name, error);
  }
  g_clear_object(&out);
  if (ok && scand_fs_commit(tmp, dest, error))
    return TRUE;
  unlink(tmp);
  return FALSE;
}
