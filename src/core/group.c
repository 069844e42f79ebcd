/*
 * group.c: groups (see user.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/xml.h"
#include "object.h"
#include "user.h"

typedef struct {
	int id;
	char *name;
	mkt_template *tmpl;
} group;

static void group_clear(group *g)
{
	free(g->name);
	mkt_template_free(g->tmpl);
	memset(g, 0, sizeof(*g));
}

static int group_parse_row(const mkt_store_row *row, void *payload)
{
	group *g = payload;
	xmlDocPtr doc = NULL;
	xmlNodePtr c;
	int ret;

	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		return ret;
	g->id = row->oid;
	g->name = mkt_strdup(row->name);
	if ((c = mkt_xml_child(xmlDocGetRootElement(doc), "TEMPLATE")))
		ret = mkt_template_parse_xml_node(&g->tmpl, c);
	else
		g->tmpl = mkt_template_new();
	xmlFreeDoc(doc);
	return ret;
}

static int group_load(mkt_core *core, int id, group *g)
{
	int ret = mkt_store_load(core->store, MKT_TABLE_GROUP, id, group_parse_row, g);

	/* A corrupt row leaves @g half filled: nothing for the caller. */
	if (ret < 0)
		group_clear(g);
	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE, "Error getting group [%d].", id);
	return ret;
}

static int group_save(mkt_core *core, const group *g, mkt_store_op op)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_store_row row = { .oid = g->id, .name = g->name, .uid = 0, .gid = g->id,
			      .parent = -1 };
	int ret;

	mkt_buf_add(&b, "<GROUP>");
	mkt_buf_add_elem_int(&b, "ID", g->id);
	mkt_buf_add_elem(&b, "NAME", g->name);
	mkt_template_format_xml(g->tmpl, &b, NULL);
	mkt_buf_add(&b, "</GROUP>");
	row.body = mkt_buf_cstr(&b);
	ret = mkt_store_write(core->store, MKT_TABLE_GROUP, op, &row);
	mkt_buf_free(&b);
	return ret;
}

int mkt_group_name(mkt_core *core, int gid, char **out)
{
	group g = { 0 };
	int ret = group_load(core, gid, &g);

	if (ret == 0)
		*out = MKT_STEAL(g.name);
	group_clear(&g);
	return ret;
}

/* group.xsd's order: ID NAME TEMPLATE USERS ADMINS, then for
 * one.group.info only the quota sets and DEFAULT_GROUP_QUOTAS (a pool
 * lists its QUOTAS apart).  marketd has no group admins: ADMINS is empty. */
static int group_format(mkt_core *core, const group *g, mkt_format_mode mode, mkt_buf *b)
{
	int *ids = NULL;
	size_t i, n = 0;
	int ret;

	if ((ret = mkt_user_members(core, g->id, &ids, &n)) < 0)
		return ret;
	mkt_buf_add(b, "<GROUP>");
	mkt_buf_add_elem_int(b, "ID", g->id);
	mkt_buf_add_elem(b, "NAME", g->name);
	mkt_template_format_xml(g->tmpl, b, NULL);
	mkt_buf_add(b, "<USERS>");
	for (i = 0; i < n; i++)
		mkt_buf_add_elem_int(b, "ID", ids[i]);
	mkt_buf_add(b, "</USERS><ADMINS></ADMINS>");
	if (mode == MKT_FORMAT_VIEW) {
		mkt_object_format_quotas(b);
		mkt_object_format_default_quotas(b, "DEFAULT_GROUP_QUOTAS");
	}
	mkt_buf_add(b, "</GROUP>");
	free(ids);
	return 0;
}

int mkt_group_insert(mkt_core *core, const char *name, int fixed_id, int *out_gid)
{
	group g = { 0 };
	int ret, other;

	if (mkt_store_lookup_name(core->store, MKT_TABLE_GROUP, name, -1, &other) == 0)
		return mkt_error_set(MKT_EEXISTS, MKT_ERR_CORE, "NAME is already taken by GROUP %d",
				     other);
	g.name = mkt_strdup(name);
	g.tmpl = mkt_template_new();
	if (fixed_id >= 0)
		g.id = fixed_id;
	else if ((ret = mkt_store_next_oid(core->store, MKT_TABLE_GROUP,
					   MKT_FIRST_USER_GROUP, &g.id)) < 0)
		goto cleanup;
	if ((ret = group_save(core, &g, MKT_STORE_INSERT)) == 0)
		*out_gid = g.id;

 cleanup:
	group_clear(&g);
	return ret;
}

int mkt_group_allocate(mkt_core *core, const mkt_principal *who, const char *name, int *out_gid)
{
	int ret;

	if ((ret = mkt_principal_require_admin(who, "CREATE", "GROUP", -1)) < 0 ||
	    (ret = mkt_object_validate_name(name)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	ret = mkt_group_insert(core, name, -1, out_gid);
	return mkt_core_end(core, ret);
}

int mkt_group_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	group g = { 0 };
	int ret;

	if (id == -1)
		id = who->gid;
	if ((ret = group_load(core, id, &g)) < 0)
		return ret;
	if (!who->admin && !mkt_principal_in_group(who, id)) {
		ret = mkt_principal_require_admin(who, "USE", "GROUP", id);
		goto cleanup;
	}
	if ((ret = group_format(core, &g, MKT_FORMAT_VIEW, &b)) == 0)
		*out_xml = mkt_buf_steal(&b);

 cleanup:
	mkt_buf_free(&b);
	group_clear(&g);
	return ret;
}

int mkt_group_delete(mkt_core *core, const mkt_principal *who, int id)
{
	group g = { 0 };
	int *ids = NULL;
	size_t n = 0;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = group_load(core, id, &g)) < 0 ||
	    (ret = mkt_principal_require_admin(who, "ADMIN", "GROUP", id)) < 0)
		goto cleanup;
	if (id < MKT_FIRST_USER_GROUP) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "System group %s cannot be deleted", g.name);
		goto cleanup;
	}
	if ((ret = mkt_user_members(core, id, &ids, &n)) < 0)
		goto cleanup;
	if (n > 0) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Group %d is not empty: move or delete its users first", id);
		goto cleanup;
	}
	ret = group_save(core, &g, MKT_STORE_DELETE);

 cleanup:
	free(ids);
	group_clear(&g);
	return mkt_core_end(core, ret);
}

static int group_pool_row(mkt_core *core, const mkt_store_row *row, mkt_buf *b, void *payload)
{
	const mkt_principal *who = payload;
	group g = { 0 };
	int ret;

	if (!who->admin && !mkt_principal_in_group(who, row->oid))
		return 0;
	if ((ret = group_parse_row(row, &g)) == 0 &&
	    (ret = group_format(core, &g, MKT_FORMAT_POOL, b)) == 0)
		mkt_object_format_pool_quotas(b, g.id);
	group_clear(&g);
	return ret;
}

int mkt_group_pool(mkt_core *core, const mkt_principal *who, char **out_xml)
{
	char *defaults = mkt_object_default_quotas("DEFAULT_GROUP_QUOTAS");
	mkt_store_query q;
	int ret;

	/* group_pool.xsd: each GROUP followed by its QUOTAS, then the defaults once. */
	mkt_store_query_init(&q);
	ret = mkt_core_pool(core, MKT_TABLE_GROUP, &q, "GROUP_POOL", defaults, group_pool_row, (void *)who,
			    out_xml);
	free(defaults);
	return ret;
}
