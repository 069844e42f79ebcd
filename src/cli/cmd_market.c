/*
 * cmd_market.c: the marketplace class: `market list` table and
 * `market show` block, in the layout of OpenNebula's onemarket.
 * Every market command is a generic handler of object.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "doc.h"
#include "object.h"
#include "output.h"

static const char *state_name(long long state, int shrt)
{
	switch (state) {
	case 0: return shrt ? "on" : "ENABLED";
	case 1: return shrt ? "off" : "DISABLED";
	default: return "-";
	}
}

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 },
		{ "SIZE", 1 }, { "AVAIL", 1 }, { "APPS", 1 }, { "MAD", 0 },
		{ "ZONE", 1 }, { "STAT", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	xmlNodePtr m;

	for (m = mkt_doc_first(pool, "MARKETPLACE"); m;
	     m = mkt_doc_next(m, "MARKETPLACE")) {
		long long state = -1;

		mkt_output_table_cell_take(t, mkt_doc_get(m, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "NAME"));
		mkt_output_table_cell_take(t, mkt_output_size_at(m, "TOTAL_MB"));
		mkt_output_table_cell_take(t, mkt_output_avail(m));
		mkt_output_table_cellf(t, "%zu",
				       mkt_doc_count(mkt_doc_find(m, "MARKETPLACEAPPS"), "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "MARKET_MAD"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "ZONE_ID"));
		mkt_doc_get_long(m, "STATE", &state);
		mkt_output_table_cell(t, state_name(state, 1));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr m)
{
	char *id = mkt_doc_get_or(m, "ID", "-");
	long long state = -1;
	xmlNodePtr n;
	int ret;

	fprintf(fp, "MARKETPLACE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(m, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(m, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(m, "GNAME"));
	mkt_doc_get_long(m, "STATE", &state);
	mkt_output_kv(fp, "STATE", state_name(state, 0));
	mkt_output_kv_take(fp, "MARKET_MAD", mkt_doc_get(m, "MARKET_MAD"));
	mkt_output_kv_take(fp, "ZONE_ID", mkt_doc_get(m, "ZONE_ID"));

	mkt_output_section(fp, "MARKETPLACE CAPACITY");
	mkt_output_kv_take(fp, "TOTAL", mkt_output_size_at(m, "TOTAL_MB"));
	mkt_output_kv_take(fp, "FREE", mkt_output_size_at(m, "FREE_MB"));
	mkt_output_kv_take(fp, "USED", mkt_output_size_at(m, "USED_MB"));

	mkt_output_permissions(fp, m);

	if ((ret = mkt_output_template(fp, "MARKETPLACE TEMPLATE",
				       mkt_doc_find(m, "TEMPLATE"))) < 0)
		return ret;

	mkt_output_section(fp, "MARKETAPPS");
	for (n = mkt_doc_first(mkt_doc_find(m, "MARKETPLACEAPPS"), "ID"); n;
	     n = mkt_doc_next(n, "ID")) {
		char *appid = mkt_doc_text(n);

		fprintf(fp, "%s\n", appid);
		free(appid);
	}
	return 0;
}

const mkt_cli_class mkt_cmd_market_class = {
	.name = "market",
	.label = "marketplace",
	.prefix = "one.market",
	.pool_method = "one.marketpool.info",
	.pool_filtered = 0,
	.pool_root = "MARKETPLACE_POOL",
	.root = "MARKETPLACE",
	.print_list = print_list,
	.print_show = print_show,
};
