/*
 * methods.c: the API method table and its handlers.
 *
 * Handlers only translate arguments into core calls: authorization,
 * validation and transactions live in the core, and error replies are
 * built by the dispatcher.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "core/user.h"
#include "core/zone.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/export.h"
#include "core/vmtemplate.h"
#include "driver/appflow.h"
#include "driver/imageflow.h"
#include "driver/monitorflow.h"
#include "driver/serviceflow.h"
#include "core/service.h"
#include "rpc.h"

static int ret_id(mkt_rpc_result *out, int id)
{
	out->is_text = 0;
	out->id = id;
	return 0;
}

static int ret_text(mkt_rpc_result *out, int ret, char *text)
{
	out->is_text = 1;
	out->text = text;
	return ret;
}

/* ---- generic object operations (one function for every class) -------- */

static int h_info(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_object_info(env->core, who, m->cls, a[0].i, &xml);

	return ret_text(out, ret, xml);
}

static int h_update(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int merge = a[2].present ? a[2].i : 0;

	if (merge != 0 && merge != 1)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC,
				     "update type must be 0 (replace) or 1 (merge), not %d", merge);
	return mkt_object_update(env->core, who, m->cls, a[0].i, a[1].s, merge) ?:
	       ret_id(out, a[0].i);
}

static int h_chmod(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int perms[MKT_PERM_BITS], i;

	for (i = 0; i < MKT_PERM_BITS; i++)
		perms[i] = a[1 + i].i;
	return mkt_object_chmod(env->core, who, m->cls, a[0].i, perms) ?: ret_id(out, a[0].i);
}

static int h_chown(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_chown(env->core, who, m->cls, a[0].i, a[1].i, a[2].i) ?:
	       ret_id(out, a[0].i);
}

static int h_rename(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_rename(env->core, who, m->cls, a[0].i, a[1].s) ?: ret_id(out, a[0].i);
}

static int h_lock(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_lock(env->core, who, m->cls, a[0].i, a[1].i, a[2].present && a[2].i) ?:
	       ret_id(out, a[0].i);
}

static int h_unlock(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_unlock(env->core, who, m->cls, a[0].i) ?: ret_id(out, a[0].i);
}

static void run_service(const mkt_rpc_env *env, int table, int id, const mkt_principal *who);

/* ---- markets ---------------------------------------------------------- */

static int h_market_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_market_allocate(env->core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_market_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_market_delete(env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_market_enable(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int ret = mkt_market_enable(env->core, who, a[0].i, a[1].i);

	if (ret < 0)
		return ret;
	/* oned monitors a market as soon as it is enabled; a market that
	 * cannot be monitored is enabled all the same. */
	if (a[1].i && env->drv && mkt_monitorflow_run(env->drv, env->core, a[0].i) < 0) {
		mkt_log(MKT_LOG_DEBUG, "rpc", "market %d enabled, not monitored: %s", a[0].i,
			mkt_error_message());
		mkt_error_clear();
	}
	return ret_id(out, a[0].i);
}

/* marketd's own: a monitor pass now (`marketctl market monitor`). */
static int h_market_monitor(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_object_get(env->core, who, &mkt_market_class, a[0].i, MKT_AUTH_MANAGE, 0,
				  &obj)) < 0)
		return ret;
	mkt_object_free(&mkt_market_class, obj);
	if (!env->drv)
		return mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "marketd has no driver pool");
	return mkt_monitorflow_run(env->drv, env->core, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_market_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_market_pool(env->core, who, &xml);

	return ret_text(out, ret, xml);
}

/* ---- apps ------------------------------------------------------------- */

static int h_app_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	int ret = mkt_app_allocate(env->core, who, a[0].s, a[1].i, &id);

	/* The upload starts now; a failure to start leaves the app in ERROR
	 * and is the reply (oned answers INTERNAL then). */
	if (ret == 0 && (ret = mkt_appflow_import(env->drv, env->core, who, id)) < 0)
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "%s", mkt_error_message());
	return ret ?: ret_id(out, id);
}

static int h_app_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_appflow_delete(env->drv, env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_app_enable(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_app_enable(env->core, who, a[0].i, a[1].i) ?: ret_id(out, a[0].i);
}

static int pool_next(void *arg, const char **data, size_t *len)
{
	return mkt_pool_stream_next(arg, data, len);
}

static void pool_free(void *arg)
{
	mkt_pool_stream_free(arg);
}

/* The pool of a 100 000-app catalog is 200 MB: sent as it is read. */
static int h_app_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		      const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	mkt_pool_stream *s = NULL;
	int ret = mkt_object_pool_stream(env->core, who, &mkt_app_class, a[0].i, a[1].i, a[2].i,
					 -1, "MARKETPLACEAPP_POOL", &s);

	if (ret < 0)
		return ret;
	out->is_text = 1;
	out->pieces = (mkt_rpc_pieces){ pool_next, pool_free, s };
	return 0;
}

static int h_app_export(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	mkt_export_result r;
	size_t i;
	int ret;

	/* What `onemarketapp export` does, in one call: an image FROM_APP in
	 * the datastore, and for templates what their DISKs and ROLEs name.
	 * Returns the image, VM template or document id. */
	if ((ret = mkt_export_app(env->core, who, a[0].i, a[1].i, a[2].present ? a[2].s : NULL,
				  &r)) < 0)
		return ret;
	if (!strcmp(r.kind, "SERVICE_INSTANCE") && env->services)
		run_service(env, MKT_TABLE_INSTANCE, r.id, who);
	/* A copy that cannot start sets its image to ERROR, which undoes a
	 * multi-object export: the error is the caller's to see. */
	for (i = 0; i < r.nimages && ret == 0; i++)
		if ((ret = mkt_imageflow_start(env->drv, env->core, who, r.images[i])) < 0)
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "%s", mkt_error_message());
	free(r.images);
	return ret ?: ret_id(out, r.id);
}

/* ---- VM templates and documents (what template apps export to) -------- */

/* one.template.allocate(template) and one.document.allocate(template,
 * type): what `onemarketapp export` creates client-side. */
static int h_vt_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_vmtemplate_allocate(env->core, m->cls, who, a[0].s, a[1].present ? a[1].i : 0,
				       &id) ?: ret_id(out, id);
}

/* one.template.clone(id, name, [recursive]) and one.document.clone(id, name). */
static int h_vt_clone(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		      const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_vmtemplate_clone(env->core, m->cls, who, a[0].i, a[1].s,
				    a[2].present && a[2].i, &id) ?: ret_id(out, id);
}

static int h_vt_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_vmtemplate_delete(env->core, m->cls, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_vt_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_vmtemplate_pool(env->core, m->cls, who, a[0].i, a[1].i, a[2].i,
				      a[3].present ? a[3].i : -1, &xml);

	return ret_text(out, ret, xml);
}

/* ---- datastores and images --------------------------------------------- */

static int h_ds_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_datastore_allocate(env->core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_ds_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_datastore_delete(env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_ds_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_datastore_pool(env->core, who, &xml);

	return ret_text(out, ret, xml);
}

static int h_image_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;
	int ret = mkt_image_allocate(env->core, who, a[0].s, a[1].i, &id);

	if (ret == 0 && (ret = mkt_imageflow_start(env->drv, env->core, who, id)) < 0)
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "%s", mkt_error_message());
	return ret ?: ret_id(out, id);
}

static int h_image_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_imageflow_delete(env->drv, env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_image_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_image_pool(env->core, who, a[0].present ? a[0].i : -2,
				 a[1].present ? a[1].i : -1, a[2].present ? a[2].i : -1, &xml);

	return ret_text(out, ret, xml);
}

/* ---- users and groups ------------------------------------------------- */

static int h_user_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_user_allocate(env->core, who, a[0].s, a[1].s, a[2].present ? a[2].s : "core",
				 a[3].ints, a[3].nints, &id) ?: ret_id(out, id);
}

static int h_user_info(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_user_info(env->core, who, a[0].present ? a[0].i : -1, &xml);

	return ret_text(out, ret, xml);
}

static int h_user_passwd(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_passwd(env->core, who, a[0].i, a[1].s) ?: ret_id(out, a[0].i);
}

static int h_user_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_delete(env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_user_chgrp(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_chgrp(env->core, who, a[0].i, a[1].i) ?: ret_id(out, a[0].i);
}

static int h_user_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_user_pool(env->core, who, &xml);

	return ret_text(out, ret, xml);
}

static int h_group_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_group_allocate(env->core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_group_info(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_group_info(env->core, who, a[0].present ? a[0].i : -1, &xml);

	return ret_text(out, ret, xml);
}

static int h_group_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_group_delete(env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_group_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_group_pool(env->core, who, &xml);

	return ret_text(out, ret, xml);
}

/* ---- system ----------------------------------------------------------- */

static int h_system_version(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return ret_text(out, 0, mkt_strdup(PACKAGE_VERSION));
}

static int h_system_config(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	mkt_buf b = MKT_BUF_INIT;

	if (!who->admin)
		return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				     "Not authorized to perform ADMIN SYSTEM [-1].");
	mkt_template_format_xml(env->core->conf->tmpl, &b, "OPENNEBULA_CONFIGURATION");
	return ret_text(out, 0, mkt_buf_steal(&b));
}

/* ---- service instances and bindings (brokers' services) ----------------- */

static int no_services(const mkt_rpc_env *env)
{
	return env->services ? 0 : mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
						 "marketd has no service scheduler");
}

/* The broker call starts now; its failure to start is the object's
 * state, not the reply (the object exists). */
static void run_service(const mkt_rpc_env *env, int table, int id, const mkt_principal *who)
{
	if (mkt_serviceflow_run(env->services, table, id, who) < 0) {
		mkt_log(MKT_LOG_WARN, "rpc", "%s %d: the broker call cannot start: %s",
			table == MKT_TABLE_BINDING ? "binding" : "instance", id, mkt_error_message());
		mkt_error_clear();
	}
}

static int h_si_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1, ret;

	if ((ret = no_services(env)) < 0 || (ret = mkt_instance_allocate(env->core, who, a[0].s, &id)) < 0)
		return ret;
	run_service(env, MKT_TABLE_INSTANCE, id, who);
	return ret_id(out, id);
}

static int h_si_update(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int ret;

	if ((ret = no_services(env)) < 0 || (ret = mkt_instance_update(env->core, who, a[0].i, a[1].s)) < 0)
		return ret;
	run_service(env, MKT_TABLE_INSTANCE, a[0].i, who);
	return ret_id(out, a[0].i);
}

static int h_si_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return no_services(env) ?:
	       mkt_serviceflow_delete_instance(env->services, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_si_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_instance_pool(env->core, who, a[0].present ? a[0].i : -2,
				    a[1].present ? a[1].i : -1, a[2].present ? a[2].i : -1, &xml);

	return ret_text(out, ret, xml);
}

static int h_sb_allocate(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1, ret;

	if ((ret = no_services(env)) < 0 ||
	    (ret = mkt_binding_allocate(env->core, who, a[0].i, a[1].present ? a[1].s : "", &id)) < 0)
		return ret;
	run_service(env, MKT_TABLE_BINDING, id, who);
	return ret_id(out, id);
}

static int h_sb_info(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_binding_info(env->core, who, a[0].i, &xml);

	return ret_text(out, ret, xml);
}

static int h_sb_delete(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int ret;

	if ((ret = no_services(env)) < 0 || (ret = mkt_binding_delete(env->core, who, a[0].i)) < 0)
		return ret;
	run_service(env, MKT_TABLE_BINDING, a[0].i, who);
	return ret_id(out, a[0].i);
}

static int h_sb_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_binding_pool(env->core, who, a[0].present ? a[0].i : -2,
				   a[1].present ? a[1].i : -1, a[2].present ? a[2].i : -1, &xml);

	return ret_text(out, ret, xml);
}

/* ---- zones (zone.h) ----------------------------------------------------- */

static int h_zone_allocate(const mkt_rpc_env *env, const mkt_principal *who,
			   const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_zone_allocate(env->core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_zone_info(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_zone_info(env->core, who, a[0].i, &xml);

	return ret_text(out, ret, xml);
}

static int h_zone_update(const mkt_rpc_env *env, const mkt_principal *who,
			 const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int merge = a[2].present ? a[2].i : 0;

	if (merge != 0 && merge != 1)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC,
				     "update type must be 0 (replace) or 1 (merge), not %d", merge);
	return mkt_zone_update(env->core, who, a[0].i, a[1].s, merge) ?: ret_id(out, a[0].i);
}

static int h_zone_rename(const mkt_rpc_env *env, const mkt_principal *who,
			 const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_zone_rename(env->core, who, a[0].i, a[1].s) ?: ret_id(out, a[0].i);
}

static int h_zone_delete(const mkt_rpc_env *env, const mkt_principal *who,
			 const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_zone_delete(env->core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_zone_pool(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_zone_pool(env->core, who, &xml);

	return ret_text(out, ret, xml);
}

static int h_zone_raft(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	long long idx = 0;
	char *xml = NULL;
	int ret = mkt_fed_log_index(env->fed, env->core, &idx);

	if (ret == 0)
		ret = mkt_zone_raft_status(env->core, idx, &xml);
	return ret_text(out, ret, xml);
}

/* ---- the master's replication methods (federation.h) ------------------
 * The dispatcher calls these without the core lock (MKT_RPC_FED_SERVER):
 * the log may wait for an entry, the others lock for their work. */

static int require_server(const mkt_rpc_env *env, const mkt_principal *who,
			  const mkt_rpc_method *m)
{
	if (!who->server)
		return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH, "only the federation's server user "
				     "(SERVER_AUTH) of its master may call %s", m->name);
	if (!mkt_fed_is_master(env->fed))
		return mkt_error_set(MKT_EACTION, MKT_ERR_RPC,
				     "this zone is not the master of a federation");
	return 0;
}

static int h_fed_log(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	long long after;
	char *xml = NULL;
	int ret;

	if ((ret = require_server(env, who, m)) < 0)
		return ret;
	if (mkt_util_parse_long(a[1].s, &after) < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC, "log index '%s' is not an integer",
				     a[1].s);
	ret = mkt_fed_log(env->fed, a[0].i, after, a[2].i > 30000 ? 30000 : a[2].i, a[3].i, &xml);
	return ret_text(out, ret, xml);
}

static int h_fed_snapshot(const mkt_rpc_env *env, const mkt_principal *who,
			  const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret;

	if ((ret = require_server(env, who, m)) < 0)
		return ret;
	pthread_mutex_lock(&env->core->lock);
	ret = mkt_fed_snapshot(env->fed, a[0].s, a[1].i, a[2].i, &xml);
	pthread_mutex_unlock(&env->core->lock);
	return ret_text(out, ret, xml);
}

static int h_fed_write(const mkt_rpc_env *env, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	long long last = 0;
	int ret;

	if ((ret = require_server(env, who, m)) < 0)
		return ret;
	pthread_mutex_lock(&env->core->lock);
	ret = mkt_fed_write(env->fed, who->uname, a[0].s, &last);
	pthread_mutex_unlock(&env->core->lock);
	return ret_text(out, ret, ret < 0 ? NULL : mkt_asprintf("%lld", last));
}

static int h_fed_next_oid(const mkt_rpc_env *env, const mkt_principal *who,
			  const mkt_rpc_method *m, const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int ret, oid = -1;

	if ((ret = require_server(env, who, m)) < 0)
		return ret;
	pthread_mutex_lock(&env->core->lock);
	ret = mkt_fed_next_oid(env->fed, a[0].s, a[1].i, &oid);
	pthread_mutex_unlock(&env->core->lock);
	return ret ?: ret_id(out, oid);
}

#define MARKET &mkt_market_class, "marketplace"
#define APP &mkt_app_class, "marketplaceapp"
#define DS &mkt_datastore_class, "datastore"
#define IMG &mkt_image_class, "image"
#define VMT &mkt_vmtemplate_class, "template"
#define DOC &mkt_document_class, "document"
#define SI &mkt_instance_class, "service instance"
#define SB &mkt_binding_class, "service binding"
#define NOCLASS NULL
/* In a federation (rpc.h) */
#define LOCAL MKT_RPC_FED_LOCAL
#define PROXY MKT_RPC_FED_PROXY
#define SERVER MKT_RPC_FED_SERVER

const mkt_rpc_method mkt_rpc_methods[] = {
	{ "one.market.allocate", "s", h_market_allocate, MARKET, 1, "Allocates a new marketplace", LOCAL },
	{ "one.market.delete", "i", h_market_delete, MARKET, 0, "Deletes a marketplace", PROXY },
	{ "one.market.update", "is|i", h_update, MARKET, 0, "Updates a marketplace template", PROXY },
	{ "one.market.chmod", "iiiiiiiiii", h_chmod, MARKET, 0, "Changes marketplace permissions", PROXY },
	{ "one.market.chown", "iii", h_chown, MARKET, 0, "Changes marketplace ownership", PROXY },
	{ "one.market.rename", "is", h_rename, MARKET, 0, "Renames a marketplace", PROXY },
	{ "one.market.info", "i|b", h_info, MARKET, 0, "Returns marketplace information", LOCAL },
	{ "one.market.enable", "ib", h_market_enable, MARKET, 0, "Enables or disables a marketplace", PROXY },
	{ "one.market.monitor", "i", h_market_monitor, MARKET, 0, "Monitors a marketplace now (marketd)", LOCAL },
	{ "one.marketpool.info", "", h_market_pool, MARKET, 0, "Returns the marketplace pool", LOCAL },
	{ "one.marketapp.allocate", "si", h_app_allocate, APP, 1, "Allocates a new marketplace app", LOCAL },
	{ "one.marketapp.delete", "i", h_app_delete, APP, 0, "Deletes a marketplace app", LOCAL },
	{ "one.marketapp.update", "is|i", h_update, APP, 0, "Updates a marketplace app template", PROXY },
	{ "one.marketapp.chmod", "iiiiiiiiii", h_chmod, APP, 0, "Changes app permissions", PROXY },
	{ "one.marketapp.chown", "iii", h_chown, APP, 0, "Changes app ownership", PROXY },
	{ "one.marketapp.rename", "is", h_rename, APP, 0, "Renames a marketplace app", PROXY },
	{ "one.marketapp.info", "i|b", h_info, APP, 0, "Returns marketplace app information", LOCAL },
	{ "one.marketapp.enable", "ib", h_app_enable, APP, 0, "Enables or disables an app", PROXY },
	{ "one.marketapp.lock", "ii|b", h_lock, APP, 0, "Locks a marketplace app", PROXY },
	{ "one.marketapp.unlock", "i", h_unlock, APP, 0, "Unlocks a marketplace app", PROXY },
	{ "one.marketapp.export", "ii|s", h_app_export, APP, 0, "Exports an app into a datastore (an image; a VM template or service template with its images)", LOCAL },
	{ "one.marketapppool.info", "iii", h_app_pool, APP, 0, "Returns the marketplace app pool", LOCAL },
	{ "one.datastore.allocate", "s|i", h_ds_allocate, DS, 1, "Allocates a new datastore", LOCAL },
	{ "one.datastore.delete", "i", h_ds_delete, DS, 0, "Deletes an empty datastore", LOCAL },
	{ "one.datastore.info", "i|b", h_info, DS, 0, "Returns datastore information", LOCAL },
	{ "one.datastore.chmod", "iiiiiiiiii", h_chmod, DS, 0, "Changes datastore permissions", LOCAL },
	{ "one.datastore.chown", "iii", h_chown, DS, 0, "Changes datastore ownership", LOCAL },
	{ "one.datastore.rename", "is", h_rename, DS, 0, "Renames a datastore", LOCAL },
	{ "one.datastorepool.info", "", h_ds_pool, DS, 0, "Returns the datastore pool", LOCAL },
	{ "one.image.allocate", "si|b", h_image_allocate, IMG, 1, "Allocates a new image", LOCAL },
	{ "one.image.delete", "i|b", h_image_delete, IMG, 0, "Deletes an image", LOCAL },
	{ "one.image.info", "i|b", h_info, IMG, 0, "Returns image information", LOCAL },
	{ "one.image.update", "is|i", h_update, IMG, 0, "Updates an image template", LOCAL },
	{ "one.image.chmod", "iiiiiiiiii", h_chmod, IMG, 0, "Changes image permissions", LOCAL },
	{ "one.image.chown", "iii", h_chown, IMG, 0, "Changes image ownership", LOCAL },
	{ "one.image.rename", "is", h_rename, IMG, 0, "Renames an image", LOCAL },
	{ "one.image.lock", "ii|b", h_lock, IMG, 0, "Locks an image", LOCAL },
	{ "one.image.unlock", "i", h_unlock, IMG, 0, "Unlocks an image", LOCAL },
	{ "one.imagepool.info", "|iii", h_image_pool, IMG, 0, "Returns the image pool", LOCAL },
	{ "one.template.allocate", "s", h_vt_allocate, VMT, 1, "Allocates a new VM template", LOCAL },
	{ "one.template.clone", "is|b", h_vt_clone, VMT, 1, "Clones a VM template (not its images)", LOCAL },
	{ "one.template.info", "i|bb", h_info, VMT, 0, "Returns VM template information", LOCAL },
	{ "one.template.delete", "i|b", h_vt_delete, VMT, 0, "Deletes a VM template", LOCAL },
	{ "one.template.update", "is|i", h_update, VMT, 0, "Updates a VM template", LOCAL },
	{ "one.template.chmod", "iiiiiiiiii|b", h_chmod, VMT, 0, "Changes VM template permissions", LOCAL },
	{ "one.template.chown", "iii", h_chown, VMT, 0, "Changes VM template ownership", LOCAL },
	{ "one.template.rename", "is", h_rename, VMT, 0, "Renames a VM template", LOCAL },
	{ "one.templatepool.info", "iii", h_vt_pool, VMT, 0, "Returns the VM template pool", LOCAL },
	{ "one.serviceinstance.allocate", "s", h_si_allocate, SI, 1, "Provisions a service instance of a broker's plan (marketd)", LOCAL },
	{ "one.serviceinstance.info", "i|b", h_info, SI, 0, "Returns service instance information (marketd)", LOCAL },
	{ "one.serviceinstance.update", "is", h_si_update, SI, 0, "Changes a service instance's plan or parameters (marketd)", LOCAL },
	{ "one.serviceinstance.delete", "i", h_si_delete, SI, 0, "Deprovisions a service instance, its bindings first (marketd)", LOCAL },
	{ "one.serviceinstance.chmod", "iiiiiiiiii", h_chmod, SI, 0, "Changes service instance permissions (marketd)", LOCAL },
	{ "one.serviceinstance.chown", "iii", h_chown, SI, 0, "Changes service instance ownership (marketd)", LOCAL },
	{ "one.serviceinstance.rename", "is", h_rename, SI, 0, "Renames a service instance (marketd)", LOCAL },
	{ "one.serviceinstancepool.info", "|iii", h_si_pool, SI, 0, "Returns the service instance pool (marketd)", LOCAL },
	{ "one.servicebinding.allocate", "i|s", h_sb_allocate, SB, 1, "Binds a service instance: credentials (marketd)", LOCAL },
	{ "one.servicebinding.info", "i|b", h_sb_info, SB, 0, "Returns a service binding, with its credentials for the instance's owner (marketd)", LOCAL },
	{ "one.servicebinding.delete", "i", h_sb_delete, SB, 0, "Unbinds a service binding (marketd)", LOCAL },
	{ "one.servicebinding.chmod", "iiiiiiiiii", h_chmod, SB, 0, "Changes service binding permissions (marketd)", LOCAL },
	{ "one.servicebinding.chown", "iii", h_chown, SB, 0, "Changes service binding ownership (marketd)", LOCAL },
	{ "one.servicebinding.rename", "is", h_rename, SB, 0, "Renames a service binding (marketd)", LOCAL },
	{ "one.servicebindingpool.info", "|iii", h_sb_pool, SB, 0, "Returns the service binding pool (marketd)", LOCAL },
	{ "one.document.allocate", "si", h_vt_allocate, DOC, 1, "Allocates a new document of a TYPE", LOCAL },
	{ "one.document.clone", "is", h_vt_clone, DOC, 1, "Clones a document", LOCAL },
	{ "one.document.info", "i|b", h_info, DOC, 0, "Returns document information", LOCAL },
	{ "one.document.delete", "i", h_vt_delete, DOC, 0, "Deletes a document", LOCAL },
	{ "one.document.update", "is|i", h_update, DOC, 0, "Updates a document", LOCAL },
	{ "one.document.chmod", "iiiiiiiiii", h_chmod, DOC, 0, "Changes document permissions", LOCAL },
	{ "one.document.chown", "iii", h_chown, DOC, 0, "Changes document ownership", LOCAL },
	{ "one.document.rename", "is", h_rename, DOC, 0, "Renames a document", LOCAL },
	{ "one.documentpool.info", "iii|i", h_vt_pool, DOC, 0, "Returns the document pool (of a TYPE)", LOCAL },
	{ "one.user.allocate", "ss|sA", h_user_allocate, NOCLASS, "user", 1, "Allocates a new user", PROXY },
	{ "one.user.info", "|i", h_user_info, NOCLASS, "user", 0, "Returns user information", LOCAL },
	{ "one.user.passwd", "is", h_user_passwd, NOCLASS, "user", 0, "Changes a user's password", PROXY },
	{ "one.user.delete", "i", h_user_delete, NOCLASS, "user", 0, "Deletes a user", PROXY },
	{ "one.user.chgrp", "ii", h_user_chgrp, NOCLASS, "user", 0, "Changes a user's group", PROXY },
	{ "one.userpool.info", "", h_user_pool, NOCLASS, "user", 0, "Returns the user pool", LOCAL },
	{ "one.group.allocate", "s", h_group_allocate, NOCLASS, "group", 1, "Allocates a new group", PROXY },
	{ "one.group.info", "|i", h_group_info, NOCLASS, "group", 0, "Returns group information", LOCAL },
	{ "one.group.delete", "i", h_group_delete, NOCLASS, "group", 0, "Deletes a group", PROXY },
	{ "one.grouppool.info", "", h_group_pool, NOCLASS, "group", 0, "Returns the group pool", LOCAL },
	{ "one.zone.allocate", "s", h_zone_allocate, NOCLASS, "zone", 1, "Allocates a new zone", PROXY },
	{ "one.zone.delete", "i", h_zone_delete, NOCLASS, "zone", 0, "Deletes a zone", PROXY },
	{ "one.zone.update", "is|i", h_zone_update, NOCLASS, "zone", 0, "Updates a zone template", PROXY },
	{ "one.zone.rename", "is", h_zone_rename, NOCLASS, "zone", 0, "Renames a zone", PROXY },
	{ "one.zone.info", "i|b", h_zone_info, NOCLASS, "zone", 0, "Returns zone information", LOCAL },
	{ "one.zone.raftstatus", "", h_zone_raft, NOCLASS, "zone", 0, "Returns this zone's replication status", LOCAL },
	{ "one.zonepool.info", "", h_zone_pool, NOCLASS, "zone", 0, "Returns the zone pool", LOCAL },
	{ "one.zone.fedlog", "isii", h_fed_log, NOCLASS, "zone", 0, "Federation: the master's log after an index (marketd)", SERVER },
	{ "one.zone.fedsnapshot", "sii", h_fed_snapshot, NOCLASS, "zone", 0, "Federation: a page of a shared table (marketd)", SERVER },
	{ "one.zone.fedwrite", "s", h_fed_write, NOCLASS, "zone", 0, "Federation: commit a zone's writes to shared tables (marketd)", SERVER },
	{ "one.zone.fednextoid", "si", h_fed_next_oid, NOCLASS, "zone", 0, "Federation: a fresh id of a shared table (marketd)", SERVER },
	{ "one.system.version", "", h_system_version, NOCLASS, "system", 0, "Returns the version", LOCAL },
	{ "one.system.config", "", h_system_config, NOCLASS, "system", 0, "Returns the configuration", LOCAL },
};

const size_t mkt_rpc_nmethods = sizeof(mkt_rpc_methods) / sizeof(mkt_rpc_methods[0]);
