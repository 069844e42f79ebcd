/*
 * export.c: apps exported with what they refer to (see export.h).
 */
#include <config.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "export.h"
#include "service.h"
#include "marketapp.h"
#include "vmtemplate.h"

typedef struct {
	mkt_core *core;
	const mkt_principal *who;
	int ds_id;
	char group[48];          /* EXPORT_GROUP of a multi-object export, or "" */
	int *images;
	size_t nimages;
} exporter;

/* An app another one names (DISK/ROLE APP=): in the same market, by name
 * (or by the name the monitor gave it when oneadmin had that name
 * already, or made from a catalog name names may not hold: then its
 * CATALOG_NAME must be @name), among the apps the caller may use; the
 * referring app's owner's wins, and any other choice must be the only one. */
static int find_app(exporter *x, const mkt_app *from, const char *name, int type,
		    mkt_object **out)
{
	const char *market = from->market_name ? from->market_name : "";
	char *made = mkt_object_make_name(name);
	char *names[4] = { mkt_strdup(name), mkt_asprintf("%s (%s)", name, market), NULL, NULL };
	mkt_store_query q;
	mkt_object *pick = NULL;
	int *ids = NULL, usable = 0, ret = 0;
	size_t i, k, n = 0;

	if (made && strcmp(made, name) != 0) {
		names[2] = mkt_strdup(made);
		names[3] = mkt_asprintf("%s (%s)", made, market);
	}
	mkt_store_query_init(&q);
	q.parent = from->market_id;
	for (k = 0; k < 4 && names[k] && ret == 0 && !pick; k++) {
		q.name = names[k];
		if ((ret = mkt_store_list_ids(x->core->store, MKT_TABLE_APP, &q, &ids, &n)) < 0)
			break;
		for (i = 0; i < n && ret == 0; i++) {
			mkt_object *obj = NULL;
			const char *cname;

			if ((ret = mkt_object_load(x->core, &mkt_app_class, ids[i], &obj)) < 0)
				break;
			cname = mkt_template_get(obj->tmpl, "CATALOG_NAME");
			if ((k >= 2 && (!cname || strcmp(cname, name) != 0)) ||
			    mkt_object_authorize(x->who, &mkt_app_class, obj, MKT_AUTH_USE) < 0) {
				mkt_error_clear();
				mkt_object_free(&mkt_app_class, obj);
				continue;
			}
			usable++;
			if (!pick || (obj->uid == from->obj.uid && pick->uid != from->obj.uid)) {
				mkt_object_free(&mkt_app_class, pick);
				pick = obj;
			} else {
				mkt_object_free(&mkt_app_class, obj);
			}
		}
		free(ids);
		ids = NULL;
	}
	for (k = 0; k < 4; k++)
		free(names[k]);
	free(made);
	if (ret == 0 && !pick)
		ret = mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d refers to app \"%s\", which its marketplace %d does not hold",
				    from->obj.id, name, from->market_id);
	else if (ret == 0 && usable > 1 && pick->uid != from->obj.uid)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d refers to app \"%s\", and marketplace %d holds several",
				    from->obj.id, name, from->market_id);
	else if (ret == 0 && ((mkt_app *)pick)->type != type)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d refers to app \"%s\" (%d), a %s, where a %s is expected",
				    from->obj.id, name, pick->id,
				    mkt_app_type_name(((mkt_app *)pick)->type), mkt_app_type_name(type));
	if (ret < 0) {
		mkt_object_free(&mkt_app_class, pick);
		return ret;
	}
	*out = pick;
	return 0;
}

static int export_image(exporter *x, const mkt_app *a, const char *name, int *out)
{
	mkt_buf b = MKT_BUF_INIT;
	int ret;

	mkt_buf_add(&b, "<IMAGE>");
	mkt_buf_add_elem_int(&b, "FROM_APP", a->obj.id);
	mkt_buf_add_elem(&b, "NAME", name);
	mkt_buf_add(&b, "</IMAGE>");
	ret = mkt_image_allocate(x->core, x->who, mkt_buf_cstr(&b), x->ds_id, out);
	mkt_buf_free(&b);
	/* EXPORT_GROUP is marketd's: allocation strips it from what users
	 * send, so it is set here. */
	if (ret == 0 && *x->group) {
		mkt_object *im = NULL;

		if ((ret = mkt_object_load(x->core, &mkt_image_class, *out, &im)) == 0) {
			mkt_template_set(im->tmpl, "EXPORT_GROUP", x->group);
			ret = mkt_object_save(x->core, &mkt_image_class, im, MKT_STORE_UPDATE);
		}
		mkt_object_free(&mkt_image_class, im);
	}
	if (ret == 0) {
		x->images = mkt_realloc(x->images, (x->nimages + 1) * sizeof(int));
		x->images[x->nimages++] = *out;
	}
	return ret;
}

static void mark_origin(exporter *x, mkt_template *t, const mkt_app *a)
{
	char id[16];

	snprintf(id, sizeof(id), "%d", a->obj.id);
	mkt_template_set(t, "FROM_APP", id);
	mkt_template_set(t, "FROM_APP_NAME", a->obj.name);
	mkt_template_set(t, "EXPORT_GROUP", x->group);
}

static int export_vmtemplate(exporter *x, const mkt_app *a, const char *name, int *out)
{
	mkt_template *vm = NULL;
	size_t i, ndisk = 0;
	int ret = 0;

	if (a->apptemplate64 && *a->apptemplate64)
		ret = mkt_template_parse_base64(&vm, a->apptemplate64);
	else
		vm = mkt_template_new();
	if (ret < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "MARKETPLACEAPP %d: APPTEMPLATE64 is not a VM template: %s",
				     a->obj.id, mkt_error_message());
	mkt_template_remove(vm, "DISK");
	for (i = 0; i < mkt_template_size(a->obj.tmpl) && ret == 0; i++) {
		const mkt_tattr *attr = mkt_template_at(a->obj.tmpl, i);
		const char *ref;
		mkt_object *disk = NULL;
		char *iname, id[16];
		int iid;

		if (strcmp(mkt_tattr_name(attr), "DISK") != 0 || !mkt_tattr_is_vector(attr))
			continue;
		if (!(ref = mkt_tattr_vector_get(attr, "APP")) || !*ref) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					    "MARKETPLACEAPP %d: a DISK names no APP", a->obj.id);
			break;
		}
		if ((ret = find_app(x, a, ref, MKT_APP_IMAGE, &disk)) < 0)
			break;
		iname = mkt_asprintf("%s-disk-%zu", name, ndisk++);
		if ((ret = export_image(x, (mkt_app *)disk, iname, &iid)) == 0) {
			snprintf(id, sizeof(id), "%d", iid);
			mkt_tattr_vector_set(mkt_template_add_vector(vm, "DISK"), "IMAGE_ID", id);
		}
		free(iname);
		mkt_object_free(&mkt_app_class, disk);
	}
	if (ret < 0) {
		mkt_template_free(vm);
		return ret;
	}
	mark_origin(x, vm, a);
	return mkt_vmtemplate_create(x->core, &mkt_vmtemplate_class, x->who, name, 0, vm, out);
}

/* The role of the service JSON named @role: its vm_template becomes @id. */
static int set_role_template(const mkt_app *a, json_t *body, const char *role, int id)
{
	json_t *roles = json_object_get(body, "roles"), *r;
	size_t i;

	json_array_foreach(roles, i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));

		if (n && !strcmp(n, role)) {
			json_object_set_new(r, "vm_template", json_integer(id));
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
			     "MARKETPLACEAPP %d: ROLE \"%s\" is not among the roles of its service template",
			     a->obj.id, role);
}

static int export_service(exporter *x, const mkt_app *a, const char *name, int *out)
{
	unsigned char *raw = NULL;
	size_t i, len = 0;
	json_error_t jerr;
	json_t *body = NULL;
	mkt_template *doc;
	char *text;
	int ret = 0;

	if (!a->apptemplate64 || mkt_util_base64_decode(&raw, &len, a->apptemplate64) < 0 ||
	    !(body = json_loadb((const char *)raw, len, 0, &jerr)) || !json_is_object(body)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d: APPTEMPLATE64 is not a service template (JSON object)",
				    a->obj.id);
		goto cleanup;
	}
	for (i = 0; i < mkt_template_size(a->obj.tmpl) && ret == 0; i++) {
		const mkt_tattr *attr = mkt_template_at(a->obj.tmpl, i);
		const char *role, *ref;
		mkt_object *vm = NULL;
		char *tname;
		int tid;

		if (strcmp(mkt_tattr_name(attr), "ROLE") != 0 || !mkt_tattr_is_vector(attr))
			continue;
		role = mkt_tattr_vector_get(attr, "NAME");
		ref = mkt_tattr_vector_get(attr, "APP");
		if (!role || !*role || !ref || !*ref) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					    "MARKETPLACEAPP %d: a ROLE lacks NAME or APP", a->obj.id);
			break;
		}
		if ((ret = find_app(x, a, ref, MKT_APP_VMTEMPLATE, &vm)) < 0)
			break;
		if (((mkt_app *)vm)->state != MKT_APP_READY)
			ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
					    "MARKETPLACEAPP %d is not READY: it cannot be exported",
					    vm->id);
		tname = mkt_asprintf("%s-%s", name, role);
		if (ret == 0 && (ret = export_vmtemplate(x, (mkt_app *)vm, tname, &tid)) == 0)
			ret = set_role_template(a, body, role, tid);
		free(tname);
		mkt_object_free(&mkt_app_class, vm);
	}
	if (ret < 0)
		goto cleanup;
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	doc = mkt_template_new();
	mkt_template_set(doc, "BODY", text);
	free(text);
	mark_origin(x, doc, a);
	ret = mkt_vmtemplate_create(x->core, &mkt_document_class, x->who, name,
				    MKT_DOCUMENT_SERVICE_TEMPLATE, doc, out);

 cleanup:
	json_decref(body);
	free(raw);
	return ret;
}

int mkt_export_app(mkt_core *core, const mkt_principal *who, int app_id, int ds_id,
		   const char *name, mkt_export_result *out)
{
	exporter x = { .core = core, .who = who, .ds_id = ds_id };
	mkt_object *obj = NULL;
	unsigned char rnd[8];
	mkt_app *a;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_app_class, app_id, MKT_AUTH_USE, 1, &obj)) < 0)
		goto cleanup;
	a = (mkt_app *)obj;
	if (!name || !*name)
		name = obj->name;
	if (a->state != MKT_APP_READY) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d is %s, not READY: only a READY app can be exported",
				    app_id, mkt_app_state_name(a->state));
		goto cleanup;
	}
	if (a->type != MKT_APP_IMAGE) {
		if ((ret = mkt_util_random(rnd, sizeof(rnd))) < 0)
			goto cleanup;
		snprintf(x.group, sizeof(x.group), "app%d-%02x%02x%02x%02x%02x%02x%02x%02x", app_id,
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	}
	switch (a->type) {
	case MKT_APP_IMAGE:
		out->kind = "IMAGE";
		ret = export_image(&x, a, name, &out->id);
		break;
	case MKT_APP_VMTEMPLATE:
		out->kind = "VMTEMPLATE";
		ret = export_vmtemplate(&x, a, name, &out->id);
		break;
	case MKT_APP_SERVICE_TEMPLATE:
		out->kind = "DOCUMENT";
		ret = export_service(&x, a, name, &out->id);
		break;
	case MKT_APP_SERVICE: {
		/* meshMarketplace's export of a plan: an instance of it, in the
		 * caller's primary group (the datastore plays no part). */
		mkt_template *t = mkt_template_new();
		mkt_buf text = MKT_BUF_INIT;
		char id[16];

		snprintf(id, sizeof(id), "%d", app_id);
		mkt_template_set(t, "NAME", name);
		mkt_template_set(t, "APP", id);
		mkt_template_format_text(t, &text);
		out->kind = "SERVICE_INSTANCE";
		ret = mkt_instance_allocate(core, who, mkt_buf_cstr(&text), &out->id);
		mkt_template_free(t);
		mkt_buf_free(&text);
		break;
	}
	default:
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "MARKETPLACEAPP %d has no known TYPE",
				    app_id);
	}
	/* Each image allocation checked one; the export needs them all. */
	if (ret == 0)
		ret = mkt_core_transfer_admit(core, who, x.nimages);

 cleanup:
	mkt_object_free(&mkt_app_class, obj);
	if ((ret = mkt_core_end(core, ret)) == 0) {
		out->images = x.images;
		out->nimages = x.nimages;
	} else {
		free(x.images);
		out->id = -1;
	}
	return ret;
}

/* ---- undoing a failed export ------------------------------------------- */

typedef struct {
	const char *group;
	int owner;               /* only the failed image's owner's objects */
	int failed_id;
} undo;

static int in_group(const mkt_object *obj, const undo *u)
{
	const char *g = mkt_template_get(obj->tmpl, "EXPORT_GROUP");

	return obj->uid == u->owner && g && !strcmp(g, u->group);
}

/* Apply @fn to every object of @cls in the undo's group. */
static int each_in_group(mkt_core *core, const mkt_class *cls, const undo *u,
			 int (*fn)(mkt_core *core, const mkt_class *cls, mkt_object *obj,
				   const undo *u))
{
	mkt_store_query q;
	int *ids = NULL;
	size_t i, n = 0;
	int ret;

	mkt_store_query_init(&q);
	if ((ret = mkt_store_list_ids(core->store, cls->table, &q, &ids, &n)) < 0)
		return ret;
	for (i = 0; i < n && ret >= 0; i++) {
		mkt_object *obj = NULL;

		if ((ret = mkt_object_load(core, cls, ids[i], &obj)) == 0 && in_group(obj, u))
			ret = fn(core, cls, obj, u);
		mkt_object_free(cls, obj);
	}
	free(ids);
	return ret < 0 ? ret : 0;
}

static int drop_object(mkt_core *core, const mkt_class *cls, mkt_object *obj)
{
	int ret = mkt_object_save(core, cls, obj, MKT_STORE_DELETE);

	if (ret == 0 && cls == &mkt_image_class && ((mkt_image *)obj)->source)
		mkt_core_unlink_on_commit(core, ((mkt_image *)obj)->source);
	if (ret == 0)
		mkt_log(MKT_LOG_INFO, "core", "%s %d (%s) removed: its export failed",
			cls->human_name, obj->id, obj->name);
	return ret;
}

/* The failed image stays (its ERROR says why); one still being filled is
 * marked and goes when its copy ends; every other object goes now. */
static int undo_one(mkt_core *core, const mkt_class *cls, mkt_object *obj, const undo *u)
{
	unsigned long long done, total;

	if (cls != &mkt_image_class)
		return drop_object(core, cls, obj);
	if (obj->id == u->failed_id)
		return 0;
	if (((mkt_image *)obj)->state == MKT_IMAGE_LOCKED &&
	    mkt_core_progress_get(core, MKT_TABLE_IMAGE, obj->id, &done, &total)) {
		mkt_template_set(obj->tmpl, "EXPORT_UNDONE", "YES");
		return mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);
	}
	return drop_object(core, cls, obj);
}

int mkt_export_image_done(mkt_core *core, mkt_image *im, int failed)
{
	static const mkt_class *const classes[] = {
		&mkt_document_class, &mkt_vmtemplate_class, &mkt_image_class,
	};
	undo u = { mkt_template_get(im->obj.tmpl, "EXPORT_GROUP"), im->obj.uid, im->obj.id };
	int undone = mkt_template_get(im->obj.tmpl, "EXPORT_UNDONE") != NULL;
	size_t i;
	int ret;

	if (!u.group || !*u.group || (!undone && !failed))
		return 0;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if (undone) {
		/* Its export was undone while it was being filled. */
		ret = drop_object(core, &mkt_image_class, &im->obj);
	} else {
		mkt_log(MKT_LOG_WARN, "core", "image %d of export %s failed: undoing the export",
			im->obj.id, u.group);
		for (i = 0; i < sizeof(classes) / sizeof(classes[0]) && ret == 0; i++)
			ret = each_in_group(core, classes[i], &u, undo_one);
	}
	return mkt_core_end(core, ret);
}
