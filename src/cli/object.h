/*
 * object.h: object classes and the handlers every class shares.
 *
 * Each object marketctl handles (market, app, datastore, image, user,
 * group) is one class row: its XML-RPC method prefix, its pool call and
 * root elements, the functions printing its table and INFORMATION block,
 * and for objects filled in the background the states --wait reads.  The generic
 * handlers below (show, delete, chmod, chown, ...) are parameterised by
 * the command row's class, so one.market.chown and one.marketapp.chown go
 * through the same code.
 */
#ifndef MKT_OBJECT_H
#define MKT_OBJECT_H

#include <stdio.h>
#include <libxml/tree.h>

#include "cli.h"

/*
 * The STATE values of a class whose objects marketd works on in the
 * background (apps and images being filled, service instances and
 * bindings while their broker works): what --wait waits through and what
 * ends it.
 */
typedef struct {
	int ready;                  /* the wait succeeds */
	int error;                  /* the wait fails with the error_path text */
	unsigned pending;           /* bit (1u << STATE) for each state to wait through */
	unsigned removing;          /* the same for a delete's wait (mkt_wait_gone) */
	const char *const *names;   /* long state names, index = value */
	size_t nnames;
	const char *error_path;     /* where the reason is; NULL: TEMPLATE/ERROR */
	int ready_error;            /* ready with a reason is a failure (a failed update) */
	int announce;               /* --wait prints each state it sees */
	const char *work;           /* what marketd goes on with; NULL: "the transfer" */
} mkt_cli_states;

struct mkt_cli_class {
	const char *name;           /* CLI object word: "market" */
	const char *label;          /* for messages: "marketplace" */
	const char *prefix;         /* method prefix: "one.market" */
	const char *pool_method;    /* "one.marketpool.info" */
	int pool_filtered;          /* pool info takes (filter, -1, -1) */
	const char *pool_root;      /* "MARKETPLACE_POOL" */
	const char *root;           /* "MARKETPLACE" */
	/* Print the pool as a table / one object as an INFORMATION block. */
	int (*print_list)(FILE *fp, xmlNodePtr pool);
	int (*print_show)(FILE *fp, xmlNodePtr obj);
	/* NULL for classes with nothing to wait for. */
	const mkt_cli_states *states;
	/* Warnings about the objects of a list (@pool) or show, printed on
	 * stderr whatever the output format; NULL for none. */
	void (*warn)(FILE *fp, xmlNodePtr root, int pool);
};

extern const mkt_cli_class mkt_cmd_market_class;
extern const mkt_cli_class mkt_cmd_app_class;
extern const mkt_cli_class mkt_cmd_user_class;
extern const mkt_cli_class mkt_cmd_group_class;
extern const mkt_cli_class mkt_cmd_zone_class;
extern const mkt_cli_class mkt_cmd_datastore_class;
extern const mkt_cli_class mkt_cmd_image_class;
extern const mkt_cli_class mkt_cmd_template_class;
extern const mkt_cli_class mkt_cmd_document_class;
extern const mkt_cli_class mkt_cmd_service_class;
extern const mkt_cli_class mkt_cmd_binding_class;

/* Set a usage error (exit status 2) and return MKT_CLI_EUSAGE. */
int mkt_object_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Resolve an ID argument: a non-negative number is an id as it is; any
 * other text is a NAME looked up in the class's pool.  Unknown and
 * ambiguous names are errors naming the candidates.
 */
int mkt_object_resolve(mkt_cli *cli, const mkt_cli_class *cls,
		       const char *arg, long long *out);

/* The pool filter of a filtered list: --mine/--group/--all, or the id of
 * the --user USER (resolved). */
int mkt_object_filter(mkt_cli *cli, long long *out);

/*
 * <prefix>.info(@id) parsed: the document in *out (free with xmlFreeDoc)
 * and, when @raw is not NULL, the XML text in *raw (malloc'ed).
 */
int mkt_object_info(mkt_cli *cli, const mkt_cli_class *cls, long long id,
		    xmlDocPtr *out, char **raw);

/* The long name of an object's STATE ("READY"), "-" when unknown; @cls
 * must have states. */
const char *mkt_object_state_name(const mkt_cli_class *cls, xmlNodePtr obj);

/* The pool document of @cls (XML text, malloc'ed); @filter is used only
 * by classes whose pool call takes one. */
int mkt_object_pool(mkt_cli *cli, const mkt_cli_class *cls, int filter,
		    char **out);

/*
 * Print a reply the way cli->output asks: --xml prints @raw (or @doc
 * when @raw is NULL), --json converts @doc, the default calls the class's
 * print_list (@pool) or print_show.  The class's warnings go to stderr
 * first, in every format.
 */
int mkt_object_output(mkt_cli *cli, const mkt_cli_class *cls,
		      const char *raw, xmlDocPtr doc, int pool);

/* Read a template argument: FILE, or "-" for standard input. */
int mkt_object_read_template(char **out, const char *path);

/* Print "ID: <n>" after a create (flushed: a --wait may follow). */
void mkt_object_print_id(long long id);

/*
 * A template of the attributes given by command-line options (@names and
 * @values, @n of them; NULL values are skipped), as template text in *out
 * (malloc'ed).  When @base is not NULL (a template file read by
 * mkt_object_read_template) the attributes are set in it, replacing any of
 * the same name.
 */
int mkt_object_build_template(char **out, const char *base, const char *const *names,
			      const char *const *values, size_t n);

/* @path made absolute against the working directory, unless it is a URL
 * (malloc'ed). */
char *mkt_object_abs_source(const char *path);

/* The last segment of a path or URL (no query or fragment), malloc'ed;
 * NULL when there is none ("http://host/"). */
char *mkt_object_basename(const char *path);

/* Generic handlers (mkt_cli_handler), for any class with the method.
 * delete with --wait (a command row with MKT_CLI_OPT_*WAIT) waits until
 * the object is gone (mkt_wait_gone; the class must have states). */
int mkt_object_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_show(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_update(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_delete(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_chmod(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_chown(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_chgrp(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_rename(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_enable(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_disable(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_lock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_object_unlock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);

/* Class-specific handlers. */
int mkt_cmd_market_monitor(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_export(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_download(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_image_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_passwd(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_chgrp(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_group_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_zone_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_zone_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_service_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_service_update(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_binding_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_system_version(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);

#endif
