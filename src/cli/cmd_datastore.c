/*
 * cmd_datastore.c: the datastore class: `datastore list` table and
 * `datastore show` block, in the layout of OpenNebula's onedatastore.
 * Every datastore command is a generic handler of object.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"

#include "doc.h"
#include "object.h"
#include "output.h"

/* Datastore::DatastoreType, ::DiskType and ::DatastoreState (index = value). */
static const char *const type_long[] = { "IMAGE", "SYSTEM", "FILE" };
static const char *const type_short[] = { "img", "sys", "fil" };
static const char *const disk_types[] = { "FILE", "CD_ROM", "BLOCK", "RBD" };
static const char *const state_long[] = { "READY", "DISABLED" };
static const char *const state_short[] = { "on", "off" };

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 },
		{ "SIZE", 1 }, { "AVAIL", 1 }, { "IMAGES", 1 }, { "TYPE", 0 },
		{ "DS", 0 }, { "TM", 0 }, { "STAT", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, N_ELEMS(cols));
	xmlNodePtr d;

	for (d = mkt_doc_first(pool, "DATASTORE"); d; d = mkt_doc_next(d, "DATASTORE")) {
		mkt_output_table_cell_take(t, mkt_doc_get(d, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(d, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(d, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(d, "NAME"));
		mkt_output_table_cell_take(t, mkt_output_size_at(d, "TOTAL_MB"));
		mkt_output_table_cell_take(t, mkt_output_avail(d));
		mkt_output_table_cellf(t, "%zu", mkt_doc_count(mkt_doc_find(d, "IMAGES"), "ID"));
		mkt_output_table_cell(t, mkt_output_enum(d, "TYPE", type_short, N_ELEMS(type_short)));
		mkt_output_table_cell_take(t, mkt_doc_get(d, "DS_MAD"));
		mkt_output_table_cell_take(t, mkt_doc_get(d, "TM_MAD"));
		mkt_output_table_cell(t, mkt_output_enum(d, "STATE", state_short, N_ELEMS(state_short)));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

/* The ids below @list (<CLUSTERS><ID>0</ID>...) as "0,1". */
static char *id_list(xmlNodePtr list)
{
	mkt_buf b = MKT_BUF_INIT;
	xmlNodePtr n;

	for (n = mkt_doc_first(list, "ID"); n; n = mkt_doc_next(n, "ID")) {
		char *id = mkt_doc_text(n);

		mkt_buf_printf(&b, "%s%s", b.len ? "," : "", id);
		free(id);
	}
	return mkt_buf_steal(&b);
}

static int print_show(FILE *fp, xmlNodePtr d)
{
	char *id = mkt_doc_get_or(d, "ID", "-");
	xmlNodePtr n;
	int ret;

	fprintf(fp, "DATASTORE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(d, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(d, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(d, "GNAME"));
	mkt_output_kv_take(fp, "CLUSTERS", id_list(mkt_doc_find(d, "CLUSTERS")));
	mkt_output_kv(fp, "TYPE", mkt_output_enum(d, "TYPE", type_long, N_ELEMS(type_long)));
	mkt_output_kv_take(fp, "DS_MAD", mkt_doc_get(d, "DS_MAD"));
	mkt_output_kv_take(fp, "TM_MAD", mkt_doc_get(d, "TM_MAD"));
	mkt_output_kv_take(fp, "BASE PATH", mkt_doc_get(d, "BASE_PATH"));
	mkt_output_kv(fp, "DISK_TYPE", mkt_output_enum(d, "DISK_TYPE", disk_types,
						       N_ELEMS(disk_types)));
	mkt_output_kv(fp, "STATE", mkt_output_enum(d, "STATE", state_long, N_ELEMS(state_long)));

	mkt_output_section(fp, "DATASTORE CAPACITY");
	mkt_output_kv_take(fp, "TOTAL", mkt_output_size_at(d, "TOTAL_MB"));
	mkt_output_kv_take(fp, "FREE", mkt_output_size_at(d, "FREE_MB"));
	mkt_output_kv_take(fp, "USED", mkt_output_size_at(d, "USED_MB"));

	mkt_output_permissions(fp, d);

	if ((ret = mkt_output_template(fp, "DATASTORE TEMPLATE",
				       mkt_doc_find(d, "TEMPLATE"))) < 0)
		return ret;

	mkt_output_section(fp, "IMAGES");
	for (n = mkt_doc_first(mkt_doc_find(d, "IMAGES"), "ID"); n; n = mkt_doc_next(n, "ID")) {
		char *image_id = mkt_doc_text(n);

		fprintf(fp, "%s\n", image_id);
		free(image_id);
	}
	return 0;
}

const mkt_cli_class mkt_cmd_datastore_class = {
	.name = "datastore",
	.label = "datastore",
	.prefix = "one.datastore",
	.pool_method = "one.datastorepool.info",
	.pool_filtered = 0,
	.pool_root = "DATASTORE_POOL",
	.root = "DATASTORE",
	.print_list = print_list,
	.print_show = print_show,
};
