/*
 * cmd_image.c: the image class (`image list` table and `image show`
 * block, in the layout of OpenNebula's oneimage) and `image create`,
 * from a template or from --path.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"

#include "doc.h"
#include "object.h"
#include "output.h"
#include "progress.h"
#include "wait.h"

/* Image::ImageState and ::ImageType, long and short (index = value). */
static const char *const state_long[] = {
	"INIT", "READY", "USED", "DISABLED", "LOCKED", "ERROR", "CLONE", "DELETE",
	"USED_PERS", "LOCKED_USED", "LOCKED_USED_PERS",
};
static const char *const state_short[] = {
	"init", "rdy", "used", "disa", "lock", "err", "clon", "dele", "used", "lock", "lock",
};
static const char *const type_long[] = {
	"OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT",
};
static const char *const type_short[] = { "OS", "CD", "DB", "KL", "RD", "CX" };
static const char *const lock_names[] = { "None", "Use", "Manage", "Admin", "All" };

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 },
		{ "DATASTORE", 0 }, { "SIZE", 1 }, { "TYPE", 0 }, { "STAT", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, N_ELEMS(cols));
	xmlNodePtr im;

	for (im = mkt_doc_first(pool, "IMAGE"); im; im = mkt_doc_next(im, "IMAGE")) {
		mkt_output_table_cell_take(t, mkt_doc_get(im, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(im, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(im, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(im, "NAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(im, "DATASTORE"));
		mkt_output_table_cell_take(t, mkt_output_size_at(im, "SIZE"));
		mkt_output_table_cell(t, mkt_output_enum(im, "TYPE", type_short, N_ELEMS(type_short)));
		mkt_output_table_cell(t, mkt_output_enum(im, "STATE", state_short, N_ELEMS(state_short)));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr im)
{
	char *id = mkt_doc_get_or(im, "ID", "-");
	xmlNodePtr lock = mkt_doc_find(im, "LOCK");
	long long t;

	fprintf(fp, "IMAGE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(im, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(im, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(im, "GNAME"));
	mkt_output_kv(fp, "LOCK", lock ? mkt_output_enum(lock, "LOCKED", lock_names,
							  N_ELEMS(lock_names)) : "None");
	mkt_output_kv_take(fp, "DATASTORE", mkt_doc_get(im, "DATASTORE"));
	mkt_output_kv(fp, "TYPE", mkt_output_enum(im, "TYPE", type_long, N_ELEMS(type_long)));
	mkt_output_kv_take(fp, "REGISTER TIME",
			   mkt_doc_get_long(im, "REGTIME", &t) == 0 ?
			   mkt_output_time(t, 1) : mkt_strdup("-"));
	mkt_output_kv(fp, "PERSISTENT", mkt_output_yes_no(im, "PERSISTENT"));
	mkt_output_kv_take(fp, "SOURCE", mkt_doc_get(im, "SOURCE"));
	mkt_output_kv_take(fp, "PATH", mkt_doc_get(im, "PATH"));
	mkt_output_kv_take(fp, "FORMAT", mkt_doc_get(im, "FORMAT"));
	mkt_output_kv_take(fp, "SIZE", mkt_output_size_at(im, "SIZE"));
	mkt_output_kv(fp, "STATE", mkt_output_enum(im, "STATE", state_long, N_ELEMS(state_long)));
	mkt_output_kv_take(fp, "RUNNING_VMS", mkt_doc_get(im, "RUNNING_VMS"));
	mkt_progress_print(fp, im);

	mkt_output_permissions(fp, im);

	return mkt_output_template(fp, "IMAGE TEMPLATE", mkt_doc_find(im, "TEMPLATE"));
}

/* Filled while LOCKED (or INIT); READY or ERROR when the copy ended. */
static const mkt_cli_states states = {
	.ready = 1,
	.error = 5,
	.pending = (1u << 0) | (1u << 4),
	.names = state_long,
	.nnames = N_ELEMS(state_long),
};

const mkt_cli_class mkt_cmd_image_class = {
	.name = "image",
	.label = "image",
	.prefix = "one.image",
	.pool_method = "one.imagepool.info",
	.pool_filtered = 1,
	.pool_root = "IMAGE_POOL",
	.root = "IMAGE",
	.print_list = print_list,
	.print_show = print_show,
	.states = &states,
};

/*
 * The template of `image create`: FILE with --name/--type set in it, or
 * NAME (default: the base name of --path), PATH (made absolute) and TYPE
 * (default OS) from --path.
 */
static int create_template(mkt_cli *cli, const char *file, char **out)
{
	static const char *const names[] = { "NAME", "PATH", "TYPE" };
	const char *values[N_ELEMS(names)] = { cli->name, NULL, NULL };
	char *base = NULL, *name = NULL, *path = NULL, *type = NULL;
	size_t i;
	int ret;

	*out = NULL;
	if (cli->image_type) {
		type = mkt_strdup(cli->image_type);
		for (i = 0; type[i]; i++)
			type[i] = (char)toupper((unsigned char)type[i]);
		values[2] = type;
	}
	if (file) {
		if ((ret = mkt_object_read_template(&base, file)) < 0)
			goto cleanup;
		if (!cli->name && !type) {
			*out = MKT_STEAL(base);     /* sent as it is */
			goto cleanup;
		}
	} else {
		if (!cli->name && !(name = mkt_object_basename(cli->path))) {
			ret = mkt_object_usage("cannot take an image name from '%s': give --name",
					       cli->path);
			goto cleanup;
		}
		if (!cli->name)
			values[0] = name;
		path = mkt_object_abs_source(cli->path);
		values[1] = path;
		if (!type)
			values[2] = "OS";
	}
	ret = mkt_object_build_template(out, base, names, values, N_ELEMS(names));

 cleanup:
	free(base);
	free(name);
	free(path);
	free(type);
	return ret;
}

int mkt_cmd_image_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *tmpl = NULL;
	long long ds_id, id;
	int ret;

	if (!cli->datastore) {
		ret = mkt_object_usage("image create needs --datastore DS");
		goto cleanup;
	}
	if ((argc > 0) + !!cli->path != 1) {
		ret = mkt_object_usage("image create needs one of FILE and --path FILE_OR_URL");
		goto cleanup;
	}
	if ((ret = create_template(cli, argc > 0 ? argv[0] : NULL, &tmpl)) < 0 ||
	    (ret = mkt_object_resolve(cli, &mkt_cmd_datastore_class, cli->datastore,
				      &ds_id)) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, "one.image.allocate", "si", tmpl,
				      (int)ds_id)) < 0)
		goto cleanup;
	mkt_object_print_id(id);
	if (cli->wait)
		ret = mkt_wait_object(cli, cmd->cls, id);

 cleanup:
	free(tmpl);
	return ret;
}
