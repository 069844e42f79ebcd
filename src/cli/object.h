/*
 * object.h: object classes and the handlers every class shares.
 *
 * Each object marketctl handles (market, app, user, group) is one class
 * row: its XML-RPC method prefix, its pool call and root elements, and the
 * functions printing its table and INFORMATION block.  The generic
 * handlers below (show, delete, chmod, chown, ...) are parameterised by
 * the command row's class, so one.market.chown and one.marketapp.chown go
 * through the same code.
 */
#ifndef MKT_OBJECT_H
#define MKT_OBJECT_H

#include <stdio.h>
#include <libxml/tree.h>

#include "cli.h"

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
};

extern const mkt_cli_class mkt_cmd_market_class;
extern const mkt_cli_class mkt_cmd_app_class;
extern const mkt_cli_class mkt_cmd_user_class;
extern const mkt_cli_class mkt_cmd_group_class;

/* Set a usage error (exit status 2) and return MKT_CLI_EUSAGE. */
int mkt_object_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Resolve an ID argument: a non-negative number is an id as it is; any
 * other text is a NAME looked up in the class's pool.  Unknown and
 * ambiguous names are errors naming the candidates.
 */
int mkt_object_resolve(mkt_cli *cli, const mkt_cli_class *cls,
		       const char *arg, long long *out);

/* The pool document of @cls (XML text, malloc'ed); @filter is used only
 * by classes whose pool call takes one. */
int mkt_object_pool(mkt_cli *cli, const mkt_cli_class *cls, int filter,
		    char **out);

/*
 * Print a reply the way cli->output asks: --xml prints @raw (or @doc
 * when @raw is NULL), --json converts @doc, the default calls the class's
 * print_list (@pool) or print_show.
 */
int mkt_object_output(mkt_cli *cli, const mkt_cli_class *cls,
		      const char *raw, xmlDocPtr doc, int pool);

/* Read a template argument: FILE, or "-" for standard input. */
int mkt_object_read_template(char **out, const char *path);

/* Print "ID: <n>" after a create. */
void mkt_object_print_id(long long id);

/* Generic handlers (mkt_cli_handler), for any class with the method. */
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

/* Class-specific handlers. */
int mkt_cmd_app_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_lock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_app_unlock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_passwd(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_user_chgrp(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_group_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);
int mkt_cmd_system_version(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv);

#endif
