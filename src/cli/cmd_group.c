/*
 * cmd_group.c: the group class (`group list` table and `group show`
 * block, like OpenNebula's onegroup) and `group create`.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "doc.h"
#include "object.h"
#include "output.h"

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "NAME", 0 }, { "USERS", 1 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	xmlNodePtr g;

	for (g = mkt_doc_first(pool, "GROUP"); g; g = mkt_doc_next(g, "GROUP")) {
		mkt_output_table_cell_take(t, mkt_doc_get(g, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(g, "NAME"));
		mkt_output_table_cellf(t, "%zu",
				       mkt_doc_count(mkt_doc_find(g, "USERS"), "ID"));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr g)
{
	char *id = mkt_doc_get_or(g, "ID", "-");
	xmlNodePtr n;
	int ret;

	fprintf(fp, "GROUP %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(g, "NAME"));

	if ((ret = mkt_output_template(fp, "GROUP TEMPLATE",
				       mkt_doc_find(g, "TEMPLATE"))) < 0)
		return ret;

	mkt_output_section(fp, "USERS");
	for (n = mkt_doc_first(mkt_doc_find(g, "USERS"), "ID"); n;
	     n = mkt_doc_next(n, "ID")) {
		char *uid = mkt_doc_text(n);

		fprintf(fp, "%s\n", uid);
		free(uid);
	}
	return 0;
}

const mkt_cli_class mkt_cmd_group_class = {
	.name = "group",
	.label = "group",
	.prefix = "one.group",
	.pool_method = "one.grouppool.info",
	.pool_filtered = 0,
	.pool_root = "GROUP_POOL",
	.root = "GROUP",
	.print_list = print_list,
	.print_show = print_show,
};

int mkt_cmd_group_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	long long id;
	int ret;

	if (!*argv[0])
		return mkt_object_usage("the group name must not be empty");
	if ((ret = mkt_client_call_id(cli->client, &id, "one.group.allocate", "s",
				      argv[0])) < 0)
		return ret;
	mkt_object_print_id(id);
	return 0;
}
