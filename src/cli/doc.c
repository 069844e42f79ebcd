/*
 * doc.c: libxml2 helpers for marketd's object and pool documents.
 */
#include <config.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#include "doc.h"

int mkt_doc_parse(xmlDocPtr *out, const char *text, const char *method,
		  const char *root)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr top;
	size_t len = text ? strlen(text) : 0;
	int ret = MKT_ERROR;

	*out = NULL;
	if (len == 0 || len > INT_MAX) {
		mkt_error_set(MKT_ERROR, MKT_ERR_XML,
			      "unexpected reply from marketd to %s: %s", method,
			      len ? "document too large" : "empty document");
		goto cleanup;
	}
	/* No network, no entity substitution, no DTD loading; HUGE only
	 * lifts the per-node size limits for big pools. */
	doc = xmlReadMemory(text, (int)len, "reply.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS |
			    XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			    XML_PARSE_HUGE);
	if (!doc) {
		const xmlError *err = xmlGetLastError();
		char *msg = mkt_strdup(err && err->message ? err->message : "parse error");
		size_t n = strlen(msg);

		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		mkt_error_set(MKT_ERROR, MKT_ERR_XML,
			      "unexpected reply from marketd to %s: malformed XML: %s",
			      method, msg);
		free(msg);
		goto cleanup;
	}
	if (doc->intSubset || doc->extSubset) {
		mkt_error_set(MKT_ERROR, MKT_ERR_XML,
			      "unexpected reply from marketd to %s: the document has a DTD",
			      method);
		goto cleanup;
	}
	top = xmlDocGetRootElement(doc);
	if (!top) {
		mkt_error_set(MKT_ERROR, MKT_ERR_XML,
			      "unexpected reply from marketd to %s: no root element",
			      method);
		goto cleanup;
	}
	if (root && strcmp(mkt_doc_name(top), root) != 0) {
		mkt_error_set(MKT_ERROR, MKT_ERR_XML,
			      "unexpected reply from marketd to %s: expected <%s>, got <%s>",
			      method, root, mkt_doc_name(top));
		goto cleanup;
	}
	*out = doc;
	doc = NULL;
	ret = 0;

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	return ret;
}

const char *mkt_doc_name(xmlNodePtr node)
{
	return node && node->name ? (const char *)node->name : "";
}

static int matches(xmlNodePtr n, const char *name, size_t len)
{
	return n->type == XML_ELEMENT_NODE &&
	       (!name || (strlen(mkt_doc_name(n)) == len &&
			  strncmp(mkt_doc_name(n), name, len) == 0));
}

xmlNodePtr mkt_doc_first(xmlNodePtr node, const char *name)
{
	xmlNodePtr n;

	if (!node)
		return NULL;
	for (n = node->children; n; n = n->next)
		if (matches(n, name, name ? strlen(name) : 0))
			return n;
	return NULL;
}

xmlNodePtr mkt_doc_next(xmlNodePtr node, const char *name)
{
	xmlNodePtr n;

	if (!node)
		return NULL;
	for (n = node->next; n; n = n->next)
		if (matches(n, name, name ? strlen(name) : 0))
			return n;
	return NULL;
}

xmlNodePtr mkt_doc_find(xmlNodePtr node, const char *path)
{
	while (node && path && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		xmlNodePtr n;

		for (n = node->children; n; n = n->next)
			if (matches(n, path, len))
				break;
		node = n;
		path = slash ? slash + 1 : NULL;
	}
	return node;
}

size_t mkt_doc_count(xmlNodePtr node, const char *name)
{
	size_t count = 0;
	xmlNodePtr n;

	for (n = mkt_doc_first(node, name); n; n = mkt_doc_next(n, name))
		count++;
	return count;
}

char *mkt_doc_text(xmlNodePtr node)
{
	xmlChar *content;
	char *s;

	if (!node)
		return mkt_strdup("");
	content = xmlNodeGetContent(node);
	s = mkt_strdup(content ? (const char *)content : "");
	xmlFree(content);
	return s;
}

char *mkt_doc_get(xmlNodePtr node, const char *path)
{
	xmlNodePtr n = mkt_doc_find(node, path);

	return n ? mkt_doc_text(n) : NULL;
}

char *mkt_doc_get_or(xmlNodePtr node, const char *path, const char *dflt)
{
	char *s = mkt_doc_get(node, path);

	if (!s || !*s) {
		free(s);
		return mkt_strdup(dflt);
	}
	return s;
}

int mkt_doc_get_long(xmlNodePtr node, const char *path, long long *out)
{
	char *s = mkt_doc_get(node, path);
	long long v;
	int ret = MKT_ENOTFOUND;

	if (s && *s) {
		ret = mkt_util_parse_long(s, &v) == 0 ? 0 : MKT_EINVAL;
		if (ret == 0)
			*out = v;
	}
	free(s);
	return ret;
}
