/*
 * xml.c: libxml2 helpers.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "util.h"
#include "xml.h"

int mkt_xml_parse(xmlDocPtr *out, const char *text, size_t len)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int ret = 0;

	if (len > (size_t)INT32_MAX)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "malformed XML: document too large");
	/* A context per call keeps the error local to this thread's parse. */
	if (!(ctxt = xmlNewParserCtxt()))
		return mkt_error_set(MKT_ERROR, MKT_ERR_XML, "cannot create an XML parser");
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, "UTF-8",
				XML_PARSE_NONET | XML_PARSE_NOBLANKS |
				XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || !xmlDocGetRootElement(doc)) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char *msg = mkt_strdup(e && e->message ? e->message : "empty document");

		mkt_util_trim(msg);
		if (e && e->line)
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML,
					    "malformed XML: %s at line %d", msg, e->line);
		else
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "malformed XML: %s", msg);
		free(msg);
		xmlFreeDoc(doc);
		goto cleanup;
	}
	*out = doc;

 cleanup:
	/* libxml2 also copies each error (a warning of a parse that succeeds
	 * too) to the thread's last error, held until the next one. */
	xmlResetLastError();
	xmlFreeParserCtxt(ctxt);
	return ret;
}

xmlNodePtr mkt_xml_child(xmlNodePtr node, const char *name)
{
	xmlNodePtr c;

	for (c = node ? node->children : NULL; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	}
	return NULL;
}

char *mkt_xml_child_text(xmlNodePtr node, const char *name)
{
	xmlNodePtr c = mkt_xml_child(node, name);
	xmlChar *content;
	char *s;

	if (!c)
		return NULL;
	content = xmlNodeGetContent(c);
	s = mkt_strdup(content ? (const char *)content : "");
	xmlFree(content);
	return s;
}

int mkt_xml_child_long(xmlNodePtr node, const char *name, long long *out)
{
	char *text = mkt_xml_child_text(node, name);
	int ret;

	if (!text)
		return MKT_ENOTFOUND;
	ret = mkt_util_parse_long(text, out);
	if (ret < 0)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML,
				    "element %s is not an integer: '%s'", name, text);
	free(text);
	return ret;
}

int mkt_xml_children_long(xmlNodePtr node, const char *const *names, size_t n,
			  long long *out)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if ((ret = mkt_xml_child_long(node, names[i], &out[i])) == MKT_ENOTFOUND)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "%s lacks %s",
					     (const char *)node->name, names[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

#define ERRLOG_INTERVAL_MS 1000

/* @what is libxml2's message, which may quote the document: one line of
 * printable characters, as the log's lines are. */
static void errlog_line(mkt_xml_errlog *l, char *what)
{
	unsigned long n = 0;
	char line[256];
	int due;

	pthread_mutex_lock(&l->lock);
	due = mkt_log_limit(&l->limit, mkt_util_now_ms(), ERRLOG_INTERVAL_MS, &n);
	pthread_mutex_unlock(&l->lock);
	if (!due)
		return;
	mkt_util_printable(line, sizeof(line), mkt_util_trim(what));
	if (n > 1)
		mkt_log(MKT_LOG_DEBUG, "xml", "libxml2: %s (and %lu more since the last such line)",
			line, n - 1);
	else
		mkt_log(MKT_LOG_DEBUG, "xml", "libxml2: %s", line);
}

static void on_structured_error(void *data, xmlErrorPtr e)
{
	char msg[256];

	/* A parse with a context fails with its own message: ours through
	 * mkt_error, xmlrpc-c's as the fault it answers. */
	if (e && e->ctxt)
		return;
	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
	errlog_line(data, msg);
}

/* The older channel, printf-style and sometimes a line in pieces: each
 * piece counts as a line. */
static void on_generic_error(void *data, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*mkt_util_trim(msg))
		errlog_line(data, msg);
}

void mkt_xml_log_errors(mkt_xml_errlog *limiter)
{
	/* The handlers are per thread: the current one's, and the defaults
	 * that threads started later take. */
	xmlThrDefSetStructuredErrorFunc(limiter, on_structured_error);
	xmlThrDefSetGenericErrorFunc(limiter, on_generic_error);
	xmlSetStructuredErrorFunc(limiter, on_structured_error);
	xmlSetGenericErrorFunc(limiter, on_generic_error);
}
