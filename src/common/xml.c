/*
 * xml.c: libxml2 helpers.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "alloc.h"
#include "error.h"
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
