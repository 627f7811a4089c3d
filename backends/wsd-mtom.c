/* A streaming multipart/related reader for MTOM replies (see wsd-mtom.h).
 *
 * Bytes not yet understood wait in m->pending, which never holds more than
 * one piece fed plus a delimiter's length: body bytes are handed on as soon
 * as they cannot be the start of a delimiter. */
#include "backends/wsd-mtom.h"
#include "scand/base/error.h"

#include <string.h>

#define MIME_VALUE_MAX 1024
#define BOUNDARY_MAX 200
#define LINE_MAX_LEN 1024

typedef enum {
  ST_PREAMBLE,   /* before the first delimiter */
  ST_DELIM_LINE, /* after a delimiter: "--" closes, else padding to the line end */
  ST_HEADERS,    /* a part's headers */
  ST_BODY,       /* a part's body */
  ST_EPILOGUE,   /* after the closing delimiter */
} State;

typedef enum {
  PART_ROOT,
  PART_IMAGE,
  PART_SKIP, /* a further attachment: WS-Scan sends one image per reply */
} PartKind;

struct WsdMtom {
  const WsdMtomSink *sink;
  gpointer user;
  char *delim; /* "--" boundary */
  gsize delim_len;
  char *start_id; /* the root part's Content-ID (start parameter), or NULL */
  State state;
  GByteArray *pending;
  guint parts;
  PartKind kind;
  gboolean base64;
  gint b64_state;
  guint b64_save;
  GByteArray *root;
  gboolean root_seen;
  gboolean image_seen;
  char *image_id;
  guint64 image_bytes;
};

/* ---- header values ---------------------------------------------------------- */

/* Reads a quoted string at *p (after the opening quote) into out. */
static void read_quoted(const char **p, GString *out) {
  const char *s = *p;
  while (*s && *s != '"') {
    if (*s == '\\' && s[1])
      s++;
    if (out->len < MIME_VALUE_MAX)
      g_string_append_c(out, *s);
    s++;
  }
  *p = *s ? s + 1 : s;
}

char *wsd_mime_param(const char *value, const char *name) {
  if (!value)
    return NULL;
  const char *p = strchr(value, ';');
  gsize want = strlen(name);
  while (p && *p) {
    while (*p == ';' || g_ascii_isspace(*p))
      p++;
    const char *key = p;
    while (*p && *p != '=' && *p != ';')
      p++;
    const char *key_end = p;
    while (key_end > key && g_ascii_isspace(key_end[-1]))
      key_end--;
    if (*p != '=')
      continue;
    p++;
    while (g_ascii_isspace(*p))
      p++;
    g_autoptr(GString) v = g_string_new(NULL);
    if (*p == '"') {
      p++;
      read_quoted(&p, v);
    } else {
      while (*p && *p != ';' && !g_ascii_isspace(*p) && v->len < MIME_VALUE_MAX)
        g_string_append_c(v, *p++);
    }
    while (*p && *p != ';')
      p++;
    if ((gsize) (key_end - key) == want && g_ascii_strncasecmp(key, name, want) == 0)
      return g_string_free(g_steal_pointer(&v), FALSE);
  }
  return NULL;
}

/* A Content-ID without white space and angle brackets. Newly allocated. */
static char *content_id_bare(const char *id) {
  g_autofree char *s = g_strstrip(g_strdup(id ? id : ""));
  gsize n = strlen(s);
  if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
    return g_strndup(s + 1, n - 2);
  return g_steal_pointer(&s);
}

/* ---- the parser -------------------------------------------------------------- */

WsdMtom *wsd_mtom_new(const char *content_type, const WsdMtomSink *sink, gpointer user, GError **error) {
  if (!content_type || g_ascii_strncasecmp(content_type, "multipart/", 10) != 0) {
    const char *ct = content_type ? content_type : "none";
    g_autofree char *shown = g_utf8_make_valid(ct, MIN(strlen(ct), 80));
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "reply is %s, not multipart", shown);
    return NULL;
  }
  g_autofree char *boundary = wsd_mime_param(content_type, "boundary");
  gboolean ok = boundary && *boundary && strlen(boundary) <= BOUNDARY_MAX;
  for (const char *c = boundary; ok && *c; c++)
    ok = (guchar) *c >= 0x20 && *c != 0x7f;
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "multipart reply without a usable boundary parameter");
    return NULL;
  }
  WsdMtom *m = g_new0(WsdMtom, 1);
  m->sink = sink;
  m->user = user;
  m->delim = g_strconcat("--", boundary, NULL);
  m->delim_len = strlen(m->delim);
  g_autofree char *start = wsd_mime_param(content_type, "start");
  m->start_id = start ? content_id_bare(start) : NULL;
  m->pending = g_byte_array_new();
  m->root = g_byte_array_new();
  return m;
}

void wsd_mtom_free(WsdMtom *m) {
  if (!m)
    return;
  g_free(m->delim);
  g_free(m->start_id);
  g_byte_array_unref(m->pending);
  g_byte_array_unref(m->root);
  g_free(m->image_id);
  g_free(m);
}

const GByteArray *wsd_mtom_root(const WsdMtom *m) {
  return m->root;
}

const char *wsd_mtom_image_id(const WsdMtom *m) {
  return m->image_id;
}

guint64 wsd_mtom_image_bytes(const WsdMtom *m) {
  return m->image_bytes;
}

static void consume(WsdMtom *m, gsize n) {
  g_byte_array_remove_range(m->pending, 0, (guint) MIN(n, m->pending->len));
}

/* Where the delimiter starts in pending, or -1. */
static gssize find_delim(const WsdMtom *m) {
  if (m->pending->len < m->delim_len)
    return -1;
  const guint8 *hit = memmem(m->pending->data, m->pending->len, m->delim, m->delim_len);
  return hit ? hit - m->pending->data : -1;
}

/* Hands part bytes on: the root is kept, the image goes to the sink. */
static gboolean emit(WsdMtom *m, const guint8 *data, gsize len, GError **error) {
  if (len == 0 || m->kind == PART_SKIP)
    return TRUE;
  g_autofree guint8 *decoded = NULL;
  if (m->base64) {
    decoded = g_malloc(len / 4 * 3 + 3);
    len = g_base64_decode_step((const char *) data, len, decoded, &m->b64_state, &m->b64_save);
    data = decoded;
  }
  if (m->kind == PART_ROOT) {
    if (m->root->len + len > WSD_MTOM_ROOT_MAX) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM root part over %d bytes", WSD_MTOM_ROOT_MAX);
      return FALSE;
    }
    g_byte_array_append(m->root, data, (guint) len);
    return TRUE;
  }
  m->image_bytes += len;
  return m->sink->write(data, len, m->user, error);
}

/* The headers of a part (text up to the blank line): decides its kind and
 * starts the image sink. */
static gboolean part_begin(WsdMtom *m, const char *headers, GError **error) {
  g_autofree char *ctype = NULL, *cid = NULL, *cte = NULL;
  g_auto(GStrv) lines = g_strsplit(headers, "\n", -1);
  char **slot = NULL; /* the header a continuation line extends */
  for (guint i = 0; lines[i]; i++) {
    char *line = g_strchomp(lines[i]);
    if ((line[0] == ' ' || line[0] == '\t') && slot) {
      char *joined = g_strconcat(*slot, " ", line, NULL);
      g_free(*slot);
      *slot = g_strstrip(joined);
      continue;
    }
    char *colon = strchr(line, ':');
    slot = NULL;
    if (!colon)
      continue;
    *colon = '\0';
    if (g_ascii_strcasecmp(g_strstrip(line), "Content-Type") == 0)
      slot = &ctype;
    else if (g_ascii_strcasecmp(line, "Content-ID") == 0)
      slot = &cid;
    else if (g_ascii_strcasecmp(line, "Content-Transfer-Encoding") == 0)
      slot = &cte;
    if (slot) {
      g_free(*slot);
      *slot = g_strdup(g_strstrip(colon + 1));
    }
  }
  m->parts++;
  g_autofree char *id = cid ? content_id_bare(cid) : NULL;
  gboolean is_root = !m->root_seen && (m->start_id ? g_strcmp0(id, m->start_id) == 0 : m->parts == 1);
  m->kind = is_root ? PART_ROOT : m->image_seen ? PART_SKIP : PART_IMAGE;
  m->base64 = FALSE;
  m->b64_state = 0;
  m->b64_save = 0;
  if (cte && g_ascii_strcasecmp(cte, "base64") == 0) {
    m->base64 = TRUE;
  } else if (cte && g_ascii_strcasecmp(cte, "binary") != 0 && g_ascii_strcasecmp(cte, "8bit") != 0 &&
             g_ascii_strcasecmp(cte, "7bit") != 0) {
    g_autofree char *shown = g_utf8_make_valid(cte, MIN(strlen(cte), 40));
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM part %u: Content-Transfer-Encoding %s not supported",
                m->parts, shown);
    return FALSE;
  }
  if (m->kind == PART_ROOT)
    m->root_seen = TRUE;
  if (m->kind != PART_IMAGE)
    return TRUE;
  m->image_seen = TRUE;
  m->image_id = g_steal_pointer(&id);
  return m->sink->begin(ctype, m->user, error);
}

/* Index just past the blank line ending the headers at the start of pending,
 * and the length of the header text; -1 when not yet there. */
static gssize headers_end(const WsdMtom *m, gsize *text_len) {
  const guint8 *d = m->pending->data;
  gsize n = m->pending->len;
  if (n >= 1 && d[0] == '\n') {
    *text_len = 0;
    return 1;
  }
  if (n >= 2 && d[0] == '\r' && d[1] == '\n') {
    *text_len = 0;
    return 2;
  }
  for (gsize i = 0; i + 1 < n; i++) {
    if (d[i] != '\n')
      continue;
    if (d[i + 1] == '\n') {
      *text_len = i;
      return (gssize) i + 2;
    }
    if (i + 2 < n && d[i + 1] == '\r' && d[i + 2] == '\n') {
      *text_len = i;
      return (gssize) i + 3;
    }
  }
  return -1;
}

typedef enum {
  STEP_MORE,     /* need more bytes */
  STEP_PROGRESS, /* changed state; go on */
  STEP_ERROR,
} Step;

static Step step_delim_line(WsdMtom *m, GError **error) {
  const guint8 *d = m->pending->data;
  gsize n = m->pending->len;
  if (n < 2)
    return STEP_MORE;
  if (d[0] == '-' && d[1] == '-') {
    m->state = ST_EPILOGUE;
    g_byte_array_set_size(m->pending, 0);
    return STEP_PROGRESS;
  }
  const guint8 *nl = memchr(d, '\n', n);
  gsize limit = nl ? (gsize) (nl - d) : n;
  for (gsize i = 0; i < limit; i++)
    if (d[i] != ' ' && d[i] != '\t' && d[i] != '\r') {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM reply: text after a boundary delimiter");
      return STEP_ERROR;
    }
  if (!nl) {
    if (n > LINE_MAX_LEN) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM reply: boundary line too long");
      return STEP_ERROR;
    }
    return STEP_MORE;
  }
  consume(m, limit + 1);
  m->state = ST_HEADERS;
  return STEP_PROGRESS;
}

static Step step_headers(WsdMtom *m, GError **error) {
  gsize text_len = 0;
  gssize end = headers_end(m, &text_len);
  if (end < 0) {
    if (m->pending->len > WSD_MTOM_HEADERS_MAX) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM part headers over %d bytes", WSD_MTOM_HEADERS_MAX);
      return STEP_ERROR;
    }
    return STEP_MORE;
  }
  g_autofree char *text = g_strndup((const char *) m->pending->data, text_len);
  consume(m, (gsize) end);
  m->state = ST_BODY;
  return part_begin(m, text, error) ? STEP_PROGRESS : STEP_ERROR;
}

static Step step_body(WsdMtom *m, GError **error) {
  gssize at = find_delim(m);
  const guint8 *d = m->pending->data;
  if (at < 0) {
    /* Keep what could be a line break and the start of a delimiter. */
    gsize keep = m->delim_len + 1;
    if (m->pending->len <= keep)
      return STEP_MORE;
    gsize out = m->pending->len - keep;
    if (!emit(m, d, out, error))
      return STEP_ERROR;
    consume(m, out);
    return STEP_MORE;
  }
  gsize data_end = (gsize) at;
  if (data_end >= 2 && d[data_end - 2] == '\r' && d[data_end - 1] == '\n')
    data_end -= 2;
  else if (data_end >= 1 && d[data_end - 1] == '\n')
    data_end -= 1;
  if (!emit(m, d, data_end, error))
    return STEP_ERROR;
  consume(m, (gsize) at + m->delim_len);
  m->state = ST_DELIM_LINE;
  return STEP_PROGRESS;
}

static Step step(WsdMtom *m, GError **error) {
  switch (m->state) {
    case ST_PREAMBLE: {
      gssize at = find_delim(m);
      if (at < 0) {
        if (m->pending->len > m->delim_len)
          consume(m, m->pending->len - m->delim_len);
        return STEP_MORE;
      }
      consume(m, (gsize) at + m->delim_len);
      m->state = ST_DELIM_LINE;
      return STEP_PROGRESS;
    }
    case ST_DELIM_LINE:
      return step_delim_line(m, error);
    case ST_HEADERS:
      return step_headers(m, error);
    case ST_BODY:
      return step_body(m, error);
    case ST_EPILOGUE:
    default:
      g_byte_array_set_size(m->pending, 0);
      return STEP_MORE;
  }
}

gboolean wsd_mtom_feed(WsdMtom *m, const void *data, gsize len, GError **error) {
  if (m->state == ST_EPILOGUE)
    return TRUE;
  g_byte_array_append(m->pending, data, (guint) len);
  for (;;) {
    Step s = step(m, error);
    if (s == STEP_ERROR)
      return FALSE;
    if (s == STEP_MORE)
      return TRUE;
  }
}

gboolean wsd_mtom_finish(WsdMtom *m, GError **error) {
  if (m->state != ST_EPILOGUE) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "MTOM reply ended before its closing boundary (%u part%s begun, %" G_GUINT64_FORMAT " image bytes)",
                m->parts, m->parts == 1 ? "" : "s", m->image_bytes);
    return FALSE;
  }
  if (!m->root_seen || m->root->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM reply without a SOAP root part%s",
                m->start_id ? " (no part has the Content-ID of its start parameter)" : "");
    return FALSE;
  }
  if (!m->image_seen) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "MTOM reply without an image part");
    return FALSE;
  }
  return TRUE;
}
