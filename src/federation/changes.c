/*
 * changes.c: change lists as the zones send them to each other.
 *
 * A replicated body must arrive byte for byte (zones compare tables), so
 * it travels as escaped text, not as parsed-and-reserialised XML.
 */
#include <config.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "common/xml.h"
#include "federation_priv.h"

static const char *const op_names[] = {
	[MKT_STORE_INSERT] = "insert", [MKT_STORE_UPDATE] = "update",
	[MKT_STORE_DELETE] = "delete",
};

void fed_change_format(mkt_buf *b, const mkt_store_change *c)
{
	const mkt_store_row *r = &c->row;

	mkt_buf_printf(b, "<C I=\"%lld\" T=\"%s\" P=\"%s\" O=\"%d\"", c->idx,
		       mkt_store_table_name(c->table), op_names[c->op], r->oid);
	if (c->op == MKT_STORE_DELETE) {
		mkt_buf_add(b, "/>");
		return;
	}
	mkt_buf_add(b, " N=\"");
	mkt_buf_add_xml(b, r->name);
	mkt_buf_printf(b, "\" U=\"%d\" G=\"%d\" OU=\"%d\" GU=\"%d\" OO=\"%d\" PA=\"%d\" ST=\"%d\">",
		       r->uid, r->gid, r->owner_u, r->group_u, r->other_u, r->parent, r->state);
	mkt_buf_add_xml(b, r->body);
	mkt_buf_add(b, "</C>");
}

/* Integer attribute @name of @node; @dflt when absent, -1 error when bad. */
static int attr_long(xmlNodePtr node, const char *name, long long dflt, long long *out)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	int ret = 0;

	if (!v)
		*out = dflt;
	else if (mkt_util_parse_long((const char *)v, out) < 0)
		ret = -1;
	xmlFree(v);
	return ret;
}

static int parse_change(xmlNodePtr n, mkt_store_change *c)
{
	static const char *const ints[] = { "O", "U", "G", "OU", "GU", "OO", "PA", "ST" };
	long long v[8], idx;
	xmlChar *t = xmlGetProp(n, (const xmlChar *)"T"), *p = xmlGetProp(n, (const xmlChar *)"P");
	size_t i;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->table = mkt_store_table_by_name((const char *)t);
	c->op = (mkt_store_op)-1;
	for (i = 0; p && i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp((const char *)p, op_names[i]))
			c->op = (mkt_store_op)i;
	for (i = 0; i < 8; i++)
		if (attr_long(n, ints[i], i == 6 ? -1 : 0, &v[i]) < 0)
			ret = -1;
	if (attr_long(n, "I", 0, &idx) < 0)
		ret = -1;
	if (ret < 0 || (int)c->table < 0 || !mkt_store_table_replicated(c->table) ||
	    (int)c->op < 0 || v[0] < 0 || v[0] > 0x7fffffff) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "change with table '%s', operation "
				    "'%s': not a change of a replicated table",
				    t ? (const char *)t : "", p ? (const char *)p : "");
		goto cleanup;
	}
	c->idx = idx;
	c->row.oid = (int)v[0];
	c->row.uid = (int)v[1];
	c->row.gid = (int)v[2];
	c->row.owner_u = (int)v[3];
	c->row.group_u = (int)v[4];
	c->row.other_u = (int)v[5];
	c->row.parent = (int)v[6];
	c->row.state = (int)v[7];
	if (c->op != MKT_STORE_DELETE) {
		/* Owned by the document: freed with it in fed_batch_clear(). */
		c->row.name = (const char *)xmlGetProp(n, (const xmlChar *)"N");
		c->row.body = (const char *)xmlNodeGetContent(n);
		if (!c->row.name || !*c->row.name || !c->row.body || !*c->row.body)
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "change of %s %d without "
					    "a name or a body", t, c->row.oid);
	}

 cleanup:
	xmlFree(t);
	xmlFree(p);
	return ret;
}

int fed_batch_parse(fed_batch *out, const char *xml, size_t len, const char *root)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr r, n;
	long long zone, resync, more;
	size_t cap = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = mkt_xml_parse(&doc, xml, len)) < 0)
		return ret;
	out->doc = doc;
	r = xmlDocGetRootElement(doc);
	if (!r || strcmp((const char *)r->name, root)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "expected a %s document", root);
		goto cleanup;
	}
	if (attr_long(r, "FIRST", 0, &out->first) < 0 || attr_long(r, "LAST", 0, &out->last) < 0 ||
	    attr_long(r, "ZONE", 0, &zone) < 0 || attr_long(r, "RESYNC", 0, &resync) < 0 ||
	    attr_long(r, "MORE", 0, &more) < 0) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "%s with a malformed attribute", root);
		goto cleanup;
	}
	out->zone = (int)zone;
	out->resync = resync != 0;
	out->more = more != 0;
	for (n = r->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = mkt_realloc(out->v, cap * sizeof(*out->v));
		}
		if ((ret = parse_change(n, &out->v[out->n])) < 0) {
			/* Its strings, if any, are freed with the rest. */
			out->n++;
			goto cleanup;
		}
		out->n++;
	}

 cleanup:
	if (ret < 0)
		fed_batch_clear(out);
	return ret;
}

void fed_batch_clear(fed_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		xmlFree((xmlChar *)b->v[i].row.name);
		xmlFree((xmlChar *)b->v[i].row.body);
	}
	free(b->v);
	xmlFreeDoc(b->doc);
	memset(b, 0, sizeof(*b));
}
