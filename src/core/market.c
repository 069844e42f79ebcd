/*
 * market.c: MarketPlace objects.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/xml.h"
#include "catalog.h"
#include "market.h"
#include "marketapp.h"
#include "user.h"

static void market_free(mkt_object *obj)
{
	mkt_market *m = (mkt_market *)obj;

	mkt_object_clear(&m->obj);
	free(m->mad);
	free(m);
}

static int market_parse(mkt_object **out, xmlNodePtr root)
{
	mkt_market *m = mkt_calloc(1, sizeof(*m));
	long long v;
	int ret;

	if ((ret = mkt_object_parse_common(&m->obj, root)) < 0)
		goto cleanup;
	m->mad = mkt_xml_child_text(root, "MARKET_MAD");
	if ((ret = mkt_xml_child_long(root, "STATE", &v)) < 0)
		goto cleanup;
	m->state = (int)v;
	if ((ret = mkt_xml_child_long(root, "ZONE_ID", &v)) < 0)
		goto cleanup;
	m->zone_id = (int)v;
	if (mkt_xml_child_long(root, "TOTAL_MB", &m->total_mb) < 0 ||
	    mkt_xml_child_long(root, "FREE_MB", &m->free_mb) < 0 ||
	    mkt_xml_child_long(root, "USED_MB", &m->used_mb) < 0 || !m->mad) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "bad MARKETPLACE size or MARKET_MAD");
		goto cleanup;
	}
	*out = &m->obj;
	m = NULL;

 cleanup:
	if (m)
		market_free(&m->obj);
	return ret;
}

static void market_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			 mkt_buf *b)
{
	const mkt_market *m = (const mkt_market *)obj;

	mkt_buf_add(b, "<MARKETPLACE>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_buf_add_elem_int(b, "STATE", m->state);
	mkt_buf_add_elem(b, "MARKET_MAD", m->mad);
	mkt_buf_add_elem_int(b, "ZONE_ID", m->zone_id);
	mkt_buf_add_elem_int(b, "TOTAL_MB", m->total_mb);
	mkt_buf_add_elem_int(b, "FREE_MB", m->free_mb);
	mkt_buf_add_elem_int(b, "USED_MB", m->used_mb);
	/* The app list is derived from the app table at read time, so adding
	 * an app never rewrites its market (oned's quadratic import). */
	mkt_buf_add(b, "<MARKETPLACEAPPS>");
	if (mode != MKT_FORMAT_STORE)
		mkt_object_format_child_ids(core, MKT_TABLE_APP, obj->id, b);
	mkt_buf_add(b, "</MARKETPLACEAPPS>");
	mkt_object_format_perms(obj, b);
	mkt_template_format_xml(obj->tmpl, b, NULL);
	/* Only one.market.info: pools keep oned's schema. */
	if (mode == MKT_FORMAT_VIEW)
		mkt_catalog_format_status(core, obj->id, b);
	mkt_buf_add(b, "</MARKETPLACE>");
}

static int market_renamed(mkt_core *core, mkt_object *obj)
{
	return mkt_app_rename_market(core, obj->id, obj->name);
}

/* MARKET_MAD must name a configured driver and the template must carry
 * every attribute that driver requires (oned's set_market_mad). */
static int validate_mad(mkt_core *core, const mkt_template *tmpl, const char **out_mad)
{
	const mkt_market_mad_conf *conf;
	const char *mad = mkt_template_value(tmpl, "MARKET_MAD");
	size_t i;

	if (!mad)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "No marketplace driver (MARKET_MAD) in template.");
	if (!(conf = mkt_config_market_mad(core->conf, mad)))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "MARKET_MAD_CONF named \"%s\" is not defined in marketd.conf", mad);
	for (i = 0; i < conf->nrequired; i++) {
		if (!mkt_template_value(tmpl, conf->required[i]))
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					     "MarketPlace template is missing the \"%s\" attribute or it's empty.",
					     conf->required[i]);
	}
	*out_mad = mad;
	return 0;
}

static int market_update(mkt_core *core, mkt_object *obj, mkt_template *tmpl)
{
	mkt_market *m = (mkt_market *)obj;
	const char *mad;
	int ret;

	/* A replace that leaves MARKET_MAD out keeps the current driver. */
	if (!mkt_template_value(tmpl, "MARKET_MAD"))
		mkt_template_set(tmpl, "MARKET_MAD", m->mad);
	if ((ret = validate_mad(core, tmpl, &mad)) < 0)
		return ret;
	free(m->mad);
	m->mad = mkt_strdup(mad);
	return 0;
}

/* The s3 and osb markets' secrets (an access key id or a broker user is not
 * one, as in oned). */
static const char *const market_secrets[] = { "SECRET_ACCESS_KEY", "BROKER_PASSWORD", NULL };

const mkt_class mkt_market_class = {
	.xml_name = "MARKETPLACE",
	.human_name = "marketplace",
	.table = MKT_TABLE_MARKET,
	.name_per_owner = 0,
	.lockable = 0,
	.body_is_view = 0,
	.parse = market_parse,
	.format = market_format,
	.free = market_free,
	.row = NULL,
	.renamed = market_renamed,
	.update = market_update,
	.secrets = market_secrets,
};

int mkt_market_get_mad_conf(mkt_core *core, const mkt_market *m, const mkt_market_mad_conf **out)
{
	const mkt_market_mad_conf *conf = mkt_config_market_mad(core->conf, m->mad);

	if (!conf)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "MARKET_MAD_CONF named \"%s\" is not defined in marketd.conf", m->mad);
	*out = conf;
	return 0;
}

int mkt_market_allocate(mkt_core *core, const mkt_principal *who, const char *text, int *out_id)
{
	mkt_market *m = mkt_calloc(1, sizeof(*m));
	const char *name, *mad;
	int ret;

	if (!who->admin) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				    "Not authorized to perform CREATE MARKETPLACE.");
		goto cleanup;
	}
	if ((ret = mkt_template_parse_any(&m->obj.tmpl, text)) < 0)
		goto cleanup;
	name = mkt_template_get(m->obj.tmpl, "NAME");
	if ((ret = mkt_object_validate_name(name)) < 0 ||
	    (ret = validate_mad(core, m->obj.tmpl, &mad)) < 0)
		goto cleanup;
	m->obj.name = mkt_strdup(name);
	m->mad = mkt_strdup(mad);
	mkt_template_remove(m->obj.tmpl, "NAME");
	m->obj.uid = who->uid;
	m->obj.gid = who->gid;
	m->obj.uname = mkt_strdup(who->uname);
	m->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&m->obj);
	m->state = MKT_MARKET_ENABLED;
	m->zone_id = core->conf->zone_id;

	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = mkt_object_check_name(core, &mkt_market_class, m->obj.name, who->uid, -1)) == 0 &&
	    (ret = mkt_store_next_oid(core->store, MKT_TABLE_MARKET, MKT_FIRST_USER_MARKET,
				      &m->obj.id)) == 0 &&
	    (ret = mkt_object_save(core, &mkt_market_class, &m->obj, MKT_STORE_INSERT)) == 0)
		*out_id = m->obj.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	market_free(&m->obj);
	return ret;
}

int mkt_market_create_default(mkt_core *core)
{
	static const unsigned char perms[MKT_PERM_BITS] = { 1, 1, 0, 1, 0, 0, 1, 0, 0 };
	mkt_market *m;
	int ret;

	if (!mkt_config_market_mad(core->conf, MKT_MARKET_PUBLIC_MAD)) {
		mkt_log(MKT_LOG_INFO, "core", "no \"%s\" driver in the configuration: "
			"market 0 (OpenNebula Public) not created", MKT_MARKET_PUBLIC_MAD);
		return 0;
	}
	m = mkt_calloc(1, sizeof(*m));
	m->obj.id = 0;
	m->obj.name = mkt_strdup(MKT_MARKET_PUBLIC_NAME);
	m->obj.tmpl = mkt_template_new();
	mkt_template_set(m->obj.tmpl, "DESCRIPTION", "OpenNebula Systems MarketPlace");
	mkt_template_set(m->obj.tmpl, "MARKET_MAD", MKT_MARKET_PUBLIC_MAD);
	m->mad = mkt_strdup(MKT_MARKET_PUBLIC_MAD);
	m->obj.uid = MKT_ONEADMIN_UID;
	m->obj.gid = MKT_ONEADMIN_GID;
	memcpy(m->obj.perms, perms, sizeof(perms));
	m->state = MKT_MARKET_ENABLED;
	m->zone_id = core->conf->zone_id;
	if ((ret = mkt_user_name(core, MKT_ONEADMIN_UID, &m->obj.uname)) < 0 ||
	    (ret = mkt_group_name(core, MKT_ONEADMIN_GID, &m->obj.gname)) < 0 ||
	    (ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	ret = mkt_object_save(core, &mkt_market_class, &m->obj, MKT_STORE_INSERT);
	if ((ret = mkt_core_end(core, ret)) == 0)
		mkt_log(MKT_LOG_INFO, "core", "created market 0 (%s)", MKT_MARKET_PUBLIC_NAME);

 cleanup:
	market_free(&m->obj);
	return ret;
}

int mkt_market_delete(mkt_core *core, const mkt_principal *who, int id)
{
	const mkt_market_mad_conf *conf = NULL;
	mkt_object *obj = NULL;
	int ret, napps = 0;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_market_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0 ||
	    (ret = mkt_object_count_children(core, MKT_TABLE_APP, id, &napps)) < 0)
		goto cleanup;
	conf = mkt_config_market_mad(core->conf, ((mkt_market *)obj)->mad);
	if (napps > 0 && !(conf && conf->is_public)) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Cannot delete marketplace. MarketPlace %d is not empty: it holds %d app(s).",
				    id, napps);
		goto cleanup;
	}
	/* A public catalog's apps are only a cache of the catalog. */
	if (napps > 0 && (ret = mkt_app_drop_market(core, id)) < 0)
		goto cleanup;
	ret = mkt_object_save(core, &mkt_market_class, obj, MKT_STORE_DELETE);

 cleanup:
	mkt_object_free(&mkt_market_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_market_enable(mkt_core *core, const mkt_principal *who, int id, int enable)
{
	const mkt_market_mad_conf *conf;
	mkt_object *obj = NULL;
	mkt_market *m;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_market_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	m = (mkt_market *)obj;
	m->state = enable ? MKT_MARKET_ENABLED : MKT_MARKET_DISABLED;
	/* oned drops a disabled market's apps; we do it only for public
	 * catalogs, which the next monitor re-imports: a private market's
	 * apps are user data and must survive a disable. */
	conf = mkt_config_market_mad(core->conf, m->mad);
	if (!enable && conf && conf->is_public && (ret = mkt_app_drop_market(core, id)) < 0)
		goto cleanup;
	ret = mkt_object_save(core, &mkt_market_class, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(&mkt_market_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_market_pool(mkt_core *core, const mkt_principal *who, char **out_xml)
{
	mkt_store_query q;

	mkt_store_query_init(&q);
	return mkt_object_pool(core, who, &mkt_market_class, &q, "MARKETPLACE_POOL", out_xml);
}
