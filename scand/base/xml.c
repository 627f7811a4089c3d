/* Safe reading of outside XML (see xml.h). */
#include "scand/base/xml.h"
#include "scand/base/error.h"

#include <libxml/parser.h>
#include <string.h>

#define XML_TEXT_MAX 4096

char *scand_xml_shown(const char *text, gsize max) {
  gsize len = text ? strlen(text) : 0;
  gboolean cut = len > max;
  char *s = g_utf8_make_valid(text ? text : "", MIN(len, max));
  for (char *p = s; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '?';
  if (cut) {
    char *t = g_strconcat(s, "…", NULL);
    g_free(s);
    s = t;
  }
  return s;
}

gboolean scand_xml_is(const xmlNode *n, const char *ns, const char *name) {
  if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *) n->name, name) != 0)
    return FALSE;
  if (!ns)
    return TRUE;
  return n->ns && n->ns->href && strcmp((const char *) n->ns->href, ns) == 0;
}

xmlNode *scand_xml_child(const xmlNode *n, const char *ns, const char *name) {
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (scand_xml_is(c, ns, name))
      return c;
  return NULL;
}

char *scand_xml_text(const xmlNode *n) {
  GString *s = g_string_new(NULL);
  for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content && s->len < XML_TEXT_MAX)
      g_string_append(s, (const char *) c->content);
  if (s->len > XML_TEXT_MAX)
    g_string_truncate(s, XML_TEXT_MAX);
  return g_strstrip(g_string_free(s, FALSE));
}

xmlDoc *scand_xml_parse(const char *data, gsize len, const char *what, GError **error) {
  if (len > SCAND_XML_MAX) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: document too large (%" G_GSIZE_FORMAT " bytes)", what, len);
    return NULL;
  }
  if (len == 0 || !data) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: empty document", what);
    return NULL;
  }
  static gsize init = 0;
  if (g_once_init_enter(&init)) {
    xmlInitParser(); /* once, before threads may parse concurrently */
    g_once_init_leave(&init, 1);
  }
  g_autoptr(xmlDoc) doc = xmlReadMemory(data, (int) len, NULL, NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  if (!doc) {
    const xmlError *e = xmlGetLastError();
    g_autofree char *raw = g_strdup(e && e->message ? e->message : "not well-formed");
    g_autofree char *msg = scand_xml_shown(g_strchomp(raw), 200);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: malformed XML at line %d: %s", what, e ? e->line : 0, msg);
    return NULL;
  }
  /* The protocols read here never carry a DTD; one with entity declarations
   * is how "billion laughs" documents start. */
  if (doc->intSubset || doc->extSubset) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "%s: document has a DTD, which this protocol never uses; refused", what);
    return NULL;
  }
  return g_steal_pointer(&doc);
}

xmlNode *scand_xml_root(xmlDoc *doc, const char *ns, const char *name, const char *what, GError **error) {
  xmlNode *root = xmlDocGetRootElement(doc);
  if (root && scand_xml_is(root, ns, name))
    return root;
  g_autofree char *prefix =
      scand_xml_shown(root && root->ns && root->ns->prefix ? (const char *) root->ns->prefix : "", 40);
  g_autofree char *found = scand_xml_shown(root ? (const char *) root->name : "(none)", 60);
  g_autofree char *href =
      scand_xml_shown(root && root->ns && root->ns->href ? (const char *) root->ns->href : "(none)", 100);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: root element is <%s%s%s> in namespace %s, expected %s", what,
              prefix, *prefix ? ":" : "", found, href, name);
  return NULL;
}
