/*
 * methods.c: the API method table and its handlers.
 *
 * Handlers only translate arguments into core calls: authorization,
 * validation and transactions live in the core, and error replies are
 * built by the dispatcher.
 */
#include <config.h>

#include <stdlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "core/user.h"
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

static int h_info(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_object_info(core, who, m->cls, a[0].i, &xml);

	return ret_text(out, ret, xml);
}

static int h_update(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int merge = a[2].present ? a[2].i : 0;

	if (merge != 0 && merge != 1)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC,
				     "update type must be 0 (replace) or 1 (merge), not %d", merge);
	return mkt_object_update(core, who, m->cls, a[0].i, a[1].s, merge) ?:
	       ret_id(out, a[0].i);
}

static int h_chmod(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int perms[MKT_PERM_BITS], i;

	for (i = 0; i < MKT_PERM_BITS; i++)
		perms[i] = a[1 + i].i;
	return mkt_object_chmod(core, who, m->cls, a[0].i, perms) ?: ret_id(out, a[0].i);
}

static int h_chown(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_chown(core, who, m->cls, a[0].i, a[1].i, a[2].i) ?:
	       ret_id(out, a[0].i);
}

static int h_rename(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_rename(core, who, m->cls, a[0].i, a[1].s) ?: ret_id(out, a[0].i);
}

static int h_lock(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_lock(core, who, m->cls, a[0].i, a[1].i, a[2].present && a[2].i) ?:
	       ret_id(out, a[0].i);
}

static int h_unlock(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_object_unlock(core, who, m->cls, a[0].i) ?: ret_id(out, a[0].i);
}

/* ---- markets ---------------------------------------------------------- */

static int h_market_allocate(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			     const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_market_allocate(core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_market_delete(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_market_delete(core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_market_enable(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_market_enable(core, who, a[0].i, a[1].i) ?: ret_id(out, a[0].i);
}

static int h_market_pool(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_market_pool(core, who, &xml);

	return ret_text(out, ret, xml);
}

/* ---- apps ------------------------------------------------------------- */

static int h_app_allocate(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_app_allocate(core, who, a[0].s, a[1].i, &id) ?: ret_id(out, id);
}

static int h_app_delete(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_app_delete(core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_app_enable(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_app_enable(core, who, a[0].i, a[1].i) ?: ret_id(out, a[0].i);
}

static int h_app_pool(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		      const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_app_pool(core, who, a[0].i, a[1].i, a[2].i, &xml);

	return ret_text(out, ret, xml);
}

/* ---- users and groups ------------------------------------------------- */

static int h_user_allocate(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_user_allocate(core, who, a[0].s, a[1].s, a[2].present ? a[2].s : "core",
				 a[3].ints, a[3].nints, &id) ?: ret_id(out, id);
}

static int h_user_info(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_user_info(core, who, a[0].present ? a[0].i : -1, &xml);

	return ret_text(out, ret, xml);
}

static int h_user_passwd(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_passwd(core, who, a[0].i, a[1].s) ?: ret_id(out, a[0].i);
}

static int h_user_delete(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			 const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_delete(core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_user_chgrp(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_user_chgrp(core, who, a[0].i, a[1].i) ?: ret_id(out, a[0].i);
}

static int h_user_pool(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
		       const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_user_pool(core, who, &xml);

	return ret_text(out, ret, xml);
}

static int h_group_allocate(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	int id = -1;

	return mkt_group_allocate(core, who, a[0].s, &id) ?: ret_id(out, id);
}

static int h_group_info(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_group_info(core, who, a[0].present ? a[0].i : -1, &xml);

	return ret_text(out, ret, xml);
}

static int h_group_delete(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			  const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return mkt_group_delete(core, who, a[0].i) ?: ret_id(out, a[0].i);
}

static int h_group_pool(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	char *xml = NULL;
	int ret = mkt_group_pool(core, who, &xml);

	return ret_text(out, ret, xml);
}

/* ---- system ----------------------------------------------------------- */

static int h_system_version(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			    const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	return ret_text(out, 0, mkt_strdup(PACKAGE_VERSION));
}

static int h_system_config(mkt_core *core, const mkt_principal *who, const mkt_rpc_method *m,
			   const mkt_rpc_arg *a, mkt_rpc_result *out)
{
	mkt_buf b = MKT_BUF_INIT;

	if (!who->admin)
		return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				     "Not authorized to perform ADMIN SYSTEM [-1].");
	mkt_template_format_xml(core->conf->tmpl, &b, "OPENNEBULA_CONFIGURATION");
	return ret_text(out, 0, mkt_buf_steal(&b));
}

#define MARKET &mkt_market_class, "marketplace"
#define APP &mkt_app_class, "marketplaceapp"
#define NOCLASS NULL

const mkt_rpc_method mkt_rpc_methods[] = {
	{ "one.market.allocate", "s", h_market_allocate, MARKET, 1, "Allocates a new marketplace" },
	{ "one.market.delete", "i", h_market_delete, MARKET, 0, "Deletes a marketplace" },
	{ "one.market.update", "is|i", h_update, MARKET, 0, "Updates a marketplace template" },
	{ "one.market.chmod", "iiiiiiiiii", h_chmod, MARKET, 0, "Changes marketplace permissions" },
	{ "one.market.chown", "iii", h_chown, MARKET, 0, "Changes marketplace ownership" },
	{ "one.market.rename", "is", h_rename, MARKET, 0, "Renames a marketplace" },
	{ "one.market.info", "i|b", h_info, MARKET, 0, "Returns marketplace information" },
	{ "one.market.enable", "ib", h_market_enable, MARKET, 0, "Enables or disables a marketplace" },
	{ "one.marketpool.info", "", h_market_pool, MARKET, 0, "Returns the marketplace pool" },
	{ "one.marketapp.allocate", "si", h_app_allocate, APP, 1, "Allocates a new marketplace app" },
	{ "one.marketapp.delete", "i", h_app_delete, APP, 0, "Deletes a marketplace app" },
	{ "one.marketapp.update", "is|i", h_update, APP, 0, "Updates a marketplace app template" },
	{ "one.marketapp.chmod", "iiiiiiiiii", h_chmod, APP, 0, "Changes app permissions" },
	{ "one.marketapp.chown", "iii", h_chown, APP, 0, "Changes app ownership" },
	{ "one.marketapp.rename", "is", h_rename, APP, 0, "Renames a marketplace app" },
	{ "one.marketapp.info", "i|b", h_info, APP, 0, "Returns marketplace app information" },
	{ "one.marketapp.enable", "ib", h_app_enable, APP, 0, "Enables or disables an app" },
	{ "one.marketapp.lock", "ii|b", h_lock, APP, 0, "Locks a marketplace app" },
	{ "one.marketapp.unlock", "i", h_unlock, APP, 0, "Unlocks a marketplace app" },
	{ "one.marketapppool.info", "iii", h_app_pool, APP, 0, "Returns the marketplace app pool" },
	{ "one.user.allocate", "ss|sA", h_user_allocate, NOCLASS, "user", 1, "Allocates a new user" },
	{ "one.user.info", "|i", h_user_info, NOCLASS, "user", 0, "Returns user information" },
	{ "one.user.passwd", "is", h_user_passwd, NOCLASS, "user", 0, "Changes a user's password" },
	{ "one.user.delete", "i", h_user_delete, NOCLASS, "user", 0, "Deletes a user" },
	{ "one.user.chgrp", "ii", h_user_chgrp, NOCLASS, "user", 0, "Changes a user's group" },
	{ "one.userpool.info", "", h_user_pool, NOCLASS, "user", 0, "Returns the user pool" },
	{ "one.group.allocate", "s", h_group_allocate, NOCLASS, "group", 1, "Allocates a new group" },
	{ "one.group.info", "|i", h_group_info, NOCLASS, "group", 0, "Returns group information" },
	{ "one.group.delete", "i", h_group_delete, NOCLASS, "group", 0, "Deletes a group" },
	{ "one.grouppool.info", "", h_group_pool, NOCLASS, "group", 0, "Returns the group pool" },
	{ "one.system.version", "", h_system_version, NOCLASS, "system", 0, "Returns the version" },
	{ "one.system.config", "", h_system_config, NOCLASS, "system", 0, "Returns the configuration" },
};

const size_t mkt_rpc_nmethods = sizeof(mkt_rpc_methods) / sizeof(mkt_rpc_methods[0]);
