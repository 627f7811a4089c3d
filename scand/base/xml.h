/* XML from the outside (scanners, SOAP peers), read safely with libxml2.
 *
 * Documents are parsed without network access, without a DTD (a document
 * that has one is refused: that is how "billion laughs" starts) and without
 * expanding entities, up to a size cap. Element names are matched by
 * namespace URI and local name, never by prefix. Messages quote device text
 * only through scand_xml_shown(). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define SCAND_XML_MAX (4 * 1024 * 1024)

/* Parses len bytes of data (at most SCAND_XML_MAX). what names the document
 * in messages ("ScannerStatus"). Fails with SCAND_ERROR_INVAL and one line:
 * too large, empty, malformed (with the line), has a DTD. Newly allocated. */
xmlDoc *scand_xml_parse(const char *data, gsize len, const char *what, GError **error);

/* The root element of doc when it is ns:name; else NULL with a message naming
 * what was found instead. */
xmlNode *scand_xml_root(xmlDoc *doc, const char *ns, const char *name, const char *what, GError **error);

/* TRUE when n is an element with this local name in namespace ns (NULL: any
 * namespace). */
gboolean scand_xml_is(const xmlNode *n, const char *ns, const char *name);

/* The first child element of n named ns:name, or NULL. */
xmlNode *scand_xml_child(const xmlNode *n, const char *ns, const char *name);

/* The element's text: its text and CDATA children only (entity references are
 * never expanded), at most 4 KiB, trimmed. Newly allocated. */
char *scand_xml_text(const xmlNode *n);

/* Outside text made fit for a one-line message: valid UTF-8, control
 * characters as '?', at most max bytes (then "…"). Newly allocated. */
char *scand_xml_shown(const char *text, gsize max);

G_END_DECLS
