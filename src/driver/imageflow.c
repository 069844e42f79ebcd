/*
 * imageflow.c: fill new images (see imageflow.h).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/netpolicy.h"
#include "common/transfer.h"
#include "common/util.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "appflow.h"
#include "imageflow.h"

typedef struct {
	mkt_core *core;
	int image_id;
	char *source;
	char *target;
	char *expect_md5;
	char *format;            /* the app's, for driver exports */
	mkt_netpolicy *networks; /* where a PATH URL may be fetched from; NULL: anywhere */
	uint64_t max_size;       /* MAX_IMAGE_SIZE in bytes, 0: none */
	uint64_t reserve;        /* the datastore's free-space reserve, bytes */
	int shutdown;            /* cut short by a stop: leave it to recovery */
} fill;

/* What the fill of image @id is known by in the driver pool. */
static void fill_key(char *buf, size_t len, int id)
{
	snprintf(buf, len, "image %d", id);
}

static void fill_free(fill *f)
{
	mkt_netpolicy_free(f->networks);
	free(f->source);
	free(f->target);
	free(f->expect_md5);
	free(f->format);
	free(f);
}

static void on_progress(void *ud, unsigned long long done, unsigned long long total)
{
	fill *f = ud;

	mkt_core_progress_set(f->core, MKT_TABLE_IMAGE, f->image_id, done, total);
}

static void on_copy_progress(void *ud, uint64_t done, uint64_t total)
{
	on_progress(ud, done, total);
}

static void finish(fill *f, unsigned long long bytes, const char *format, const char *md5,
		   const char *sha256, const char *error)
{
	int ret;

	pthread_mutex_lock(&f->core->lock);
	ret = f->shutdown ? 0 : mkt_image_fill_done(f->core, f->image_id, bytes, format, md5,
						     sha256, error);
	if (ret == MKT_ENOTFOUND) {
		/* Deleted during the copy (mkt_imageflow_delete()): a copy that
		 * got its final name just before the cancel must not stay. */
		mkt_error_clear();
		if (unlink(f->target) == 0)
			mkt_log(MKT_LOG_INFO, "core", "image %d was deleted during its copy: "
				"removed %s", f->image_id, f->target);
		else if (errno != ENOENT)
			mkt_log(MKT_LOG_WARN, "core", "image %d was deleted during its copy: "
				"cannot remove %s: %s", f->image_id, f->target, strerror(errno));
	} else if (ret < 0) {
		mkt_log(MKT_LOG_WARN, "core", "image %d: %s", f->image_id, mkt_error_message());
	}
	mkt_core_progress_clear(f->core, MKT_TABLE_IMAGE, f->image_id);
	pthread_mutex_unlock(&f->core->lock);
}

/* marketd's own copy, on a worker thread. */
static void copy_job(void *ud, const volatile int *cancel)
{
	fill *f = ud;
	mkt_transfer_opts o = {
		.source = f->source, .target = f->target, .unpack = 1, .private_tmp = 1,
		.max_size = f->max_size, .reserve = f->reserve,
		.expect_md5 = f->expect_md5, .user_agent = "marketd/" PACKAGE_VERSION,
		.progress = on_copy_progress, .progress_ud = f, .cancel = cancel,
		.networks = f->networks, .timeout = f->core->conf->transfer_timeout,
		.min_rate = f->core->conf->transfer_min_rate,
		.min_rate_window = f->core->conf->transfer_min_rate_window,
	};
	mkt_transfer_result r;

	if (mkt_transfer_run(&o, &r) < 0) {
		char *shown = mkt_util_url_mask(f->source), *msg;

		/* A stop of marketd, or a delete of the image: either way
		 * there is nothing to record (recovery reports the first). */
		f->shutdown = *cancel != 0;
		msg = mkt_asprintf("cannot copy %s: %s", shown, mkt_error_message());

		finish(f, 0, NULL, NULL, NULL, msg);
		free(msg);
		free(shown);
	} else {
		/* The image's digests are those of its file (what apps made from
		 * it upload), not of a compressed source. */
		finish(f, r.bytes_out, r.format, r.md5_out, r.sha256_out, NULL);
	}
	fill_free(f);
}

static void export_done(const mkt_driver_reply *reply, void *ud)
{
	fill *f = ud;
	struct stat st;

	f->shutdown = reply->shutdown;
	if (!reply->ok) {
		finish(f, 0, NULL, NULL, NULL, reply->message);
	} else if (stat(f->target, &st) < 0 || !S_ISREG(st.st_mode)) {
		finish(f, 0, NULL, NULL, NULL, "the driver's export reported success but wrote no file");
	} else {
		const char *format = mkt_template_get(reply->result, "FORMAT");

		finish(f, (unsigned long long)st.st_size, format ? format : f->format,
		       mkt_template_get(reply->result, "MD5"),
		       mkt_template_get(reply->result, "SHA256"), NULL);
	}
	fill_free(f);
}

static int export_request(mkt_core *core, mkt_image *im, const mkt_object *ds, int app_id,
			  fill *f, mkt_driver_request *req, char **out_mad)
{
	mkt_object *app = NULL, *market = NULL;
	mkt_buf extra = MKT_BUF_INIT;
	int ret;

	if ((ret = mkt_object_load(core, &mkt_app_class, app_id, &app)) < 0 ||
	    (ret = mkt_object_load(core, &mkt_market_class, ((mkt_app *)app)->market_id,
				   &market)) < 0)
		goto cleanup;
	/* A catalog entry may come without an MD5: nothing to check then. */
	if (((mkt_app *)app)->md5 && *((mkt_app *)app)->md5)
		f->expect_md5 = mkt_strdup(((mkt_app *)app)->md5);
	f->format = mkt_strdup(((mkt_app *)app)->format);
	f->source = mkt_strdup(((mkt_app *)app)->source);
	*out_mad = mkt_strdup(((mkt_market *)market)->mad);
	mkt_image_class.format(core, &im->obj, MKT_FORMAT_STORE, &extra);
	mkt_datastore_class.format(core, ds, MKT_FORMAT_STORE, &extra);
	mkt_buf_add_elem(&extra, "EXPORT_TARGET", f->target);
	/* The driver applies marketd's caps to what it writes. */
	if (f->max_size)
		mkt_buf_add_elem_int(&extra, "MAX_IMAGE_SIZE", (long long)(f->max_size >> 20));
	if (f->reserve)
		mkt_buf_add_elem_int(&extra, "RESERVED_MB", (long long)(f->reserve >> 20));
	mkt_appflow_transfer_limits(core->conf, &extra);
	ret = mkt_appflow_document(core, MKT_ACTION_EXPORT, app_id, -1, mkt_buf_cstr(&extra), req);

 cleanup:
	mkt_buf_free(&extra);
	mkt_object_free(&mkt_app_class, app);
	mkt_object_free(&mkt_market_class, market);
	return ret;
}

int mkt_imageflow_start(mkt_driver *drv, mkt_core *core, const mkt_principal *who,
			int image_id)
{
	char key[32];
	mkt_driver_request req = { .action = MKT_ACTION_EXPORT, .oid = image_id,
				   .done = export_done, .progress = on_progress, .key = key };
	const char *from_app;
	mkt_object *obj = NULL, *ds = NULL;
	char *mad = NULL;
	fill *f = mkt_calloc(1, sizeof(*f));
	mkt_image *im;
	long long app_id;
	int ret;

	f->core = core;
	f->image_id = image_id;
	fill_key(key, sizeof(key), image_id);
	if ((ret = mkt_object_load(core, &mkt_image_class, image_id, &obj)) < 0)
		goto cleanup;
	im = (mkt_image *)obj;
	f->target = mkt_strdup(im->source);
	mkt_core_transfer_begin(core, MKT_TABLE_IMAGE, image_id, who->uid);
	if ((ret = mkt_object_load(core, &mkt_datastore_class, im->datastore_id, &ds)) < 0)
		goto fail;
	f->max_size = (uint64_t)core->conf->max_image_size_mb << 20;
	f->reserve = mkt_datastore_reserve(core, (mkt_datastore *)ds);
	from_app = mkt_template_value(obj->tmpl, "FROM_APP");
	if (from_app && mkt_util_parse_long(from_app, &app_id) == 0) {
		if ((ret = export_request(core, im, ds, (int)app_id, f, &req, &mad)) < 0)
			goto fail;
		req.oid = (int)app_id;
		req.mad = mad;
		req.ud = f;
		if (mkt_driver_has_action(drv, mad, MKT_ACTION_EXPORT)) {
			if ((ret = mkt_driver_submit(drv, &req)) == 0)
				f = NULL;
			goto done;
		}
		free(req.document);
		req.document = NULL;
		/* No export action: an http(s) SOURCE is downloaded by marketd. */
		if (strncasecmp(f->source, "http://", 7) && strncasecmp(f->source, "https://", 8)) {
			char *shown = mkt_util_url_mask(f->source);

			ret = mkt_error_set(MKT_EACTION, MKT_ERR_DRIVER,
					    "driver %s has no export action and SOURCE %s is not an http(s) URL",
					    mad, shown);
			free(shown);
			goto fail;
		}
	} else {
		/* The user's own URL, unlike an app's SOURCE (which its
		 * market made): held to the import networks. */
		f->source = mkt_strdup(im->path);
		if (mkt_config_import_restricted(core->conf, who->admin) &&
		    (ret = mkt_netpolicy_new(&f->networks, "PATH", core->conf->import_allowed,
					     core->conf->import_denied)) < 0)
			goto fail;
	}
	if ((ret = mkt_driver_submit_job(drv, copy_job, f, key)) == 0)
		f = NULL;

 done:
	if (ret == 0)
		goto cleanup;
 fail:
	{
		mkt_error saved;

		mkt_error_preserve(&saved);
		mkt_core_progress_clear(core, MKT_TABLE_IMAGE, image_id);
		mkt_image_fill_done(core, image_id, 0, NULL, NULL, NULL, saved.message);
		mkt_error_restore(&saved);
	}

 cleanup:
	free(mad);
	if (f)
		fill_free(f);
	mkt_object_free(&mkt_datastore_class, ds);
	mkt_object_free(&mkt_image_class, obj);
	return ret;
}

int mkt_imageflow_delete(mkt_driver *drv, mkt_core *core, const mkt_principal *who,
			 int image_id)
{
	char key[32];
	int ret;

	/* Gone first, then stopped: the copy's end finds no image to fill,
	 * and removes whatever it wrote. */
	if ((ret = mkt_image_delete(core, who, image_id)) < 0)
		return ret;
	fill_key(key, sizeof(key), image_id);
	if (mkt_driver_cancel_key(drv, key))
		mkt_log(MKT_LOG_INFO, "driver", "image %d deleted during its copy: copy cancelled",
			image_id);
	/* No longer one of its user's transfers, though it may take a few
	 * hundred ms to stop: the user may start another at once. */
	mkt_core_progress_clear(core, MKT_TABLE_IMAGE, image_id);
	return 0;
}

static void on_swept(void *ud, const char *path, uint64_t size, uint64_t allocated)
{
	uint64_t *total = ud;

	total[0]++;
	total[1] += allocated;
	mkt_log(MKT_LOG_INFO, "core", "removed %s, left by a copy that did not finish (%llu bytes, %llu allocated)",
		path, (unsigned long long)size, (unsigned long long)allocated);
}

void mkt_imageflow_sweep(mkt_core *core, long min_age)
{
	mkt_store_query q;
	int *ids = NULL;
	char **paths = NULL;
	size_t i, n = 0, npaths = 0;
	uint64_t total[2] = { 0, 0 };

	pthread_mutex_lock(&core->lock);
	mkt_store_query_init(&q);
	if (mkt_store_list_ids(core->store, MKT_TABLE_DATASTORE, &q, &ids, &n) < 0)
		mkt_log(MKT_LOG_WARN, "core", "cannot list the datastores to sweep: %s", mkt_error_message());
	paths = mkt_calloc(n ? n : 1, sizeof(*paths));
	for (i = 0; i < n; i++) {
		mkt_object *obj = NULL;

		if (mkt_object_load(core, &mkt_datastore_class, ids[i], &obj) == 0)
			paths[npaths++] = mkt_strdup(((mkt_datastore *)obj)->base_path);
		mkt_object_free(&mkt_datastore_class, obj);
	}
	mkt_error_clear();
	pthread_mutex_unlock(&core->lock);

	/* Unlinking a large file can take a while: not under the lock. */
	for (i = 0; i < npaths; i++) {
		if (mkt_transfer_sweep(paths[i], min_age, on_swept, total) < 0)
			mkt_log(MKT_LOG_WARN, "core", "cannot sweep temporary files: %s", mkt_error_message());
		free(paths[i]);
	}
	if (total[0])
		mkt_log(MKT_LOG_INFO, "core", "removed %llu temporary file(s) from the datastores: %llu bytes freed",
			(unsigned long long)total[0], (unsigned long long)total[1]);
	free(paths);
	free(ids);
}
