/*
 * doc.h: reading the XML documents marketd returns (objects and pools).
 *
 * Replies are parsed with libxml2 without network access, without entity
 * expansion and rejecting any DTD.  Every accessor accepts a NULL node and
 * treats a missing element like an empty one, so odd replies never crash
 * the client.
 */
#ifndef MKT_DOC_H
#define MKT_DOC_H

#include <stddef.h>
#include <libxml/tree.h>

/*
 * Parse @text, the XML value of the reply to @method.  When @root is not
 * NULL the root element must have that name.  Returns 0 and the document
 * in *out (free with xmlFreeDoc), or MKT_ERROR with an "unexpected reply"
 * message.
 */
int mkt_doc_parse(xmlDocPtr *out, const char *text, const char *method,
		  const char *root);

/* The first element child of @node reached by @path ("A" or "A/B"), or
 * NULL. */
xmlNodePtr mkt_doc_find(xmlNodePtr node, const char *path);

/* The first element child of @node named @name (NULL: any), and the next
 * element sibling of @node with that name; NULL when none. */
xmlNodePtr mkt_doc_first(xmlNodePtr node, const char *name);
xmlNodePtr mkt_doc_next(xmlNodePtr node, const char *name);

/* Number of element children of @node named @name. */
size_t mkt_doc_count(xmlNodePtr node, const char *name);

/* The text of @node (CDATA included), malloc'ed; "" for NULL. */
char *mkt_doc_text(xmlNodePtr node);

/* The text at @path below @node, malloc'ed, or NULL when the element is
 * missing. */
char *mkt_doc_get(xmlNodePtr node, const char *path);

/* The text at @path, or @dflt when the element is missing or empty;
 * always malloc'ed. */
char *mkt_doc_get_or(xmlNodePtr node, const char *path, const char *dflt);

/* The integer at @path: 0, MKT_ENOTFOUND when missing or empty (out
 * untouched), MKT_EINVAL when not an integer. */
int mkt_doc_get_long(xmlNodePtr node, const char *path, long long *out);

/* The node's name as a C string ("" for NULL). */
const char *mkt_doc_name(xmlNodePtr node);

#endif
