/*
 * cmd_user.c: the user class (`user list` table and `user show` block,
 * like OpenNebula's oneuser) and the commands only users have: create,
 * passwd and chgrp.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <xmlrpc-c/base.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

#include "doc.h"
#include "object.h"
#include "output.h"

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "NAME", 0 }, { "GROUP", 0 }, { "AUTH", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	xmlNodePtr u;

	for (u = mkt_doc_first(pool, "USER"); u; u = mkt_doc_next(u, "USER")) {
		mkt_output_table_cell_take(t, mkt_doc_get(u, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(u, "NAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(u, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(u, "AUTH_DRIVER"));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr u)
{
	char *id = mkt_doc_get_or(u, "ID", "-");
	mkt_buf groups = MKT_BUF_INIT;
	xmlNodePtr n;
	int ret;

	for (n = mkt_doc_first(mkt_doc_find(u, "GROUPS"), "ID"); n;
	     n = mkt_doc_next(n, "ID")) {
		char *gid = mkt_doc_text(n);

		mkt_buf_printf(&groups, "%s%s", groups.len ? "," : "", gid);
		free(gid);
	}

	fprintf(fp, "USER %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(u, "NAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(u, "GNAME"));
	mkt_output_kv_take(fp, "GID", mkt_doc_get(u, "GID"));
	mkt_output_kv(fp, "GROUPS", mkt_buf_cstr(&groups));
	mkt_output_kv_take(fp, "AUTH_DRIVER", mkt_doc_get(u, "AUTH_DRIVER"));
	mkt_output_kv(fp, "ENABLED", mkt_output_yes_no(u, "ENABLED"));
	mkt_buf_free(&groups);

	ret = mkt_output_template(fp, "USER TEMPLATE", mkt_doc_find(u, "TEMPLATE"));
	return ret;
}

const mkt_cli_class mkt_cmd_user_class = {
	.name = "user",
	.label = "user",
	.prefix = "one.user",
	.pool_method = "one.userpool.info",
	.pool_filtered = 0,
	.pool_root = "USER_POOL",
	.root = "USER",
	.print_list = print_list,
	.print_show = print_show,
};

/* The --group arguments as an XML-RPC array of group ids. */
static int group_array(mkt_cli *cli, xmlrpc_value **out)
{
	xmlrpc_env env;
	xmlrpc_value *arr, *item;
	long long gid;
	size_t i;
	int ret = 0;

	xmlrpc_env_init(&env);
	arr = xmlrpc_array_new(&env);
	for (i = 0; i < cli->ngroups && !env.fault_occurred; i++) {
		if ((ret = mkt_object_resolve(cli, &mkt_cmd_group_class,
					      cli->groups[i], &gid)) < 0)
			break;
		item = xmlrpc_int_new(&env, (int)gid);
		xmlrpc_array_append_item(&env, arr, item);
		xmlrpc_DECREF(item);
	}
	if (ret == 0 && env.fault_occurred)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
				    "cannot build the group list: %s", env.fault_string);
	if (ret < 0) {
		xmlrpc_DECREF(arr);
		arr = NULL;
	}
	*out = arr;
	xmlrpc_env_clean(&env);
	return ret;
}

int mkt_cmd_user_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	xmlrpc_value *gids = NULL;
	long long id;
	int ret;

	if (!*argv[0]) {
		ret = mkt_object_usage("the user name must not be empty");
		goto cleanup;
	}
	if ((ret = group_array(cli, &gids)) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, "one.user.allocate", "sssA",
				      argv[0], argv[1], "core", gids)) < 0)
		goto cleanup;
	mkt_object_print_id(id);

 cleanup:
	if (gids)
		xmlrpc_DECREF(gids);
	return ret;
}

int mkt_cmd_user_passwd(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	long long id, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0)
		return ret;
	return mkt_client_call_id(cli->client, &rid, "one.user.passwd", "is",
				  (int)id, argv[1]);
}

int mkt_cmd_user_chgrp(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	long long id, gid, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0 ||
	    (ret = mkt_object_resolve(cli, &mkt_cmd_group_class, argv[1], &gid)) < 0)
		return ret;
	return mkt_client_call_id(cli->client, &rid, "one.user.chgrp", "ii",
				  (int)id, (int)gid);
}
