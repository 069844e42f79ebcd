/*
 * xml.h: the few libxml2 operations marketd needs, with its error discipline.
 *
 * Every document from outside (API templates, stored bodies, driver
 * replies) is read through mkt_xml_parse(), which never loads external
 * entities or DTDs and reports libxml2's own message on failure.
 */
#ifndef MKT_XML_H
#define MKT_XML_H

#include <pthread.h>
#include <libxml/tree.h>

#include "log.h"

/* Parse a document; MKT_EINVAL with "malformed XML: <libxml2 message>". */
int mkt_xml_parse(xmlDocPtr *out, const char *text, size_t len);

/* First element child of @node named @name (NULL if none). */
xmlNodePtr mkt_xml_child(xmlNodePtr node, const char *name);

/* Text of child @name, newly allocated (caller frees), or NULL if absent. */
char *mkt_xml_child_text(xmlNodePtr node, const char *name);

/* Integer value of child @name: 0, MKT_ENOTFOUND or MKT_EINVAL (error set
 * naming the element). */
int mkt_xml_child_long(xmlNodePtr node, const char *name, long long *out);

/* Integer values of the children @names[0..n-1] of @node into @out; every
 * one must be present (MKT_EINVAL naming the first missing or bad one). */
int mkt_xml_children_long(xmlNodePtr node, const char *const *names, size_t n,
			  long long *out);

/*
 * libxml2 reports a few errors (an encoding it cannot convert, an I/O
 * failure) through its process-wide handler rather than the parser's, and
 * that handler prints to stderr: any client could add lines there with
 * each request.  mkt_xml_log_errors() sends them to the log instead, at
 * DEBUG (the parse that met them fails with its own message), at most one
 * line a second and a count of the ones left out; errors of a parser
 * context are left to the parse's owner.  Call it before any
 * thread starts; @limiter must outlive every parse.
 */
typedef struct {
	pthread_mutex_t lock;
	mkt_log_limiter limit;
} mkt_xml_errlog;

#define MKT_XML_ERRLOG_INIT { PTHREAD_MUTEX_INITIALIZER, { 0, 0 } }

void mkt_xml_log_errors(mkt_xml_errlog *limiter);

#endif
