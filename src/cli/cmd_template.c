/*
 * cmd_template.c: VM templates and documents (what template apps are
 * exported to): `template list|show|delete` and `document ...`, in the
 * layout of OpenNebula's onetemplate.  Generic handlers of object.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "doc.h"
#include "object.h"
#include "output.h"

/* Documents have no REGTIME in OpenNebula's schema: "-" then. */
static char *regtime(xmlNodePtr n)
{
	long long t = 0;

	if (mkt_doc_get_long(n, "REGTIME", &t) < 0 || t <= 0)
		return mkt_strdup("-");
	return mkt_output_time(t, 1);
}

/* Both lists: ID USER GROUP NAME REGTIME, documents with their TYPE. */
static int print_rows(FILE *fp, xmlNodePtr pool, const char *root, int with_type)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 }, { "REGTIME", 0 },
		{ "TYPE", 1 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, with_type ? 6 : 5);
	xmlNodePtr n;

	for (n = mkt_doc_first(pool, root); n; n = mkt_doc_next(n, root)) {
		mkt_output_table_cell_take(t, mkt_doc_get(n, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(n, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(n, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(n, "NAME"));
		mkt_output_table_cell_take(t, regtime(n));
		if (with_type)
			mkt_output_table_cell_take(t, mkt_doc_get(n, "TYPE"));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_block(FILE *fp, xmlNodePtr n, const char *what, int with_type)
{
	char *id = mkt_doc_get_or(n, "ID", "-");

	fprintf(fp, "%s %s INFORMATION\n", what, id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(n, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(n, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(n, "GNAME"));
	if (with_type)
		mkt_output_kv_take(fp, "TYPE", mkt_doc_get(n, "TYPE"));
	mkt_output_kv_take(fp, "REGISTER TIME", regtime(n));
	mkt_output_permissions(fp, n);
	return mkt_output_template(fp, with_type ? "DOCUMENT TEMPLATE" : "TEMPLATE CONTENTS",
				   mkt_doc_find(n, "TEMPLATE"));
}

static int template_list(FILE *fp, xmlNodePtr pool)
{
	return print_rows(fp, pool, "VMTEMPLATE", 0);
}

static int template_show(FILE *fp, xmlNodePtr n)
{
	return print_block(fp, n, "TEMPLATE", 0);
}

static int document_list(FILE *fp, xmlNodePtr pool)
{
	return print_rows(fp, pool, "DOCUMENT", 1);
}

static int document_show(FILE *fp, xmlNodePtr n)
{
	return print_block(fp, n, "DOCUMENT", 1);
}

const mkt_cli_class mkt_cmd_template_class = {
	.name = "template",
	.label = "VM template",
	.prefix = "one.template",
	.pool_method = "one.templatepool.info",
	.pool_filtered = 1,
	.pool_root = "VMTEMPLATE_POOL",
	.root = "VMTEMPLATE",
	.print_list = template_list,
	.print_show = template_show,
};

const mkt_cli_class mkt_cmd_document_class = {
	.name = "document",
	.label = "document",
	.prefix = "one.document",
	.pool_method = "one.documentpool.info",
	.pool_filtered = 1,
	.pool_root = "DOCUMENT_POOL",
	.root = "DOCUMENT",
	.print_list = document_list,
	.print_show = document_show,
};
