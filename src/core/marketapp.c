/*
 * marketapp.c: MarketPlaceApp objects.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/xml.h"
#include "common/util.h"
#include "image.h"
#include "market.h"
#include "marketapp.h"

static const char *const type_names[MKT_APP_TYPE_LAST] = {
	[MKT_APP_UNKNOWN] = "UNKNOWN",
	[MKT_APP_IMAGE] = "IMAGE",
	[MKT_APP_VMTEMPLATE] = "VMTEMPLATE",
	[MKT_APP_SERVICE_TEMPLATE] = "SERVICE_TEMPLATE",
	[MKT_APP_SERVICE] = "SERVICE",
};

static const char *const state_names[MKT_APP_STATE_LAST] = {
	[MKT_APP_INIT] = "INIT", [MKT_APP_READY] = "READY", [MKT_APP_LOCKED] = "LOCKED",
	[MKT_APP_ERROR] = "ERROR", [MKT_APP_DISABLED] = "DISABLED",
};

/* Attributes that only the daemon and drivers set (oned's parse_template). */
static const char *const reserved_attrs[] = {
	"ZONE_ID", "SOURCE", "SIZE", "MD5", "FORMAT", "REGTIME", "ORIGIN_ID",
};

int mkt_app_type_parse(const char *s, int *out)
{
	int i;

	for (i = MKT_APP_IMAGE; i < MKT_APP_TYPE_LAST; i++) {
		if (!strcasecmp(s, type_names[i])) {
			*out = i;
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
			     "TYPE must be IMAGE, VMTEMPLATE, SERVICE_TEMPLATE or SERVICE, not '%s'", s);
}

const char *mkt_app_type_name(int type)
{
	return type >= 0 && type < MKT_APP_TYPE_LAST ? type_names[type] : "UNKNOWN";
}

const char *mkt_app_state_name(int state)
{
	return state >= 0 && state < MKT_APP_STATE_LAST ? state_names[state] : "UNKNOWN";
}

const char *mkt_app_import_source(const mkt_app *a)
{
	const char *src = mkt_template_value(a->obj.tmpl, "IMPORT_SOURCE");

	return src ? src : mkt_template_value(a->obj.tmpl, "PATH");
}

static void app_free(mkt_object *obj)
{
	mkt_app *a = (mkt_app *)obj;

	mkt_object_clear(&a->obj);
	free(a->origin_id);
	free(a->source);
	free(a->md5);
	free(a->description);
	free(a->version);
	free(a->format);
	free(a->apptemplate64);
	free(a->market_name);
	free(a);
}

static int app_parse(mkt_object **out, xmlNodePtr root)
{
	mkt_app *a = mkt_calloc(1, sizeof(*a));
	static const char *const ints[] = { "ZONE_ID", "MARKETPLACE_ID", "STATE", "TYPE", "SIZE" };
	long long v[5];
	int ret;

	if ((ret = mkt_object_parse_common(&a->obj, root)) < 0 ||
	    (ret = mkt_xml_children_long(root, ints, 5, v)) < 0)
		goto cleanup;
	a->zone_id = (int)v[0];
	a->market_id = (int)v[1];
	a->state = (int)v[2];
	a->type = (int)v[3];
	a->size_mb = v[4];
	if ((ret = mkt_xml_child_long(root, "REGTIME", &a->regtime)) < 0)
		goto cleanup;
	a->origin_id = mkt_xml_child_text(root, "ORIGIN_ID");
	a->source = mkt_xml_child_text(root, "SOURCE");
	a->md5 = mkt_xml_child_text(root, "MD5");
	a->description = mkt_xml_child_text(root, "DESCRIPTION");
	a->version = mkt_xml_child_text(root, "VERSION");
	a->format = mkt_xml_child_text(root, "FORMAT");
	a->apptemplate64 = mkt_xml_child_text(root, "APPTEMPLATE64");
	a->market_name = mkt_xml_child_text(root, "MARKETPLACE");
	*out = &a->obj;
	a = NULL;

 cleanup:
	if (a)
		app_free(&a->obj);
	return ret;
}

static void app_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			 mkt_buf *b)
{
	const mkt_app *a = (const mkt_app *)obj;

	mkt_buf_add(b, "<MARKETPLACEAPP>");
	mkt_object_format_head(obj, b);
	mkt_object_format_lock(obj, b);
	mkt_buf_add_elem_int(b, "REGTIME", a->regtime);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_buf_add_elem_int(b, "ZONE_ID", a->zone_id);
	mkt_buf_add_elem(b, "ORIGIN_ID", a->origin_id);
	mkt_buf_add_elem(b, "SOURCE", a->source);
	mkt_buf_add_elem(b, "MD5", a->md5);
	mkt_buf_add_elem_int(b, "SIZE", a->size_mb);
	mkt_buf_add_elem(b, "DESCRIPTION", a->description);
	mkt_buf_add_elem(b, "VERSION", a->version);
	mkt_buf_add_elem(b, "FORMAT", a->format);
	mkt_buf_add_elem(b, "APPTEMPLATE64", a->apptemplate64);
	mkt_buf_add_elem_int(b, "MARKETPLACE_ID", a->market_id);
	mkt_buf_add_elem(b, "MARKETPLACE", a->market_name);
	mkt_buf_add_elem_int(b, "STATE", a->state);
	mkt_buf_add_elem_int(b, "TYPE", a->type);
	mkt_object_format_perms(obj, b);
	mkt_template_format_xml(obj->tmpl, b, NULL);
	if (mode != MKT_FORMAT_STORE)
		mkt_object_format_progress(core, MKT_TABLE_APP, obj->id, b);
	mkt_buf_add(b, "</MARKETPLACEAPP>");
}

static void app_row(const mkt_object *obj, mkt_store_row *row)
{
	const mkt_app *a = (const mkt_app *)obj;

	row->parent = a->market_id;
	row->state = a->state;
}

/* DESCRIPTION, VERSION and APPTEMPLATE64 live both in the template and as
 * top-level fields; the template is where users change them. */
static void refresh_fields(mkt_app *a)
{
	static const struct { const char *attr; size_t off; } fields[] = {
		{ "DESCRIPTION", offsetof(mkt_app, description) },
		{ "VERSION", offsetof(mkt_app, version) },
		{ "APPTEMPLATE64", offsetof(mkt_app, apptemplate64) },
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = mkt_template_get(a->obj.tmpl, fields[i].attr);
		char **field = (char **)((char *)a + fields[i].off);

		if (v) {
			free(*field);
			*field = mkt_strdup(v);
		}
	}
}

static void strip_reserved(mkt_template *tmpl)
{
	size_t i;

	for (i = 0; i < sizeof(reserved_attrs) / sizeof(reserved_attrs[0]); i++)
		mkt_template_remove(tmpl, reserved_attrs[i]);
}

static int app_update(mkt_core *core, mkt_object *obj, mkt_template *tmpl)
{
	mkt_app *a = (mkt_app *)obj;
	mkt_template *old = obj->tmpl;

	strip_reserved(tmpl);
	obj->tmpl = tmpl;
	refresh_fields(a);
	obj->tmpl = old;
	return 0;
}

const mkt_class mkt_app_class = {
	.xml_name = "MARKETPLACEAPP",
	.human_name = "marketplaceapp",
	.table = MKT_TABLE_APP,
	.name_per_owner = 1,
	.lockable = 1,
	.body_is_view = 1,
	.parse = app_parse,
	.format = app_format,
	.free = app_free,
	.row = app_row,
	.renamed = NULL,
	.update = app_update,
};

/* The market an app goes into: it must exist, be usable by @who, take
 * uploads (APP_ACTIONS create), be enabled and belong to this zone. */
static int check_market(mkt_core *core, const mkt_principal *who, int market_id,
			mkt_market **out)
{
	const mkt_market_mad_conf *conf;
	mkt_object *obj = NULL;
	mkt_market *m;
	int ret;

	ret = mkt_object_get(core, who, &mkt_market_class, market_id, MKT_AUTH_USE, 0, &obj);
	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "Cannot find associated MARKETPLACE ID = %d", market_id);
	if (ret < 0)
		return ret;
	m = (mkt_market *)obj;
	if ((ret = mkt_market_get_mad_conf(core, m, &conf)) < 0)
		goto cleanup;
	if (!(conf->app_actions & MKT_APP_ACTION_CREATE)) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "Create disabled for market: %s",
				    obj->name);
		goto cleanup;
	}
	if (m->state != MKT_MARKET_ENABLED) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "Marketplace %s is disabled",
				    obj->name);
		goto cleanup;
	}
	if (m->zone_id != core->conf->zone_id) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Marketplace %d is in zone %d, not in this zone (%d): apps are "
				    "uploaded into it only from its own zone", obj->id, m->zone_id,
				    core->conf->zone_id);
		goto cleanup;
	}
	*out = m;
	obj = NULL;

 cleanup:
	mkt_object_free(&mkt_market_class, obj);
	return ret;
}

/* An IMAGE app uploaded from an image: the image must exist, be usable by
 * the caller and be READY, or the upload would read a partial file. */
static int check_origin_image(mkt_core *core, const mkt_principal *who, const char *origin)
{
	mkt_object *obj = NULL;
	long long id;
	int ret;

	if (mkt_util_parse_long(origin, &id) < 0 || id < 0 || id > 0x7fffffff)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "ORIGIN_ID must be the id of an image, not '%s' "
				     "(or give IMPORT_SOURCE or PATH)", origin);
	ret = mkt_object_get(core, who, &mkt_image_class, (int)id, MKT_AUTH_USE, 0, &obj);
	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "ORIGIN_ID %lld: image %lld does not exist", id, id);
	if (ret == 0 && ((mkt_image *)obj)->state != MKT_IMAGE_READY)
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "image %lld is %s, not READY: it cannot be uploaded",
				    id, mkt_image_state_name(((mkt_image *)obj)->state));
	mkt_object_free(&mkt_image_class, obj);
	return ret;
}

/* Which content an app will have, decided once: a source (checked against
 * what the caller may read) or the image ORIGIN_ID (checked in the
 * transaction by check_origin_image).  Both at once would leave one of
 * them unchecked or unused, so that is refused. */
static int check_content(const mkt_principal *who, const mkt_app *a, const char *origin)
{
	const char *src = mkt_app_import_source(a);
	int ret;

	if (!src && !origin)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "Missing ORIGIN_ID for the MARKETPLACEAPP "
				     "(or IMPORT_SOURCE/PATH naming the content to upload)");
	if (a->type != MKT_APP_IMAGE)
		return 0;
	if (src && origin && strcmp(origin, "-1"))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "give either ORIGIN_ID (an image) or IMPORT_SOURCE/PATH as the "
				     "content of an IMAGE app, not both");
	if ((ret = mkt_object_check_source(who, mkt_template_get(a->obj.tmpl, "IMPORT_SOURCE"))) < 0)
		return ret;
	return mkt_object_check_source(who, mkt_template_get(a->obj.tmpl, "PATH"));
}

int mkt_app_allocate(mkt_core *core, const mkt_principal *who, const char *text,
		     int market_id, int *out_id)
{
	mkt_app *a = mkt_calloc(1, sizeof(*a));
	mkt_market *m = NULL;
	const char *name, *type, *origin;
	int ret;

	if ((ret = mkt_template_parse_any(&a->obj.tmpl, text)) < 0)
		goto cleanup;
	name = mkt_template_get(a->obj.tmpl, "NAME");
	if ((ret = mkt_object_validate_name(name)) < 0)
		goto cleanup;
	a->obj.name = mkt_strdup(name);
	mkt_template_remove(a->obj.tmpl, "NAME");
	a->type = MKT_APP_IMAGE;
	if ((type = mkt_template_get(a->obj.tmpl, "TYPE")) &&
	    (ret = mkt_app_type_parse(type, &a->type)) < 0)
		goto cleanup;
	if (a->type == MKT_APP_SERVICE) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "SERVICE apps are the plans of a broker's catalog, made by its "
				    "market's monitor: they cannot be allocated");
		goto cleanup;
	}
	origin = mkt_template_value(a->obj.tmpl, "ORIGIN_ID");
	a->origin_id = mkt_strdup(origin ? origin : "-1");
	if ((ret = check_content(who, a, origin)) < 0)
		goto cleanup;
	mkt_template_remove(a->obj.tmpl, "TYPE");
	strip_reserved(a->obj.tmpl);
	if (!mkt_template_get(a->obj.tmpl, "VERSION"))
		mkt_template_set(a->obj.tmpl, "VERSION", "0.0");
	refresh_fields(a);

	a->obj.uid = who->uid;
	a->obj.gid = who->gid;
	a->obj.uname = mkt_strdup(who->uname);
	a->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&a->obj);
	a->regtime = (long long)time(NULL);
	a->zone_id = core->conf->zone_id;
	/* An image waits LOCKED for its upload; templates are ready at once. */
	a->state = a->type == MKT_APP_IMAGE ? MKT_APP_LOCKED : MKT_APP_READY;

	/* An IMAGE app's upload is a transfer of its owner's. */
	if ((ret = mkt_core_transfer_admit(core, who, a->type == MKT_APP_IMAGE)) < 0 ||
	    (ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = check_market(core, who, market_id, &m)) == 0) {
		a->market_id = market_id;
		a->market_name = mkt_strdup(m->obj.name);
	}
	if (ret == 0 && a->type == MKT_APP_IMAGE && !mkt_app_import_source(a))
		ret = check_origin_image(core, who, a->origin_id);
	if (ret == 0 &&
	    (ret = mkt_object_check_name(core, &mkt_app_class, a->obj.name, who->uid, -1)) == 0 &&
	    (ret = mkt_store_next_oid(core->store, MKT_TABLE_APP, 0, &a->obj.id)) == 0 &&
	    (ret = mkt_object_save(core, &mkt_app_class, &a->obj, MKT_STORE_INSERT)) == 0)
		*out_id = a->obj.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	mkt_object_free(&mkt_market_class, m ? &m->obj : NULL);
	app_free(&a->obj);
	return ret;
}

int mkt_app_delete(mkt_core *core, const mkt_principal *who, int id, char **out_mad)
{
	const mkt_market_mad_conf *conf = NULL;
	mkt_object *obj = NULL, *mobj = NULL;
	mkt_app *a;
	int ret;

	*out_mad = NULL;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_app_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	a = (mkt_app *)obj;
	if (a->zone_id != core->conf->zone_id) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Marketapp can only be deleted from zone %d", a->zone_id);
		goto cleanup;
	}
	/* Content stored by a driver is removed by that driver first; the app
	 * is dropped when it answers (oned's asynchronous delete).  A failed
	 * upload has no SOURCE, but one cut short by a crash may have stored
	 * its content all the same: its driver is asked too. */
	if (((a->source && *a->source) || (a->type == MKT_APP_IMAGE &&
					   a->state == MKT_APP_ERROR)) &&
	    mkt_object_load(core, &mkt_market_class, a->market_id, &mobj) == 0)
		conf = mkt_config_market_mad(core->conf, ((mkt_market *)mobj)->mad);
	/* Content a driver stored is only removed by that driver: a market
	 * whose driver cannot delete cannot lose apps (oned's rule). */
	if (conf && !(conf->app_actions & MKT_APP_ACTION_DELETE) && a->type == MKT_APP_IMAGE) {
		if (!a->source || !*a->source) {
			conf = NULL;         /* nothing known stored: just drop it */
		} else {
			ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
					    "Delete disabled for market: %s", mobj->name);
			goto cleanup;
		}
	}
	if (conf && a->type == MKT_APP_IMAGE) {
		a->state = MKT_APP_LOCKED;
		if ((ret = mkt_object_save(core, &mkt_app_class, obj, MKT_STORE_UPDATE)) == 0)
			*out_mad = mkt_strdup(((mkt_market *)mobj)->mad);
		goto cleanup;
	}
	ret = mkt_object_save(core, &mkt_app_class, obj, MKT_STORE_DELETE);

 cleanup:
	mkt_object_free(&mkt_market_class, mobj);
	mkt_object_free(&mkt_app_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_app_drop(mkt_core *core, int id)
{
	mkt_store_row row = { .oid = id };
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	ret = mkt_store_write(core->store, MKT_TABLE_APP, MKT_STORE_DELETE, &row);
	return mkt_core_end(core, ret);
}

/* oned's _import: SOURCE, MD5 and FORMAT non-empty and SIZE an integer. */
static int take_import_result(mkt_app *a, const mkt_template *result)
{
	static const char *const required[] = { "SOURCE", "MD5", "FORMAT", "SIZE" };
	long long size = 0;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = mkt_template_get(result, required[i]);

		if (!v || !*v)
			return mkt_error_set(MKT_EDRIVER, MKT_ERR_DRIVER,
					     "Missing app attributes: the driver gave no %s",
					     required[i]);
	}
	if (mkt_template_get_long(result, "SIZE", &size) < 0 || size < 0)
		return mkt_error_set(MKT_EDRIVER, MKT_ERR_DRIVER,
				     "Missing app attributes: SIZE '%s' is not a size in MB",
				     mkt_template_get(result, "SIZE"));
	free(a->source);
	free(a->md5);
	free(a->format);
	a->source = mkt_strdup(mkt_template_get(result, "SOURCE"));
	a->md5 = mkt_strdup(mkt_template_get(result, "MD5"));
	a->format = mkt_strdup(mkt_template_get(result, "FORMAT"));
	a->size_mb = size;
	if (mkt_template_get(result, "SHA256"))
		mkt_template_set(a->obj.tmpl, "SHA256", mkt_template_get(result, "SHA256"));
	return 0;
}

int mkt_app_import_done(mkt_core *core, int id, const mkt_template *result, const char *error)
{
	mkt_object *obj = NULL;
	mkt_app *a;
	char *msg = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	/* Gone meanwhile (deleted during its upload): nothing to record. */
	if ((ret = mkt_object_load(core, &mkt_app_class, id, &obj)) == MKT_ENOTFOUND) {
		mkt_error_clear();
		ret = 0;
		goto cleanup;
	}
	if (ret < 0)
		goto cleanup;
	a = (mkt_app *)obj;
	if (!error && take_import_result(a, result) < 0)
		error = msg = mkt_strdup(mkt_error_message());
	if (error) {
		char *text = mkt_asprintf("Error importing app into marketplace: %s", error);

		a->state = MKT_APP_ERROR;
		mkt_template_set(obj->tmpl, "ERROR", text);
		free(text);
	} else {
		a->state = MKT_APP_READY;
		mkt_template_remove(obj->tmpl, "ERROR");
	}
	ret = mkt_object_save(core, &mkt_app_class, obj, MKT_STORE_UPDATE);

 cleanup:
	free(msg);
	mkt_object_free(&mkt_app_class, obj);
	return mkt_core_end(core, ret);
}

static int app_interrupted(mkt_core *core, int app_id, const void *arg)
{
	return mkt_app_import_done(core, app_id, NULL, "interrupted: marketd stopped while its driver was working on it");
}

int mkt_app_recover(mkt_core *core)
{
	mkt_store_query q;
	int *ids = NULL;
	size_t i, n = 0, recovered = 0;
	int ret;

	/* Apps LOCKED at start-up were being uploaded when marketd stopped:
	 * nothing will finish them, so say so instead of leaving them stuck. */
	mkt_store_query_init(&q);
	q.state = MKT_APP_LOCKED;
	if ((ret = mkt_store_list_ids(core->store, MKT_TABLE_APP, &q, &ids, &n)) < 0)
		return ret;
	for (i = 0; i < n && ret == 0; i++) {
		mkt_object *obj = NULL;
		int here;

		/* Another zone's upload is that zone's to finish. */
		if ((ret = mkt_object_load(core, &mkt_app_class, ids[i], &obj)) < 0)
			break;
		here = ((mkt_app *)obj)->zone_id == core->conf->zone_id;
		mkt_object_free(&mkt_app_class, obj);
		if (!here)
			continue;
		ret = app_interrupted(core, ids[i], NULL);
		recovered++;
	}
	if (recovered)
		mkt_log(MKT_LOG_WARN, "core", "%zu app(s) were LOCKED at start-up: set to ERROR",
			recovered);
	free(ids);
	return ret;
}

int mkt_app_enable(mkt_core *core, const mkt_principal *who, int id, int enable)
{
	mkt_object *obj = NULL;
	mkt_app *a;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_app_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	a = (mkt_app *)obj;
	/* Only READY <-> DISABLED; other states are left alone (oned). */
	if (enable && a->state == MKT_APP_DISABLED)
		a->state = MKT_APP_READY;
	else if (!enable && a->state == MKT_APP_READY)
		a->state = MKT_APP_DISABLED;
	else
		goto cleanup;
	ret = mkt_object_save(core, &mkt_app_class, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(&mkt_app_class, obj);
	return mkt_core_end(core, ret);
}

/* ---- apps found by a market's monitor ------------------------------- */

/* A catalog's own name may hold what object names may not (real ones
 * do: 'Ubuntu "Noble" 24.04').  Where oned names such an entry
 * imported-<id>, the app takes a valid name made from it and keeps the
 * catalog's in CATALOG_NAME, by which DISK and ROLE references are
 * resolved too (see export.c). */
static int catalog_name(mkt_template *tmpl)
{
	const char *name = mkt_template_get(tmpl, "NAME");
	char *made;

	if (!name)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "the entry has no NAME");
	if (mkt_object_validate_name(name) == 0)
		return 0;
	if (!(made = mkt_object_make_name(name)))
		return MKT_EINVAL;     /* nothing usable: validate_name's message */
	mkt_error_clear();
	mkt_template_set(tmpl, "CATALOG_NAME", name);
	mkt_template_set(tmpl, "NAME", made);
	free(made);
	return 0;
}

/* What oned checks of an entry before taking it. */
static int check_catalog_entry(mkt_template *tmpl, int *type, long long *size,
			       long long *regtime)
{
	const char *t = mkt_template_get(tmpl, "TYPE");
	int ret;

	if ((ret = catalog_name(tmpl)) < 0)
		return ret;
	*type = MKT_APP_IMAGE;
	if (t && (ret = mkt_app_type_parse(t, type)) < 0)
		return ret;
	*size = 0;
	if (mkt_template_get(tmpl, "SIZE") &&
	    (mkt_template_get_long(tmpl, "SIZE", size) < 0 || *size < 0))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "SIZE '%s' is not a size in MB",
				     mkt_template_get(tmpl, "SIZE"));
	*regtime = (long long)time(NULL);
	if (mkt_template_get(tmpl, "REGTIME") &&
	    mkt_template_get_long(tmpl, "REGTIME", regtime) < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "REGTIME '%s' is not a time",
				     mkt_template_get(tmpl, "REGTIME"));
	return 0;
}

int mkt_app_set_catalog_entry(mkt_app *a, mkt_template *tmpl)
{
	static const struct { const char *attr; size_t off; } texts[] = {
		{ "SOURCE", offsetof(mkt_app, source) },
		{ "MD5", offsetof(mkt_app, md5) },
		{ "FORMAT", offsetof(mkt_app, format) },
	};
	long long size = 0, regtime = 0;
	int t = MKT_APP_IMAGE, ret;
	size_t i;

	if ((ret = check_catalog_entry(tmpl, &t, &size, &regtime)) < 0) {
		mkt_template_free(tmpl);
		return ret;
	}
	free(a->obj.name);
	a->obj.name = mkt_strdup(mkt_template_get(tmpl, "NAME"));
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char **field = (char **)((char *)a + texts[i].off);

		free(*field);
		*field = mkt_strdup(mkt_template_get(tmpl, texts[i].attr));
	}
	a->type = t;
	a->size_mb = size;
	a->regtime = regtime;
	free(a->origin_id);
	a->origin_id = mkt_strdup("-1");
	a->state = MKT_APP_READY;
	/* oned's from_template64: these live in fields, not in the template. */
	mkt_template_remove(tmpl, "NAME");
	mkt_template_remove(tmpl, "TYPE");
	strip_reserved(tmpl);
	if (!mkt_template_get(tmpl, "VERSION"))
		mkt_template_set(tmpl, "VERSION", "0.0");
	mkt_template_free(a->obj.tmpl);
	a->obj.tmpl = tmpl;
	refresh_fields(a);
	return 0;
}

/* ---- helpers for markets --------------------------------------------- */

/* Apply @fn to every app of a market, by id. */
static int each_app_in_market(mkt_core *core, int market_id,
			      int (*fn)(mkt_core *core, int app_id, const void *arg),
			      const void *arg)
{
	int *ids = NULL;
	size_t i, n = 0;
	int ret = mkt_object_child_ids(core, MKT_TABLE_APP, market_id, &ids, &n);

	for (i = 0; i < n && ret == 0; i++)
		ret = fn(core, ids[i], arg);
	free(ids);
	return ret;
}

static int set_market_name(mkt_core *core, int app_id, const void *arg)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_object_load(core, &mkt_app_class, app_id, &obj)) < 0)
		return ret;
	free(((mkt_app *)obj)->market_name);
	((mkt_app *)obj)->market_name = mkt_strdup(arg);
	ret = mkt_object_save(core, &mkt_app_class, obj, MKT_STORE_UPDATE);
	mkt_object_free(&mkt_app_class, obj);
	return ret;
}

static int drop_app(mkt_core *core, int app_id, const void *arg)
{
	mkt_store_row row = { .oid = app_id };

	return mkt_store_write(core->store, MKT_TABLE_APP, MKT_STORE_DELETE, &row);
}

int mkt_app_rename_market(mkt_core *core, int market_id, const char *market_name)
{
	return each_app_in_market(core, market_id, set_market_name, market_name);
}

int mkt_app_drop_market(mkt_core *core, int market_id)
{
	return each_app_in_market(core, market_id, drop_app, NULL);
}
