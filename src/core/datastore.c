/*
 * datastore.c: local directory datastores.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/transfer.h"
#include "common/util.h"
#include "common/xml.h"
#include "datastore.h"

static void ds_free(mkt_object *obj)
{
	mkt_datastore *ds = (mkt_datastore *)obj;

	mkt_object_clear(&ds->obj);
	free(ds->ds_mad);
	free(ds->tm_mad);
	free(ds->base_path);
	free(ds);
}

static int ds_parse(mkt_object **out, xmlNodePtr root)
{
	mkt_datastore *ds = mkt_calloc(1, sizeof(*ds));
	long long v = 0;
	int ret;

	if ((ret = mkt_object_parse_common(&ds->obj, root)) < 0)
		goto cleanup;
	ds->ds_mad = mkt_xml_child_text(root, "DS_MAD");
	ds->tm_mad = mkt_xml_child_text(root, "TM_MAD");
	ds->base_path = mkt_xml_child_text(root, "BASE_PATH");
	if (mkt_xml_child_long(root, "STATE", &v) == 0)
		ds->state = (int)v;
	if (!ds->base_path || !ds->ds_mad || !ds->tm_mad) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "DATASTORE lacks BASE_PATH, DS_MAD or TM_MAD");
		goto cleanup;
	}
	*out = &ds->obj;
	ds = NULL;

 cleanup:
	if (ds)
		ds_free(&ds->obj);
	return ret;
}

static void ds_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			 mkt_buf *b)
{
	const mkt_datastore *ds = (const mkt_datastore *)obj;
	struct statvfs sv;
	long long total = 0, free_mb = 0;

	/* Capacity and the image list are read live, never stored. */
	if (mode != MKT_FORMAT_STORE && statvfs(ds->base_path, &sv) == 0) {
		total = (long long)((unsigned long long)sv.f_blocks * sv.f_frsize >> 20);
		free_mb = (long long)((unsigned long long)sv.f_bavail * sv.f_frsize >> 20);
	}
	mkt_buf_add(b, "<DATASTORE>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_object_format_perms(obj, b);
	mkt_buf_add_elem(b, "DS_MAD", ds->ds_mad);
	mkt_buf_add_elem(b, "TM_MAD", ds->tm_mad);
	mkt_buf_add_elem(b, "BASE_PATH", ds->base_path);
	mkt_buf_add_elem_int(b, "TYPE", 0);          /* IMAGE_DS */
	mkt_buf_add_elem_int(b, "DISK_TYPE", 0);     /* FILE */
	mkt_buf_add_elem_int(b, "STATE", ds->state);
	mkt_buf_add(b, "<CLUSTERS><ID>0</ID></CLUSTERS>");
	mkt_buf_add_elem_int(b, "TOTAL_MB", total);
	mkt_buf_add_elem_int(b, "FREE_MB", free_mb);
	mkt_buf_add_elem_int(b, "USED_MB", total - free_mb);
	mkt_buf_add(b, "<IMAGES>");
	if (mode != MKT_FORMAT_STORE)
		mkt_object_format_child_ids(core, MKT_TABLE_IMAGE, obj->id, b);
	mkt_buf_add(b, "</IMAGES>");
	mkt_template_format_xml(obj->tmpl, b, NULL);
	mkt_buf_add(b, "</DATASTORE>");
}

const mkt_class mkt_datastore_class = {
	.xml_name = "DATASTORE",
	.human_name = "datastore",
	.table = MKT_TABLE_DATASTORE,
	.parse = ds_parse,
	.format = ds_format,
	.free = ds_free,
};

static int ds_insert(mkt_core *core, const mkt_principal *who, mkt_datastore *ds, int fixed_id,
		     int *out_id)
{
	int ret;

	if ((ret = mkt_object_check_name(core, &mkt_datastore_class, ds->obj.name, who->uid, -1)) < 0)
		return ret;
	if (fixed_id >= 0)
		ds->obj.id = fixed_id;
	else if ((ret = mkt_store_next_oid(core->store, MKT_TABLE_DATASTORE,
					   MKT_FIRST_USER_DATASTORE, &ds->obj.id)) < 0)
		return ret;
	if (!ds->base_path)
		ds->base_path = mkt_asprintf("%s/datastores/%d", core->conf->data_dir, ds->obj.id);
	if ((ret = mkt_util_mkdir_p(ds->base_path, 0750)) < 0)
		return ret;
	if ((ret = mkt_object_save(core, &mkt_datastore_class, &ds->obj, MKT_STORE_INSERT)) == 0)
		*out_id = ds->obj.id;
	return ret;
}

static mkt_datastore *ds_new(const mkt_principal *who, const char *name)
{
	mkt_datastore *ds = mkt_calloc(1, sizeof(*ds));

	ds->obj.name = mkt_strdup(name);
	ds->obj.uid = who->uid;
	ds->obj.gid = who->gid;
	ds->obj.uname = mkt_strdup(who->uname);
	ds->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&ds->obj);
	ds->ds_mad = mkt_strdup("fs");
	ds->tm_mad = mkt_strdup("local");
	return ds;
}

int mkt_datastore_allocate(mkt_core *core, const mkt_principal *who, const char *text,
			   int *out_id)
{
	mkt_template *tmpl = NULL;
	mkt_datastore *ds = NULL;
	const char *name, *path, *reserved;
	long long mb;
	int ret;

	if ((ret = mkt_principal_require_admin(who, "CREATE", "DATASTORE", -1)) < 0 ||
	    (ret = mkt_template_parse_any(&tmpl, text)) < 0)
		goto cleanup;
	name = mkt_template_get(tmpl, "NAME");
	if ((ret = mkt_object_validate_name(name)) < 0)
		goto cleanup;
	path = mkt_template_value(tmpl, "BASE_PATH");
	if ((reserved = mkt_template_get(tmpl, "RESERVED_MB")) &&
	    (mkt_util_parse_long(reserved, &mb) < 0 || mb < 0)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "RESERVED_MB must be a number of MB, not '%s'",
				    reserved);
		goto cleanup;
	}
	if (path && path[0] != '/') {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "BASE_PATH must be an absolute path, not '%s'",
				    path);
		goto cleanup;
	}
	ds = ds_new(who, name);
	ds->base_path = mkt_strdup(path);
	mkt_template_remove(tmpl, "NAME");
	mkt_template_remove(tmpl, "BASE_PATH");
	ds->obj.tmpl = MKT_STEAL(tmpl);
	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	ret = mkt_core_end(core, ds_insert(core, who, ds, -1, out_id));

 cleanup:
	mkt_template_free(tmpl);
	if (ds)
		ds_free(&ds->obj);
	return ret;
}

int mkt_datastore_bootstrap(mkt_core *core)
{
	mkt_principal admin = { .uid = MKT_ONEADMIN_UID, .gid = MKT_ONEADMIN_GID,
				.uname = (char *)"oneadmin", .gname = (char *)"oneadmin",
				.admin = 1 };
	mkt_datastore *ds;
	mkt_object *existing = NULL;
	int ret, id;

	if (mkt_object_load(core, &mkt_datastore_class, MKT_DEFAULT_DATASTORE, &existing) == 0) {
		mkt_object_free(&mkt_datastore_class, existing);
		return 0;
	}
	mkt_error_clear();
	ds = ds_new(&admin, "default");
	/* Every user may put images in the default datastore (oned's ACL). */
	ds->obj.perms[3] = ds->obj.perms[6] = 1;
	ds->obj.tmpl = mkt_template_new();
	if ((ret = mkt_core_begin(core)) == 0)
		ret = mkt_core_end(core, ds_insert(core, &admin, ds, MKT_DEFAULT_DATASTORE, &id));
	if (ret == 0)
		mkt_log(MKT_LOG_INFO, "core", "created datastore 1 \"default\" in %s", ds->base_path);
	ds_free(&ds->obj);
	return ret;
}

int mkt_datastore_delete(mkt_core *core, const mkt_principal *who, int id)
{
	mkt_object *obj = NULL;
	int ret, n = 0;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_datastore_class, id, MKT_AUTH_ADMIN, 0, &obj)) < 0 ||
	    (ret = mkt_object_count_children(core, MKT_TABLE_IMAGE, id, &n)) < 0)
		goto cleanup;
	if (n > 0) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Datastore %d is not empty: it holds %d image(s)", id, n);
		goto cleanup;
	}
	if ((ret = mkt_object_save(core, &mkt_datastore_class, obj, MKT_STORE_DELETE)) == 0) {
		char *tmp = mkt_asprintf("%s/" MKT_TRANSFER_TMP_DIR, ((mkt_datastore *)obj)->base_path);

		/* Both only if empty. */
		rmdir(tmp);
		rmdir(((mkt_datastore *)obj)->base_path);
		free(tmp);
	}

 cleanup:
	mkt_object_free(&mkt_datastore_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_datastore_pool(mkt_core *core, const mkt_principal *who, char **out_xml)
{
	mkt_store_query q;

	mkt_store_query_init(&q);
	return mkt_object_pool(core, who, &mkt_datastore_class, &q, "DATASTORE_POOL", out_xml);
}

uint64_t mkt_datastore_reserve(const mkt_core *core, const mkt_datastore *ds)
{
	const char *s = ds->obj.tmpl ? mkt_template_get(ds->obj.tmpl, "RESERVED_MB") : NULL;
	long long mb;

	/* Checked at allocation; a value edited since falls back too. */
	if (!s || mkt_util_parse_long(s, &mb) < 0 || mb < 0)
		mb = core->conf->datastore_reserved_mb;
	return (uint64_t)mb << 20;
}
