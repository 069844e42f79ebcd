/*
 * zone.c: zones (see zone.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/xml.h"
#include "object.h"
#include "zone.h"

/* zone.xsd's STATE: oned's ENABLED/DISABLED; marketd zones are enabled. */
enum { ZONE_ENABLED = 0 };

typedef struct {
	int id;
	char *name;
	int state;
	mkt_template *tmpl;
} zone;

static void zone_clear(zone *z)
{
	free(z->name);
	mkt_template_free(z->tmpl);
	memset(z, 0, sizeof(*z));
}

static int zone_parse_row(const mkt_store_row *row, void *payload)
{
	zone *z = payload;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, c;
	int ret;

	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		return ret;
	root = xmlDocGetRootElement(doc);
	z->id = row->oid;
	z->name = mkt_strdup(row->name);
	z->state = row->state;
	if ((c = mkt_xml_child(root, "TEMPLATE")))
		ret = mkt_template_parse_xml_node(&z->tmpl, c);
	else
		z->tmpl = mkt_template_new();
	xmlFreeDoc(doc);
	return ret;
}

static int zone_load(mkt_core *core, int id, zone *z)
{
	int ret = mkt_store_load(core->store, MKT_TABLE_ZONE, id, zone_parse_row, z);

	if (ret < 0)
		zone_clear(z);
	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE, "Error getting zone [%d].", id);
	return ret;
}

/* zone.xsd: ID NAME STATE TEMPLATE SERVER_POOL.  marketd runs no Raft
 * servers: the pool is empty, as oned's for a zone without HA. */
static void zone_format(const zone *z, mkt_buf *b)
{
	mkt_buf_add(b, "<ZONE>");
	mkt_buf_add_elem_int(b, "ID", z->id);
	mkt_buf_add_elem(b, "NAME", z->name);
	mkt_buf_add_elem_int(b, "STATE", z->state);
	mkt_template_format_xml(z->tmpl, b, NULL);
	mkt_buf_add(b, "<SERVER_POOL></SERVER_POOL></ZONE>");
}

static int zone_save(mkt_core *core, const zone *z, mkt_store_op op)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_store_row row = { .oid = z->id, .name = z->name, .uid = MKT_ONEADMIN_UID,
			      .gid = MKT_ONEADMIN_GID, .parent = -1, .state = z->state };
	int ret;

	zone_format(z, &b);
	row.body = mkt_buf_cstr(&b);
	ret = mkt_store_write(core->store, MKT_TABLE_ZONE, op, &row);
	mkt_buf_free(&b);
	return ret;
}

/* The template a zone keeps: ENDPOINT, an http(s) URL, is required. */
static int zone_check_template(const mkt_template *t)
{
	const char *ep = mkt_template_get(t, "ENDPOINT");

	if (!ep || !*ep)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "No ENDPOINT in template: a zone "
				     "needs the URL of its marketd's XML-RPC API");
	if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "ENDPOINT '%s' is not an http:// "
				     "or https:// URL", ep);
	return 0;
}

static int zone_check_name(mkt_core *core, const char *name, int self)
{
	int ret, other;

	if ((ret = mkt_object_validate_name(name)) < 0)
		return ret;
	if (mkt_store_lookup_name(core->store, MKT_TABLE_ZONE, name, -1, &other) == 0 &&
	    other != self)
		return mkt_error_set(MKT_EEXISTS, MKT_ERR_CORE, "NAME is already taken by ZONE %d",
				     other);
	return 0;
}

static int no_row(const mkt_store_row *row, void *payload)
{
	(void)row;
	(void)payload;
	return 0;
}

/* Ids from 1 up (0 is oned's first zone), past zones made with a fixed id
 * (a master's own ZONE_ID) that the id counter has not seen. */
static int zone_next_id(mkt_core *core, int *out)
{
	int ret;

	do {
		if ((ret = mkt_store_next_oid(core->store, MKT_TABLE_ZONE, 1, out)) < 0)
			return ret;
		ret = mkt_store_load(core->store, MKT_TABLE_ZONE, *out, no_row, NULL);
	} while (ret == 0);
	mkt_error_clear();
	return ret == MKT_ENOTFOUND ? 0 : ret;
}

int mkt_zone_bootstrap(mkt_core *core, int zone_id, const char *endpoint)
{
	zone z = { 0 };
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = zone_load(core, zone_id, &z)) != MKT_ENOTFOUND)
		goto cleanup;
	z.id = zone_id;
	z.name = zone_id == 0 ? mkt_strdup("OpenNebula") : mkt_asprintf("zone%d", zone_id);
	z.tmpl = mkt_template_new();
	mkt_template_set(z.tmpl, "ENDPOINT", endpoint);
	if ((ret = zone_save(core, &z, MKT_STORE_INSERT)) == 0)
		mkt_log(MKT_LOG_INFO, "core", "created zone %d \"%s\" (%s)", z.id, z.name, endpoint);

 cleanup:
	zone_clear(&z);
	return mkt_core_end(core, ret == MKT_ENOTFOUND ? 0 : ret);
}

int mkt_zone_allocate(mkt_core *core, const mkt_principal *who, const char *tmpl_text,
		      int *out_id)
{
	zone z = { 0 };
	const char *name;
	int ret;

	if ((ret = mkt_principal_require_admin(who, "CREATE", "ZONE", -1)) < 0)
		return ret;
	if ((ret = mkt_template_parse(&z.tmpl, tmpl_text)) < 0)
		return ret;
	if (!(name = mkt_template_get(z.tmpl, "NAME")) || !*name) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "No NAME in template for Zone.");
		goto cleanup;
	}
	z.name = mkt_strdup(name);
	mkt_template_remove(z.tmpl, "NAME");
	if ((ret = zone_check_template(z.tmpl)) < 0)
		goto cleanup;
	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = zone_check_name(core, z.name, -1)) == 0 &&
	    (ret = zone_next_id(core, &z.id)) == 0 &&
	    (ret = zone_save(core, &z, MKT_STORE_INSERT)) == 0)
		*out_id = z.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	zone_clear(&z);
	return ret;
}

int mkt_zone_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	zone z = { 0 };
	int ret;

	(void)who;                /* every user reads zones (oned's default ACL) */
	if ((ret = zone_load(core, id, &z)) < 0)
		return ret;
	zone_format(&z, &b);
	*out_xml = mkt_buf_steal(&b);
	zone_clear(&z);
	return 0;
}

int mkt_zone_update(mkt_core *core, const mkt_principal *who, int id, const char *tmpl_text,
		    int merge)
{
	mkt_template *t = NULL;
	zone z = { 0 };
	int ret;

	if ((ret = mkt_principal_require_admin(who, "MANAGE", "ZONE", id)) < 0 ||
	    (ret = mkt_template_parse(&t, tmpl_text)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = zone_load(core, id, &z)) < 0)
		goto end;
	if (merge) {
		mkt_template_merge(z.tmpl, t);
	} else {
		mkt_template_free(z.tmpl);
		z.tmpl = MKT_STEAL(t);
	}
	if ((ret = zone_check_template(z.tmpl)) == 0)
		ret = zone_save(core, &z, MKT_STORE_UPDATE);
 end:
	ret = mkt_core_end(core, ret);

 cleanup:
	mkt_template_free(t);
	zone_clear(&z);
	return ret;
}

int mkt_zone_rename(mkt_core *core, const mkt_principal *who, int id, const char *name)
{
	zone z = { 0 };
	int ret;

	if ((ret = mkt_principal_require_admin(who, "MANAGE", "ZONE", id)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = zone_load(core, id, &z)) == 0 &&
	    (ret = zone_check_name(core, name, id)) == 0) {
		free(z.name);
		z.name = mkt_strdup(name);
		ret = zone_save(core, &z, MKT_STORE_UPDATE);
	}
	zone_clear(&z);
	return mkt_core_end(core, ret);
}

int mkt_zone_delete(mkt_core *core, const mkt_principal *who, int id)
{
	zone z = { 0 };
	int ret;

	if ((ret = mkt_principal_require_admin(who, "ADMIN", "ZONE", id)) < 0)
		return ret;
	if (id == core->conf->zone_id)
		return mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "Zone %d is this zone: it cannot "
				     "be deleted from itself", id);
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = zone_load(core, id, &z)) == 0)
		ret = zone_save(core, &z, MKT_STORE_DELETE);
	zone_clear(&z);
	return mkt_core_end(core, ret);
}

static int zone_pool_row(mkt_core *core, const mkt_store_row *row, mkt_buf *b, void *payload)
{
	zone z = { 0 };
	int ret;

	(void)core;
	(void)payload;
	if ((ret = zone_parse_row(row, &z)) == 0)
		zone_format(&z, b);
	zone_clear(&z);
	return ret;
}

int mkt_zone_pool(mkt_core *core, const mkt_principal *who, char **out_xml)
{
	mkt_store_query q;

	mkt_store_query_init(&q);
	return mkt_core_pool(core, MKT_TABLE_ZONE, &q, "ZONE_POOL", NULL, zone_pool_row,
			     (void *)who, out_xml);
}

int mkt_zone_raft_status(mkt_core *core, long long fedlog_index, char **out_xml)
{
	/* oned's solo server: SERVER_ID -1, STATE 3 (SOLO), LEADER_ID -1. */
	*out_xml = mkt_asprintf("<RAFT><SERVER_ID>-1</SERVER_ID><STATE>3</STATE><TERM>0</TERM>"
				"<INDEX>%lld</INDEX><COMMIT>%lld</COMMIT><LEADER_ID>-1</LEADER_ID>"
				"<FEDLOG_INDEX>%lld</FEDLOG_INDEX></RAFT>",
				fedlog_index, fedlog_index, fedlog_index);
	return 0;
}
