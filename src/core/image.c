/*
 * image.c: images in local directory datastores.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xml.h"
#include "datastore.h"
#include "export.h"
#include "image.h"
#include "marketapp.h"

static const char *const type_names[] = {
	"OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT",
};

static const char *const state_names[] = {
	[MKT_IMAGE_INIT] = "INIT", [MKT_IMAGE_READY] = "READY", [MKT_IMAGE_USED] = "USED",
	[MKT_IMAGE_DISABLED] = "DISABLED", [MKT_IMAGE_LOCKED] = "LOCKED",
	[MKT_IMAGE_ERROR] = "ERROR",
};

const char *mkt_image_state_name(int state)
{
	return state >= 0 && state < (int)(sizeof(state_names) / sizeof(state_names[0])) ?
	       state_names[state] : "UNKNOWN";
}

static void image_free(mkt_object *obj)
{
	mkt_image *im = (mkt_image *)obj;

	mkt_object_clear(&im->obj);
	free(im->source);
	free(im->path);
	free(im->format);
	free(im->datastore);
	free(im);
}

static int image_parse(mkt_object **out, xmlNodePtr root)
{
	static const char *const ints[] = { "TYPE", "PERSISTENT", "REGTIME", "SIZE", "STATE",
					    "DATASTORE_ID" };
	mkt_image *im = mkt_calloc(1, sizeof(*im));
	long long v[6];
	int ret;

	if ((ret = mkt_object_parse_common(&im->obj, root)) < 0 ||
	    (ret = mkt_xml_children_long(root, ints, 6, v)) < 0)
		goto cleanup;
	im->type = (int)v[0];
	im->persistent = (int)v[1];
	im->regtime = v[2];
	im->size_mb = v[3];
	im->state = (int)v[4];
	im->datastore_id = (int)v[5];
	im->source = mkt_xml_child_text(root, "SOURCE");
	im->path = mkt_xml_child_text(root, "PATH");
	im->format = mkt_xml_child_text(root, "FORMAT");
	im->datastore = mkt_xml_child_text(root, "DATASTORE");
	*out = &im->obj;
	im = NULL;

 cleanup:
	if (im)
		image_free(&im->obj);
	return ret;
}

static void image_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			 mkt_buf *b)
{
	const mkt_image *im = (const mkt_image *)obj;

	mkt_buf_add(b, "<IMAGE>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_object_format_lock(obj, b);
	mkt_object_format_perms(obj, b);
	mkt_buf_add_elem_int(b, "TYPE", im->type);
	mkt_buf_add_elem_int(b, "DISK_TYPE", 0);
	mkt_buf_add_elem_int(b, "PERSISTENT", im->persistent);
	mkt_buf_add_elem_int(b, "REGTIME", im->regtime);
	mkt_buf_add_elem(b, "SOURCE", im->source);
	mkt_buf_add_elem(b, "PATH", im->path);
	mkt_buf_add_elem(b, "FORMAT", im->format);
	mkt_buf_add_elem(b, "FS", "");
	mkt_buf_add_elem_int(b, "SIZE", im->size_mb);
	mkt_buf_add_elem_int(b, "STATE", im->state);
	mkt_buf_add_elem_int(b, "PREV_STATE", 0);
	mkt_buf_add_elem_int(b, "RUNNING_VMS", 0);
	mkt_buf_add_elem_int(b, "CLONING_OPS", 0);
	mkt_buf_add_elem_int(b, "CLONING_ID", -1);
	mkt_buf_add_elem_int(b, "TARGET_SNAPSHOT", -1);
	mkt_buf_add_elem_int(b, "DATASTORE_ID", im->datastore_id);
	mkt_buf_add_elem(b, "DATASTORE", im->datastore);
	mkt_buf_add(b, "<VMS></VMS><CLONES></CLONES><APP_CLONES></APP_CLONES>");
	mkt_template_format_xml(obj->tmpl, b, NULL);
	/* What oned writes for an image without snapshots or backups (its
	 * Snapshots template is sorted by name). */
	mkt_buf_add(b, "<SNAPSHOTS><ALLOW_ORPHANS>NO</ALLOW_ORPHANS>"
		    "<CURRENT_BASE>-1</CURRENT_BASE><NEXT_SNAPSHOT>0</NEXT_SNAPSHOT></SNAPSHOTS>"
		    "<BACKUP_INCREMENTS></BACKUP_INCREMENTS><BACKUP_DISK_IDS></BACKUP_DISK_IDS>");
	/* PROGRESS is marketd's own and outside image.xsd: one.image.info
	 * only, while a copy runs, never in a pool. */
	if (mode == MKT_FORMAT_VIEW)
		mkt_object_format_progress(core, MKT_TABLE_IMAGE, obj->id, b);
	mkt_buf_add(b, "</IMAGE>");
}

static void image_row(const mkt_object *obj, mkt_store_row *row)
{
	const mkt_image *im = (const mkt_image *)obj;

	row->parent = im->datastore_id;
	row->state = im->state;
}

const mkt_class mkt_image_class = {
	.xml_name = "IMAGE",
	.human_name = "image",
	.table = MKT_TABLE_IMAGE,
	.name_per_owner = 1,
	.lockable = 1,
	/* Formatted on every read, so bodies stored before the schema's
	 * SNAPSHOTS and BACKUP_* elements were written still list right. */
	.body_is_view = 0,
	.parse = image_parse,
	.format = image_format,
	.free = image_free,
	.row = image_row,
};

static int parse_type(const char *s, int *out)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (!strcasecmp(s, type_names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
			     "TYPE must be OS, CDROM, DATABLOCK, KERNEL, RAMDISK or CONTEXT, not '%s'",
			     s);
}

/* FROM_APP: the app must be an IMAGE app that is READY (a LOCKED or ERROR
 * app has no complete content: OpenNebula issue 1445). */
static int take_app(mkt_core *core, const mkt_principal *who, mkt_image *im, const char *id_text)
{
	long long app_id;
	mkt_object *obj = NULL;
	mkt_app *a;
	int ret;

	if (mkt_util_parse_long(id_text, &app_id) < 0 || app_id < 0 || app_id > 0x7fffffff)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "FROM_APP must be a marketplace app id, not '%s'", id_text);
	if ((ret = mkt_object_get(core, who, &mkt_app_class, (int)app_id, MKT_AUTH_USE, 0,
				  &obj)) < 0)
		return ret;
	a = (mkt_app *)obj;
	if (a->type != MKT_APP_IMAGE)
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d is a %s: only IMAGE apps become images",
				    a->obj.id, mkt_app_type_name(a->type));
	else if (a->state != MKT_APP_READY)
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d is %s, not READY: only a READY app can be exported",
				    a->obj.id, mkt_app_state_name(a->state));
	if (ret == 0) {
		im->path = mkt_strdup(a->source);
		if (!mkt_template_get(im->obj.tmpl, "FORMAT") && a->format && *a->format)
			im->format = mkt_strdup(a->format);
		mkt_template_set(im->obj.tmpl, "FROM_APP_NAME", a->obj.name);
		mkt_template_set(im->obj.tmpl, "FROM_APP_MD5", a->md5);
	}
	mkt_object_free(&mkt_app_class, obj);
	return ret;
}

int mkt_image_allocate(mkt_core *core, const mkt_principal *who, const char *text,
		       int ds_id, int *out_id)
{
	mkt_image *im = mkt_calloc(1, sizeof(*im));
	mkt_object *dsobj = NULL;
	const char *name, *path, *from_app, *type, *format;
	unsigned char rnd[16];
	char *hex = NULL;
	int ret;

	if ((ret = mkt_template_parse_any(&im->obj.tmpl, text)) < 0)
		goto cleanup;
	mkt_object_strip_daemon_attrs(im->obj.tmpl);
	name = mkt_template_get(im->obj.tmpl, "NAME");
	if ((ret = mkt_object_validate_name(name)) < 0)
		goto cleanup;
	im->obj.name = mkt_strdup(name);
	path = mkt_template_value(im->obj.tmpl, "PATH");
	from_app = mkt_template_value(im->obj.tmpl, "FROM_APP");
	if ((type = mkt_template_get(im->obj.tmpl, "TYPE")) && (ret = parse_type(type, &im->type)) < 0)
		goto cleanup;
	if ((format = mkt_template_get(im->obj.tmpl, "FORMAT")) && *format)
		im->format = mkt_strdup(format);
	if (!path == !from_app) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "give exactly one of PATH (a file or http(s) URL) and FROM_APP (an app id)");
		goto cleanup;
	}
	if (path) {
		if ((ret = mkt_object_check_source(who, path)) < 0)
			goto cleanup;
		im->path = mkt_strdup(path);
	} else if ((ret = take_app(core, who, im, from_app)) < 0) {
		goto cleanup;
	}
	mkt_template_remove(im->obj.tmpl, "NAME");
	im->obj.uid = who->uid;
	im->obj.gid = who->gid;
	im->obj.uname = mkt_strdup(who->uname);
	im->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&im->obj);
	im->regtime = (long long)time(NULL);
	im->state = MKT_IMAGE_LOCKED;

	if ((ret = mkt_core_transfer_admit(core, who, 1)) < 0 || (ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = mkt_object_get(core, who, &mkt_datastore_class, ds_id, MKT_AUTH_USE, 0,
				  &dsobj)) == 0 &&
	    (ret = mkt_util_random(rnd, sizeof(rnd))) == 0) {
		hex = mkt_calloc(sizeof(rnd) * 2 + 1, 1);
		mkt_util_hex(rnd, sizeof(rnd), hex);
		im->datastore_id = ds_id;
		im->datastore = mkt_strdup(dsobj->name);
		im->source = mkt_asprintf("%s/%s", ((mkt_datastore *)dsobj)->base_path, hex);
	}
	if (ret == 0 &&
	    (ret = mkt_object_check_name(core, &mkt_image_class, im->obj.name, who->uid, -1)) == 0 &&
	    (ret = mkt_store_next_oid(core->store, MKT_TABLE_IMAGE, 0, &im->obj.id)) == 0 &&
	    (ret = mkt_object_save(core, &mkt_image_class, &im->obj, MKT_STORE_INSERT)) == 0)
		*out_id = im->obj.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	free(hex);
	mkt_object_free(&mkt_datastore_class, dsobj);
	image_free(&im->obj);
	return ret;
}

int mkt_image_fill_done(mkt_core *core, int id, unsigned long long bytes, const char *format,
			const char *md5, const char *sha256, const char *error)
{
	mkt_object *obj = NULL;
	mkt_image *im;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_load(core, &mkt_image_class, id, &obj)) < 0)
		goto cleanup;
	im = (mkt_image *)obj;
	if (error) {
		im->state = MKT_IMAGE_ERROR;
		mkt_template_set(obj->tmpl, "ERROR", error);
		/* No partial file may stay where the image says its content is. */
		if (im->source && unlink(im->source) < 0 && errno != ENOENT)
			mkt_log(MKT_LOG_WARN, "core", "image %d: cannot remove %s: %s", id,
				im->source, strerror(errno));
	} else {
		im->state = MKT_IMAGE_READY;
		im->size_mb = (long long)((bytes + (1u << 20) - 1) >> 20);
		if (!im->format || !*im->format || !strcmp(im->format, "raw")) {
			free(im->format);
			im->format = mkt_strdup(format && *format ? format : "raw");
		}
		mkt_template_remove(obj->tmpl, "ERROR");
		if (md5 && *md5)
			mkt_template_set(obj->tmpl, "MD5", md5);
		if (sha256 && *sha256)
			mkt_template_set(obj->tmpl, "SHA256", sha256);
	}
	ret = mkt_object_save(core, &mkt_image_class, obj, MKT_STORE_UPDATE);
	/* The image's own outcome is recorded whatever its export makes of
	 * it next. */
	if ((ret = mkt_core_end(core, ret)) == 0)
		ret = mkt_export_image_done(core, im, error != NULL);
	mkt_object_free(&mkt_image_class, obj);
	return ret;

 cleanup:
	mkt_object_free(&mkt_image_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_image_delete(mkt_core *core, const mkt_principal *who, int id)
{
	mkt_object *obj = NULL;
	mkt_image *im;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_image_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	im = (mkt_image *)obj;
	if ((ret = mkt_object_save(core, &mkt_image_class, obj, MKT_STORE_DELETE)) == 0 &&
	    im->source)
		mkt_core_unlink_on_commit(core, im->source);

 cleanup:
	mkt_object_free(&mkt_image_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_image_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		   int end_id, char **out_xml)
{
	return mkt_object_pool_filtered(core, who, &mkt_image_class, filter, start_id, end_id, -1,
					"IMAGE_POOL", out_xml);
}

int mkt_image_recover(mkt_core *core)
{
	mkt_store_query q;
	int *ids = NULL;
	size_t i, n = 0;
	int ret;

	mkt_store_query_init(&q);
	q.state = MKT_IMAGE_LOCKED;
	if ((ret = mkt_store_list_ids(core->store, MKT_TABLE_IMAGE, &q, &ids, &n)) < 0)
		return ret;
	for (i = 0; ret == 0 && i < n; i++)
		ret = mkt_image_fill_done(core, ids[i], 0, NULL, NULL, NULL,
					  "interrupted: marketd stopped during the copy");
	if (n)
		mkt_log(MKT_LOG_WARN, "core", "%zu image(s) were LOCKED at start-up: set to ERROR", n);
	free(ids);
	return ret;
}
