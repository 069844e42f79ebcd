/*
 * appflow.c: app import and delete through the market drivers.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "appflow.h"

typedef mkt_flow flow;

int mkt_appflow_submit(mkt_driver *drv, mkt_core *core, mkt_driver_request *req,
		       const char *mad, int oid)
{
	flow *f = mkt_calloc(1, sizeof(*f));
	int ret;

	f->core = core;
	f->id = oid;
	req->mad = mad;
	req->ud = f;
	if ((ret = mkt_driver_submit(drv, req)) < 0)
		free(f);
	return ret;
}

static int append_object(mkt_core *core, const mkt_class *cls, int id, mkt_buf *b,
			 mkt_object **keep)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_object_load(core, cls, id, &obj)) < 0)
		return ret;
	cls->format(core, obj, MKT_FORMAT_STORE, b);
	if (keep)
		*keep = obj;
	else
		mkt_object_free(cls, obj);
	return 0;
}

int mkt_appflow_document(mkt_core *core, mkt_driver_action action, int app_id, int market_id,
			 const char *extra, mkt_driver_request *req)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_object *app = NULL, *market = NULL;
	int ret;

	mkt_buf_add(&b, "<MARKET_DRIVER_ACTION_DATA>");
	mkt_buf_add_elem(&b, "ACTION", mkt_driver_action_name(action));
	if (app_id >= 0) {
		if ((ret = append_object(core, &mkt_app_class, app_id, &b, &app)) < 0)
			goto cleanup;
		market_id = ((mkt_app *)app)->market_id;
	}
	if ((ret = append_object(core, &mkt_market_class, market_id, &b, &market)) < 0)
		goto cleanup;
	mkt_buf_add(&b, extra);
	mkt_buf_add(&b, "</MARKET_DRIVER_ACTION_DATA>");
	req->document = mkt_buf_steal(&b);
	/* Anyone on the host can read a process's arguments. */
	req->document_secret = mkt_object_has_secrets(&mkt_market_class, market);

 cleanup:
	mkt_object_free(&mkt_market_class, market);
	mkt_object_free(&mkt_app_class, app);
	mkt_buf_free(&b);
	return ret;
}

void mkt_appflow_transfer_limits(const mkt_config *conf, mkt_buf *extra)
{
	if (!conf->transfer_timeout && !conf->transfer_min_rate)
		return;
	mkt_buf_add(extra, "<TRANSFER>");
	if (conf->transfer_timeout)
		mkt_buf_add_elem_int(extra, "TIMEOUT", conf->transfer_timeout);
	if (conf->transfer_min_rate) {
		mkt_buf_add_elem_int(extra, "MIN_RATE", conf->transfer_min_rate);
		mkt_buf_add_elem_int(extra, "MIN_RATE_WINDOW", conf->transfer_min_rate_window);
	}
	mkt_buf_add(extra, "</TRANSFER>");
}

static void on_progress(void *ud, unsigned long long done, unsigned long long total)
{
	flow *f = ud;

	mkt_core_progress_set(f->core, MKT_TABLE_APP, f->id, done, total);
}

static void import_done(const mkt_driver_reply *reply, void *ud)
{
	flow *f = ud;

	pthread_mutex_lock(&f->core->lock);
	if (!reply->shutdown &&
	    mkt_app_import_done(f->core, f->id, reply->result,
				reply->ok ? NULL : reply->message) < 0)
		mkt_log(MKT_LOG_WARN, "driver", "app %d import ended but cannot be recorded: %s",
			f->id, mkt_error_message());
	mkt_core_progress_clear(f->core, MKT_TABLE_APP, f->id);
	pthread_mutex_unlock(&f->core->lock);
	free(f);
}

/* Where an app's content comes from, as an XML fragment for the driver:
 * mkt_app_import_source() when it names one (with the networks the
 * driver may fetch it from, when @who is restricted), else the image
 * ORIGIN_ID, whose IMAGE and DATASTORE go along as oned sends them. */
static int import_source(mkt_core *core, const mkt_principal *who, const mkt_app *a,
			 mkt_buf *extra)
{
	const char *src = mkt_app_import_source(a);
	mkt_object *img = NULL, *ds = NULL;
	long long id;
	int ret;

	mkt_appflow_transfer_limits(core->conf, extra);
	if (src) {
		mkt_buf_add_elem(extra, "IMPORT_SOURCE", src);
		if (mkt_config_import_restricted(core->conf, who->admin)) {
			mkt_buf_add(extra, "<IMPORT_NETWORK_POLICY>");
			mkt_buf_add_elem(extra, "ALLOWED", core->conf->import_allowed);
			mkt_buf_add_elem(extra, "DENIED", core->conf->import_denied);
			mkt_buf_add(extra, "</IMPORT_NETWORK_POLICY>");
		}
		return 0;
	}
	if (mkt_util_parse_long(a->origin_id, &id) < 0 || id < 0 || id > 0x7fffffff)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "MARKETPLACEAPP %d has no content to upload: give ORIGIN_ID "
				     "(an image), IMPORT_SOURCE or PATH", a->obj.id);
	if ((ret = mkt_object_load(core, &mkt_image_class, (int)id, &img)) < 0 ||
	    (ret = mkt_object_load(core, &mkt_datastore_class,
				   ((mkt_image *)img)->datastore_id, &ds)) < 0)
		goto cleanup;
	mkt_image_class.format(core, img, MKT_FORMAT_STORE, extra);
	mkt_datastore_class.format(core, ds, MKT_FORMAT_STORE, extra);
	mkt_buf_add_elem(extra, "IMPORT_SOURCE", ((mkt_image *)img)->source);
	if (mkt_template_get(img->tmpl, "MD5"))
		mkt_buf_add_elem(extra, "MD5", mkt_template_get(img->tmpl, "MD5"));
	mkt_buf_add_elem_int(extra, "SIZE", ((mkt_image *)img)->size_mb);
	mkt_buf_add_elem(extra, "FORMAT", ((mkt_image *)img)->format);

 cleanup:
	mkt_object_free(&mkt_image_class, img);
	mkt_object_free(&mkt_datastore_class, ds);
	return ret;
}

int mkt_appflow_import(mkt_driver *drv, mkt_core *core, const mkt_principal *who, int app_id)
{
	mkt_driver_request req = { .action = MKT_ACTION_IMPORT, .oid = app_id,
				   .done = import_done, .progress = on_progress };
	mkt_buf extra = MKT_BUF_INIT;
	mkt_object *obj = NULL, *mobj = NULL;
	mkt_app *a;
	int ret;

	if ((ret = mkt_object_load(core, &mkt_app_class, app_id, &obj)) < 0)
		return ret;
	a = (mkt_app *)obj;
	if (a->type != MKT_APP_IMAGE || a->state != MKT_APP_LOCKED)
		goto cleanup;
	if ((ret = mkt_object_load(core, &mkt_market_class, a->market_id, &mobj)) < 0 ||
	    (ret = import_source(core, who, a, &extra)) < 0 ||
	    (ret = mkt_appflow_document(core, MKT_ACTION_IMPORT, app_id, -1,
					mkt_buf_cstr(&extra), &req)) < 0)
		goto fail;
	/* Visible at once, marks the app as being uploaded, and counts as
	 * one of @who's transfers. */
	mkt_core_transfer_begin(core, MKT_TABLE_APP, app_id, who->uid);
	if ((ret = mkt_appflow_submit(drv, core, &req, ((mkt_market *)mobj)->mad, app_id)) == 0)
		goto cleanup;
	mkt_core_progress_clear(core, MKT_TABLE_APP, app_id);

 fail:
	{
		mkt_error saved;

		mkt_error_preserve(&saved);
		mkt_app_import_done(core, app_id, NULL, saved.message);
		mkt_error_restore(&saved);
	}

 cleanup:
	mkt_buf_free(&extra);
	mkt_object_free(&mkt_market_class, mobj);
	mkt_object_free(&mkt_app_class, obj);
	return ret;
}

static void delete_done(const mkt_driver_reply *reply, void *ud)
{
	flow *f = ud;

	/* Like oned, the app goes whatever the driver said: a failure leaves
	 * at worst stored content behind, which the log names. */
	if (!reply->ok)
		mkt_log(MKT_LOG_ERROR, "driver", "app %d dropped, but its driver could not "
			"delete its content: %s", f->id, reply->message);
	pthread_mutex_lock(&f->core->lock);
	if (!reply->shutdown && mkt_app_drop(f->core, f->id) < 0)
		mkt_log(MKT_LOG_WARN, "driver", "app %d: %s", f->id, mkt_error_message());
	pthread_mutex_unlock(&f->core->lock);
	free(f);
}

int mkt_appflow_delete(mkt_driver *drv, mkt_core *core, const mkt_principal *who, int app_id)
{
	mkt_driver_request req = { .action = MKT_ACTION_DELETE, .oid = app_id,
				   .done = delete_done };
	char *mad = NULL;
	int ret;

	/* An upload still running for it is abandoned first. */
	if ((ret = mkt_app_delete(core, who, app_id, &mad)) < 0)
		return ret;
	if (mkt_driver_cancel(drv, MKT_ACTION_IMPORT, app_id))
		mkt_log(MKT_LOG_INFO, "driver", "app %d deleted during its upload: upload cancelled",
			app_id);
	/* As for images (mkt_imageflow_delete()): no longer counted. */
	mkt_core_progress_clear(core, MKT_TABLE_APP, app_id);
	if (!mad)
		return 0;
	if ((ret = mkt_appflow_document(core, MKT_ACTION_DELETE, app_id, -1, "", &req)) == 0)
		ret = mkt_appflow_submit(drv, core, &req, mad, app_id);
	if (ret < 0) {
		mkt_log(MKT_LOG_ERROR, "driver", "app %d dropped without its driver: %s",
			app_id, mkt_error_message());
		ret = mkt_app_drop(core, app_id);
	}
	free(mad);
	return ret;
}
