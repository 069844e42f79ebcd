/*
 * main.c: marketctl's command table, command-line parsing, help and exit
 * status.
 *
 * Every command is one row of commands[] ({object, verb, handler, class,
 * arity, options, usage, help}); every option one row of options[].  The
 * command line is parsed twice: a lenient pass finds the object and verb,
 * then a strict pass reads the options the way that command defines them
 * (`--group` is a filter flag for `app list` but takes a GROUP for `user
 * create`).  Global options may come before or after the command.
 *
 * Exit status: 0 success, 1 error reported by marketd or the connection,
 * 2 usage error, 130 when Ctrl-C stopped a --wait or a download.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "common/alloc.h"
#include "common/error.h"

#include "cli.h"
#include "client.h"
#include "object.h"

#define PROG "marketctl"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* ---- the command table ------------------------------------------------ */

#define MARKET (&mkt_cmd_market_class)
#define APP (&mkt_cmd_app_class)
#define USER (&mkt_cmd_user_class)
#define GROUP (&mkt_cmd_group_class)
#define ZONE (&mkt_cmd_zone_class)
#define DATASTORE (&mkt_cmd_datastore_class)
#define IMAGE (&mkt_cmd_image_class)
#define TEMPLATE (&mkt_cmd_template_class)
#define DOCUMENT (&mkt_cmd_document_class)
#define SERVICE (&mkt_cmd_service_class)
#define BINDING (&mkt_cmd_binding_class)
#define O_APPEND MKT_CLI_OPT_APPEND
#define O_MARKET MKT_CLI_OPT_MARKET
#define O_FILTER MKT_CLI_OPT_FILTER
#define O_GNAME MKT_CLI_OPT_GROUP_NAME
#define O_LOCK MKT_CLI_OPT_LOCK_LEVEL
#define O_DS MKT_CLI_OPT_DATASTORE
#define O_PATH MKT_CLI_OPT_PATH
#define O_NAME MKT_CLI_OPT_NAME
#define O_TYPE MKT_CLI_OPT_IMAGE_TYPE
#define O_WAIT MKT_CLI_OPT_WAIT
#define O_ORIGIN MKT_CLI_OPT_ORIGIN
#define O_META MKT_CLI_OPT_APP_META
#define O_PLAN MKT_CLI_OPT_PLAN
#define O_PROJECT MKT_CLI_OPT_PROJECT
#define O_PARAMS MKT_CLI_OPT_PARAMS
#define O_SWAIT MKT_CLI_OPT_SERVICE_WAIT
#define O_BNAME MKT_CLI_OPT_BINDING_NAME

static const mkt_cli_cmd commands[] = {
	{ "market", "list", mkt_object_list, MARKET, 0, 0, 0, "",
	  "List the marketplaces." },
	{ "market", "show", mkt_object_show, MARKET, 1, 1, 0, "ID",
	  "Show a marketplace." },
	{ "market", "create", mkt_object_create, MARKET, 1, 1, 0, "FILE|-",
	  "Create a marketplace from a template (text or XML; - reads stdin); prints ID: <n>." },
	{ "market", "update", mkt_object_update, MARKET, 2, 2, O_APPEND, "ID FILE|- [--append]",
	  "Replace a marketplace's template (merge into it with --append)." },
	{ "market", "delete", mkt_object_delete, MARKET, 1, 1, 0, "ID",
	  "Delete a marketplace." },
	{ "market", "chmod", mkt_object_chmod, MARKET, 2, 2, 0, "ID OCTET",
	  "Set a marketplace's permissions, e.g. 640." },
	{ "market", "chown", mkt_object_chown, MARKET, 2, 3, 0, "ID USER [GROUP]",
	  "Change a marketplace's owner (and group)." },
	{ "market", "chgrp", mkt_object_chgrp, MARKET, 2, 2, 0, "ID GROUP",
	  "Change a marketplace's group." },
	{ "market", "rename", mkt_object_rename, MARKET, 2, 2, 0, "ID NAME",
	  "Rename a marketplace." },
	{ "market", "enable", mkt_object_enable, MARKET, 1, 1, 0, "ID",
	  "Enable a marketplace." },
	{ "market", "disable", mkt_object_disable, MARKET, 1, 1, 0, "ID",
	  "Disable a marketplace (a public catalog's apps are dropped)." },
	{ "market", "monitor", mkt_cmd_market_monitor, MARKET, 1, 1, O_WAIT, "ID [--wait]",
	  "Monitor a marketplace now: capacity and, for catalogs, their apps; --wait prints what changed." },

	{ "app", "list", mkt_cmd_app_list, APP, 0, 0, O_MARKET | O_FILTER,
	  "[--market ID] [--mine|--group|--all|--user USER]",
	  "List the marketplace apps (all by default)." },
	{ "app", "show", mkt_object_show, APP, 1, 1, 0, "ID",
	  "Show a marketplace app." },
	{ "app", "create", mkt_cmd_app_create, APP, 0, 1,
	  O_MARKET | O_ORIGIN | O_PATH | O_NAME | O_META | O_WAIT,
	  "--market ID (FILE|- | --image ID | --path FILE_OR_URL) [--name NAME] [--description TEXT] [--version V] [--wait]",
	  "Create an app in a marketplace from a template, an image or a file/URL; prints ID: <n>." },
	{ "app", "delete", mkt_object_delete, APP, 1, 1, 0, "ID",
	  "Delete a marketplace app." },
	{ "app", "update", mkt_object_update, APP, 2, 2, O_APPEND, "ID FILE|- [--append]",
	  "Replace an app's template (merge into it with --append)." },
	{ "app", "chmod", mkt_object_chmod, APP, 2, 2, 0, "ID OCTET",
	  "Set an app's permissions, e.g. 640." },
	{ "app", "chown", mkt_object_chown, APP, 2, 3, 0, "ID USER [GROUP]",
	  "Change an app's owner (and group)." },
	{ "app", "chgrp", mkt_object_chgrp, APP, 2, 2, 0, "ID GROUP",
	  "Change an app's group." },
	{ "app", "rename", mkt_object_rename, APP, 2, 2, 0, "ID NAME",
	  "Rename a marketplace app." },
	{ "app", "enable", mkt_object_enable, APP, 1, 1, 0, "ID",
	  "Enable a marketplace app." },
	{ "app", "disable", mkt_object_disable, APP, 1, 1, 0, "ID",
	  "Disable a marketplace app." },
	{ "app", "lock", mkt_object_lock, APP, 1, 1, O_LOCK, "ID [--use|--manage|--admin|--all]",
	  "Lock an app against actions of a level (default --use)." },
	{ "app", "unlock", mkt_object_unlock, APP, 1, 1, 0, "ID",
	  "Unlock a marketplace app." },
	{ "app", "export", mkt_cmd_app_export, APP, 1, 1, O_DS | O_NAME | O_WAIT,
	  "ID --datastore DS [--name NAME] [--wait]",
	  "Copy an app into a datastore: an image (IMAGE ID: <n>), or for a VM template or service template app a VMTEMPLATE or DOCUMENT with the images it names; --wait waits for every image." },
	{ "app", "download", mkt_cmd_app_download, APP, 2, 2, 0, "ID FILE|-",
	  "Download a READY app's content (http(s) SOURCE) into FILE, checked against its MD5." },

	{ "datastore", "list", mkt_object_list, DATASTORE, 0, 0, 0, "",
	  "List the datastores." },
	{ "datastore", "show", mkt_object_show, DATASTORE, 1, 1, 0, "ID",
	  "Show a datastore." },
	{ "datastore", "create", mkt_object_create, DATASTORE, 1, 1, 0, "FILE|-",
	  "Create a datastore from a template (NAME, optional BASE_PATH); prints ID: <n>." },
	{ "datastore", "delete", mkt_object_delete, DATASTORE, 1, 1, 0, "ID",
	  "Delete an empty datastore." },
	{ "datastore", "chmod", mkt_object_chmod, DATASTORE, 2, 2, 0, "ID OCTET",
	  "Set a datastore's permissions, e.g. 640." },
	{ "datastore", "chown", mkt_object_chown, DATASTORE, 2, 3, 0, "ID USER [GROUP]",
	  "Change a datastore's owner (and group)." },
	{ "datastore", "chgrp", mkt_object_chgrp, DATASTORE, 2, 2, 0, "ID GROUP",
	  "Change a datastore's group." },
	{ "datastore", "rename", mkt_object_rename, DATASTORE, 2, 2, 0, "ID NAME",
	  "Rename a datastore." },

	{ "template", "list", mkt_object_list, TEMPLATE, 0, 0, O_FILTER,
	  "[--mine|--group|--all|--user USER]",
	  "List the VM templates (what VM template apps are exported to)." },
	{ "template", "show", mkt_object_show, TEMPLATE, 1, 1, 0, "ID",
	  "Show a VM template." },
	{ "template", "delete", mkt_object_delete, TEMPLATE, 1, 1, 0, "ID",
	  "Delete a VM template (its images stay)." },
	{ "document", "list", mkt_object_list, DOCUMENT, 0, 0, O_FILTER,
	  "[--mine|--group|--all|--user USER]",
	  "List the documents (service templates, TYPE 101)." },
	{ "document", "show", mkt_object_show, DOCUMENT, 1, 1, 0, "ID",
	  "Show a document." },
	{ "document", "delete", mkt_object_delete, DOCUMENT, 1, 1, 0, "ID",
	  "Delete a document." },

	{ "image", "list", mkt_object_list, IMAGE, 0, 0, O_FILTER,
	  "[--mine|--group|--all|--user USER]",
	  "List the images (all by default)." },
	{ "image", "show", mkt_object_show, IMAGE, 1, 1, 0, "ID",
	  "Show an image." },
	{ "image", "create", mkt_cmd_image_create, IMAGE, 0, 1, O_DS | O_PATH | O_NAME | O_TYPE | O_WAIT,
	  "--datastore DS (--path FILE_OR_URL | FILE|-) [--name NAME] [--type TYPE] [--wait]",
	  "Create an image in a datastore from a file/URL or a template; prints ID: <n>." },
	{ "image", "delete", mkt_object_delete, IMAGE, 1, 1, 0, "ID",
	  "Delete an image and its file." },
	{ "image", "update", mkt_object_update, IMAGE, 2, 2, O_APPEND, "ID FILE|- [--append]",
	  "Replace an image's template (merge into it with --append)." },
	{ "image", "chmod", mkt_object_chmod, IMAGE, 2, 2, 0, "ID OCTET",
	  "Set an image's permissions, e.g. 640." },
	{ "image", "chown", mkt_object_chown, IMAGE, 2, 3, 0, "ID USER [GROUP]",
	  "Change an image's owner (and group)." },
	{ "image", "chgrp", mkt_object_chgrp, IMAGE, 2, 2, 0, "ID GROUP",
	  "Change an image's group." },
	{ "image", "rename", mkt_object_rename, IMAGE, 2, 2, 0, "ID NAME",
	  "Rename an image." },
	{ "image", "lock", mkt_object_lock, IMAGE, 1, 1, O_LOCK, "ID [--use|--manage|--admin|--all]",
	  "Lock an image against actions of a level (default --use)." },
	{ "image", "unlock", mkt_object_unlock, IMAGE, 1, 1, 0, "ID",
	  "Unlock an image." },

	{ "user", "list", mkt_object_list, USER, 0, 0, 0, "",
	  "List the users." },
	{ "user", "show", mkt_object_show, USER, 0, 1, 0, "[ID]",
	  "Show a user (yourself when ID is omitted)." },
	{ "user", "create", mkt_cmd_user_create, USER, 2, 2, O_GNAME, "NAME PASSWORD [--group GROUP]",
	  "Create a user (core auth), in GROUP when given; prints ID: <n>." },
	{ "user", "passwd", mkt_cmd_user_passwd, USER, 2, 2, 0, "ID PASSWORD",
	  "Change a user's password." },
	{ "user", "delete", mkt_object_delete, USER, 1, 1, 0, "ID",
	  "Delete a user." },
	{ "user", "chgrp", mkt_cmd_user_chgrp, USER, 2, 2, 0, "ID GROUP",
	  "Change a user's primary group." },

	{ "group", "list", mkt_object_list, GROUP, 0, 0, 0, "",
	  "List the groups." },
	{ "group", "show", mkt_object_show, GROUP, 1, 1, 0, "ID",
	  "Show a group." },
	{ "group", "create", mkt_cmd_group_create, GROUP, 1, 1, 0, "NAME",
	  "Create a group; prints ID: <n>." },
	{ "group", "delete", mkt_object_delete, GROUP, 1, 1, 0, "ID",
	  "Delete a group." },

	{ "zone", "list", mkt_cmd_zone_list, ZONE, 0, 0, 0, "",
	  "List the zones of the federation: endpoint, applied log index and lag." },
	{ "zone", "show", mkt_object_show, ZONE, 1, 1, 0, "ID",
	  "Show a zone." },
	{ "zone", "create", mkt_cmd_zone_create, ZONE, 2, 2, 0, "NAME ENDPOINT",
	  "Register a zone (its marketd's http://host:port/RPC2); prints ID: <n>." },
	{ "zone", "update", mkt_object_update, ZONE, 2, 2, O_APPEND, "ID FILE|- [--append]",
	  "Replace (or merge) a zone's template (ENDPOINT)." },
	{ "zone", "rename", mkt_object_rename, ZONE, 2, 2, 0, "ID NAME",
	  "Rename a zone." },
	{ "zone", "delete", mkt_object_delete, ZONE, 1, 1, 0, "ID",
	  "Remove a zone from the federation." },

	{ "service", "list", mkt_object_list, SERVICE, 0, 0, O_FILTER,
	  "[--mine|--group|--all|--user USER]",
	  "List the service instances (of brokers' plans)." },
	{ "service", "show", mkt_object_show, SERVICE, 1, 1, 0, "ID",
	  "Show a service instance: its state, broker ids, parameters and bindings." },
	{ "service", "create", mkt_cmd_service_create, SERVICE, 1, 1,
	  O_PLAN | O_PROJECT | O_PARAMS | O_SWAIT,
	  "NAME --plan APP [--project GROUP] [--param KEY=VALUE]... [--params FILE|-] [--wait]",
	  "Provision a service instance of a broker's plan (a SERVICE app); prints ID: <n>." },
	{ "service", "update", mkt_cmd_service_update, SERVICE, 1, 1, O_PLAN | O_PARAMS | O_SWAIT,
	  "ID [--plan APP] [--param KEY=VALUE]... [--params FILE|-] [--wait]",
	  "Change a READY service instance's plan and/or parameters." },
	{ "service", "delete", mkt_object_delete, SERVICE, 1, 1, O_SWAIT, "ID [--wait]",
	  "Deprovision a service instance (its bindings are unbound first)." },
	{ "service", "chmod", mkt_object_chmod, SERVICE, 2, 2, 0, "ID OCTET",
	  "Set a service instance's permissions, e.g. 640." },
	{ "service", "chown", mkt_object_chown, SERVICE, 2, 3, 0, "ID USER [GROUP]",
	  "Change a service instance's owner (and group)." },
	{ "service", "chgrp", mkt_object_chgrp, SERVICE, 2, 2, 0, "ID GROUP",
	  "Change a service instance's group." },
	{ "service", "rename", mkt_object_rename, SERVICE, 2, 2, 0, "ID NAME",
	  "Rename a service instance." },

	{ "binding", "list", mkt_object_list, BINDING, 0, 0, O_FILTER,
	  "[--mine|--group|--all|--user USER]",
	  "List the service bindings; warns about those expiring within a day (marked !)." },
	{ "binding", "show", mkt_object_show, BINDING, 1, 1, 0, "ID",
	  "Show a service binding, with its credentials (JSON) if you may see them." },
	{ "binding", "create", mkt_cmd_binding_create, BINDING, 1, 1, O_BNAME | O_PARAMS | O_SWAIT,
	  "INSTANCE [--name NAME] [--param KEY=VALUE]... [--params FILE|-] [--wait]",
	  "Bind a READY service instance: new credentials; prints ID: <n>." },
	{ "binding", "delete", mkt_object_delete, BINDING, 1, 1, O_SWAIT, "ID [--wait]",
	  "Unbind a service binding (its credentials stop working)." },
	{ "binding", "chmod", mkt_object_chmod, BINDING, 2, 2, 0, "ID OCTET",
	  "Set a service binding's permissions, e.g. 640." },
	{ "binding", "chown", mkt_object_chown, BINDING, 2, 3, 0, "ID USER [GROUP]",
	  "Change a service binding's owner (and group)." },
	{ "binding", "chgrp", mkt_object_chgrp, BINDING, 2, 2, 0, "ID GROUP",
	  "Change a service binding's group." },
	{ "binding", "rename", mkt_object_rename, BINDING, 2, 2, 0, "ID NAME",
	  "Rename a service binding." },

	{ "version", NULL, mkt_cmd_system_version, NULL, 0, 0, 0, "",
	  "Show marketd's version." },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- the option table ------------------------------------------------- */

typedef enum {
	OPT_ENDPOINT, OPT_USER, OPT_PASSWORD, OPT_XML, OPT_JSON, OPT_HELP,
	OPT_VERSION, OPT_APPEND, OPT_MARKET, OPT_MINE, OPT_GROUP_FILTER,
	OPT_ALL_FILTER, OPT_GROUP_NAME, OPT_USE, OPT_MANAGE, OPT_ADMIN,
	OPT_ALL_LOCK, OPT_DATASTORE, OPT_PATH, OPT_NAME, OPT_TYPE, OPT_WAIT,
	OPT_IMAGE, OPT_DESCRIPTION, OPT_APP_VERSION, OPT_PLAN, OPT_PROJECT,
	OPT_PARAM, OPT_PARAMS
} opt_id;

typedef struct {
	const char *name;           /* long name, without "--" */
	char letter;                /* short form, or 0 */
	int has_arg;
	unsigned scope;             /* 0: global; else the MKT_CLI_OPT_* bit */
	opt_id id;
	const char *arg;            /* placeholder in help */
	const char *help;
} option_row;

static const option_row options[] = {
	{ "endpoint", 0, 1, 0, OPT_ENDPOINT, "URL",
	  "XML-RPC endpoint (default: $ONE_XMLRPC, else " MKT_CLIENT_DEFAULT_ENDPOINT ")" },
	{ "user", 0, 1, 0, OPT_USER, "USER",
	  "user name, with --password (default: $ONE_AUTH, else ~/.one/one_auth)" },
	{ "password", 0, 1, 0, OPT_PASSWORD, "PASSWORD", "password, with --user" },
	{ "xml", 0, 0, 0, OPT_XML, NULL, "print list/show replies as marketd's raw XML" },
	{ "json", 0, 0, 0, OPT_JSON, NULL, "print list/show replies as JSON" },
	{ "help", 'h', 0, 0, OPT_HELP, NULL, "show help (general, per object or per command)" },
	{ "version", 0, 0, 0, OPT_VERSION, NULL, "show marketctl's version" },

	{ "append", 0, 0, MKT_CLI_OPT_APPEND, OPT_APPEND, NULL,
	  "merge the attributes into the template instead of replacing it" },
	{ "market", 0, 1, MKT_CLI_OPT_MARKET, OPT_MARKET, "ID", "the marketplace (ID or NAME)" },
	{ "mine", 0, 0, MKT_CLI_OPT_FILTER, OPT_MINE, NULL, "only yours" },
	{ "group", 0, 0, MKT_CLI_OPT_FILTER, OPT_GROUP_FILTER, NULL, "only your group's" },
	{ "all", 0, 0, MKT_CLI_OPT_FILTER, OPT_ALL_FILTER, NULL, "all you may see (default)" },
	{ "user", 0, 1, MKT_CLI_OPT_FILTER, OPT_USER, "USER",
	  "only USER's (with --password: the --user not next to it)" },
	{ "group", 0, 1, MKT_CLI_OPT_GROUP_NAME, OPT_GROUP_NAME, "GROUP",
	  "the user's group (ID or NAME; repeat for secondary groups)" },
	{ "use", 0, 0, MKT_CLI_OPT_LOCK_LEVEL, OPT_USE, NULL, "lock use and above (level 1, default)" },
	{ "manage", 0, 0, MKT_CLI_OPT_LOCK_LEVEL, OPT_MANAGE, NULL, "lock manage and above (level 2)" },
	{ "admin", 0, 0, MKT_CLI_OPT_LOCK_LEVEL, OPT_ADMIN, NULL, "lock admin actions (level 3)" },
	{ "all", 0, 0, MKT_CLI_OPT_LOCK_LEVEL, OPT_ALL_LOCK, NULL, "lock every action (level 4)" },
	{ "datastore", 0, 1, MKT_CLI_OPT_DATASTORE, OPT_DATASTORE, "DS",
	  "the datastore (ID or NAME) the image goes into" },
	{ "image", 0, 1, MKT_CLI_OPT_ORIGIN, OPT_IMAGE, "ID",
	  "upload this image (ID or NAME) into the marketplace" },
	{ "path", 0, 1, MKT_CLI_OPT_PATH, OPT_PATH, "FILE_OR_URL",
	  "the content: a file on the marketd host or an http(s) URL" },
	{ "name", 0, 1, MKT_CLI_OPT_NAME, OPT_NAME, "NAME",
	  "the new object's name (default: from the image, app or path)" },
	{ "type", 0, 1, MKT_CLI_OPT_IMAGE_TYPE, OPT_TYPE, "TYPE",
	  "OS (default), CDROM, DATABLOCK, KERNEL, RAMDISK or CONTEXT" },
	{ "description", 0, 1, MKT_CLI_OPT_APP_META, OPT_DESCRIPTION, "TEXT",
	  "the app's DESCRIPTION" },
	{ "version", 0, 1, MKT_CLI_OPT_APP_META, OPT_APP_VERSION, "V",
	  "the app's VERSION (default 0.0)" },
	{ "wait", 0, 0, MKT_CLI_OPT_WAIT, OPT_WAIT, NULL,
	  "wait until it is READY (exit 0) or ERROR (exit 1), showing progress" },
	{ "name", 0, 1, MKT_CLI_OPT_BINDING_NAME, OPT_NAME, "NAME",
	  "the binding's name (default: binding-<ID>)" },
	{ "plan", 0, 1, MKT_CLI_OPT_PLAN, OPT_PLAN, "APP",
	  "the broker's plan: a SERVICE app's ID, NAME or SERVICE/PLAN" },
	{ "project", 0, 1, MKT_CLI_OPT_PROJECT, OPT_PROJECT, "GROUP",
	  "the group it is for, one of yours (default: your primary group)" },
	{ "param", 0, 1, MKT_CLI_OPT_PARAMS, OPT_PARAM, "KEY=VALUE",
	  "a parameter for the broker (repeatable); VALUE is JSON (2, true, \"s\", {...}) or else a string" },
	{ "params", 0, 1, MKT_CLI_OPT_PARAMS, OPT_PARAMS, "FILE|-",
	  "the parameters as a JSON object file (- reads stdin); --param adds to it" },
	{ "wait", 0, 0, MKT_CLI_OPT_SERVICE_WAIT, OPT_WAIT, NULL,
	  "wait for the broker, printing each state: READY, or gone for a delete (exit 0), or FAILED (exit 1)" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* What one parsing pass found. */
typedef struct {
	const char *endpoint;
	const char *password;
	int password_at;            /* argv index of --password */
	const char **users;         /* every --user, in order */
	int *users_at;              /* and their argv indexes */
	size_t nusers;
	char **pos;                 /* positional words, borrowed from argv */
	int npos;
	int help, version;
	int xml, json;
	unsigned filters;           /* bits of the --mine/--group/--all given */
	unsigned levels;            /* bits of the --use/--manage/--admin/--all given */
} parsed;

static void parsed_free(parsed *p)
{
	free(p->users);
	free(p->users_at);
	free(p->pos);
	memset(p, 0, sizeof(*p));
}

/* ---- help ------------------------------------------------------------- */

/* "object verb USAGE" (malloc'ed). */
static char *cmd_words(const mkt_cli_cmd *c)
{
	return mkt_asprintf("%s%s%s%s%s", c->object, c->verb ? " " : "",
			    c->verb ? c->verb : "", *c->usage ? " " : "", c->usage);
}

static void print_cmd_line(FILE *fp, const mkt_cli_cmd *c)
{
	char *words = cmd_words(c);

	fprintf(fp, "  %s\n      %s\n", words, c->help);
	free(words);
}

/* Whether a different command option of @scope_mask has the name of
 * global row @g (`app create --version`), which it then hides. */
static int shadowed(const option_row *g, unsigned scope_mask)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if ((options[i].scope & scope_mask) && options[i].id != g->id &&
		    strcmp(options[i].name, g->name) == 0)
			return 1;
	return 0;
}

/* The command options of @scope_mask, or (@global) the global options
 * those do not hide. */
static void print_options(FILE *fp, unsigned scope_mask, int global)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		const option_row *o = &options[i];
		char *spec;

		if (global ? o->scope != 0 || shadowed(o, scope_mask) : !(o->scope & scope_mask))
			continue;
		if (o->letter)
			spec = mkt_asprintf("-%c, --%s%s%s", o->letter, o->name,
					    o->arg ? " " : "", o->arg ? o->arg : "");
		else
			spec = mkt_asprintf("--%s%s%s", o->name, o->arg ? " " : "",
					    o->arg ? o->arg : "");
		fprintf(fp, "  %-21s %s\n", spec, o->help);
		free(spec);
	}
}

static void help_general(FILE *fp)
{
	size_t i;

	fprintf(fp,
		"Usage: " PROG " [OPTIONS] OBJECT VERB [ARGUMENTS] [OPTIONS]\n"
		"\n"
		"Manage marketd's marketplaces, apps, datastores, images, users, groups,\n"
		"and the service instances and bindings of brokers' plans, over its\n"
		"XML-RPC API (OpenNebula's one.* methods).\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		print_cmd_line(fp, &commands[i]);
	fprintf(fp, "\nGlobal options (before or after the command):\n");
	print_options(fp, 0, 1);
	fprintf(fp,
		"\n"
		"ID, USER and GROUP arguments take a numeric id or a name.\n"
		"Run '" PROG " OBJECT VERB --help' for one command's options.\n"
		"Exit status: 0 success, 1 error from marketd or the connection, 2 usage error,\n"
		"130 when Ctrl-C stopped a --wait or a download.\n");
}

static void help_object(FILE *fp, const char *object)
{
	size_t i;

	fprintf(fp, "Usage: " PROG " %s VERB [ARGUMENTS] [OPTIONS]\n\nCommands:\n", object);
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].object, object) == 0)
			print_cmd_line(fp, &commands[i]);
	fprintf(fp, "\nRun '" PROG " --help' for the global options.\n");
}

static void usage_line(FILE *fp, const mkt_cli_cmd *c)
{
	char *words = cmd_words(c);

	fprintf(fp, "Usage: " PROG " %s\n", words);
	free(words);
}

static void help_command(FILE *fp, const mkt_cli_cmd *c)
{
	usage_line(fp, c);
	fprintf(fp, "\n%s\n", c->help);
	if (c->opts) {
		fprintf(fp, "\nOptions:\n");
		print_options(fp, c->opts, 0);
	}
	fprintf(fp, "\nGlobal options:\n");
	print_options(fp, c->opts, 1);
}

/* ---- parsing ---------------------------------------------------------- */

/*
 * The option row for --@name (length @len) or -@letter: rows of the
 * options @cmd accepts, else global rows (so `app create --version V` is
 * the app's version, not marketctl's).  Without a command (the lenient
 * pass) any row matches; when rows disagree on taking a value, the first
 * wins.
 */
static const option_row *find_option(const char *name, size_t len, char letter,
				     const mkt_cli_cmd *cmd, int lenient)
{
	const option_row *global = NULL;
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		const option_row *o = &options[i];
		int named = letter ? o->letter == letter :
			    strlen(o->name) == len && strncmp(o->name, name, len) == 0;

		if (!named)
			continue;
		if (lenient)
			return o;
		if (o->scope == 0 && !global)
			global = o;
		else if (cmd && (cmd->opts & o->scope))
			return o;
	}
	return global;
}

static void apply_option(mkt_cli *cli, parsed *p, const option_row *o,
			 const char *value, int at)
{
	switch (o->id) {
	case OPT_ENDPOINT: p->endpoint = value; break;
	case OPT_USER:
		p->users = mkt_realloc(p->users, (p->nusers + 1) * sizeof(*p->users));
		p->users_at = mkt_realloc(p->users_at, (p->nusers + 1) * sizeof(*p->users_at));
		p->users_at[p->nusers] = at;
		p->users[p->nusers++] = value;
		break;
	case OPT_PASSWORD: p->password = value; p->password_at = at; break;
	case OPT_XML: p->xml = 1; break;
	case OPT_JSON: p->json = 1; break;
	case OPT_HELP: p->help = 1; break;
	case OPT_VERSION: p->version = 1; break;
	case OPT_APPEND: cli->append = 1; break;
	case OPT_MARKET: cli->market = value; break;
	case OPT_MINE: cli->filter = -3; p->filters |= 1u; break;
	case OPT_GROUP_FILTER: cli->filter = -4; p->filters |= 2u; break;
	case OPT_ALL_FILTER: cli->filter = -2; p->filters |= 4u; break;
	case OPT_GROUP_NAME:
		cli->groups = mkt_realloc(cli->groups, (cli->ngroups + 1) * sizeof(*cli->groups));
		cli->groups[cli->ngroups++] = value;
		break;
	case OPT_USE: cli->lock_level = 1; p->levels |= 1u; break;
	case OPT_MANAGE: cli->lock_level = 2; p->levels |= 2u; break;
	case OPT_ADMIN: cli->lock_level = 3; p->levels |= 4u; break;
	case OPT_ALL_LOCK: cli->lock_level = 4; p->levels |= 8u; break;
	case OPT_DATASTORE: cli->datastore = value; break;
	case OPT_PATH: cli->path = value; break;
	case OPT_NAME: cli->name = value; break;
	case OPT_TYPE: cli->image_type = value; break;
	case OPT_WAIT: cli->wait = 1; break;
	case OPT_IMAGE: cli->image = value; break;
	case OPT_DESCRIPTION: cli->description = value; break;
	case OPT_APP_VERSION: cli->version = value; break;
	case OPT_PLAN: cli->plan = value; break;
	case OPT_PROJECT: cli->project = value; break;
	case OPT_PARAM:
		cli->params = mkt_realloc(cli->params, (cli->nparams + 1) * sizeof(*cli->params));
		cli->params[cli->nparams++] = value;
		break;
	case OPT_PARAMS: cli->params_file = value; break;
	}
}

/* The usage error for option @a, which @cmd does not accept. */
static int reject_option(const char *a, const char *name, size_t len,
			 char letter, const mkt_cli_cmd *cmd)
{
	if (find_option(name, len, letter, NULL, 1))
		return mkt_object_usage("option %s does not apply to '%s%s%s'", a,
					cmd->object, cmd->verb ? " " : "",
					cmd->verb ? cmd->verb : "");
	return mkt_object_usage("unknown option %s", a);
}

/*
 * One pass over argv.  @cmd NULL is the lenient pass (only positional
 * words matter; unknown options are skipped); otherwise every option must
 * be global or one @cmd accepts.
 */
static int parse_pass(mkt_cli *cli, parsed *p, int argc, char **argv,
		      const mkt_cli_cmd *cmd)
{
	int i, only_pos = 0;

	p->pos = mkt_calloc((size_t)argc, sizeof(*p->pos));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *name = a + 1, *eq = NULL, *value = NULL;
		const option_row *o;
		size_t len = 0;
		char letter = 0;
		int opt_at = i;

		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			p->pos[p->npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (a[1] != '-') {
			/* -h; anything longer after one dash is unknown */
			letter = strlen(a) == 2 ? a[1] : 0;
			len = letter ? 1 : 0;
		} else {
			name = a + 2;
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
		}
		if (!(o = find_option(name, len, letter, cmd, cmd == NULL))) {
			if (!cmd)
				continue;
			return reject_option(a, name, len, letter, cmd);
		}
		if (o->has_arg) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else if (cmd)
				return mkt_object_usage("option %s needs a value (%s)", a, o->arg);
		} else if (eq && cmd) {
			return mkt_object_usage("option --%s takes no value", o->name);
		}
		apply_option(cli, p, o, value, opt_at);
	}
	return 0;
}

/* The command named by the positional words, or a usage error
 * (*verb_missing set when only a known object was given). */
static int find_command(const mkt_cli_cmd **out, const parsed *p,
			int *verb_missing)
{
	const char *object, *verb;
	size_t i;
	int known = 0;

	*out = NULL;
	*verb_missing = 0;
	if (p->npos == 0)
		return mkt_object_usage("missing command");
	object = p->pos[0];
	verb = p->npos > 1 ? p->pos[1] : NULL;
	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].object, object) != 0)
			continue;
		known = 1;
		if (!commands[i].verb || (verb && strcmp(commands[i].verb, verb) == 0)) {
			*out = &commands[i];
			return 0;
		}
	}
	if (!known)
		return mkt_object_usage("unknown command '%s'", object);
	if (!verb) {
		*verb_missing = 1;
		return mkt_object_usage("missing verb after '%s'", object);
	}
	return mkt_object_usage("unknown command '%s %s'", object, verb);
}

/* Credentials and filters that depend on how many --user were given. */
static int check_options(mkt_cli *cli, parsed *p, const mkt_cli_cmd *cmd,
			 const char **user)
{
	int filtering = (cmd->opts & MKT_CLI_OPT_FILTER) != 0;

	*user = NULL;
	if (p->xml && p->json)
		return mkt_object_usage("--xml and --json are exclusive");
	cli->output = p->xml ? MKT_CLI_OUT_XML : p->json ? MKT_CLI_OUT_JSON : MKT_CLI_OUT_TABLE;

	if (p->password) {
		size_t i, cred = 0;

		if (p->nusers == 0)
			return mkt_object_usage("--password needs --user");
		if (p->nusers > (filtering ? 2u : 1u))
			return mkt_object_usage("--user given too many times");
		/* The --user nearest to --password names the credentials (the
		 * earlier one on a tie); for app list the other is the owner
		 * filter. */
		for (i = 1; i < p->nusers; i++)
			if (abs(p->users_at[i] - p->password_at) <
			    abs(p->users_at[cred] - p->password_at))
				cred = i;
		*user = p->users[cred];
		if (p->nusers == 2)
			cli->filter_user = p->users[1 - cred];
	} else if (p->nusers > 0) {
		if (!filtering)
			return mkt_object_usage("--user needs --password (or use $ONE_AUTH)");
		if (p->nusers > 1)
			return mkt_object_usage("--user given too many times");
		cli->filter_user = p->users[0];
	}
	if (__builtin_popcount(p->filters | (cli->filter_user ? 8u : 0u)) > 1)
		return mkt_object_usage("--mine, --group, --all and --user are exclusive");
	if (__builtin_popcount(p->levels) > 1)
		return mkt_object_usage("--use, --manage, --admin and --all are exclusive");
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static int run(mkt_cli *cli, int argc, char **argv)
{
	parsed p;
	const mkt_cli_cmd *cmd = NULL;
	const char *user = NULL;
	int nwords, nargs, ret, verb_missing = 0;

	/* lenient pass: which command is it? */
	memset(&p, 0, sizeof(p));
	parse_pass(cli, &p, argc, argv, NULL);
	if (p.help && p.npos == 0) {
		help_general(stdout);
		ret = 0;
		goto cleanup;
	}
	if (p.version && p.npos == 0) {
		printf(PROG " " PACKAGE_VERSION "\n");
		ret = 0;
		goto cleanup;
	}
	if ((ret = find_command(&cmd, &p, &verb_missing)) < 0) {
		if (verb_missing && p.help) {
			help_object(stdout, p.pos[0]);
			ret = 0;
		}
		goto cleanup;
	}

	/* strict pass, with the options of that command */
	parsed_free(&p);
	free(cli->groups);
	free(cli->params);
	memset(cli, 0, sizeof(*cli));
	cli->filter = -2;
	if ((ret = parse_pass(cli, &p, argc, argv, cmd)) < 0)
		goto cleanup;
	if (p.help) {
		help_command(stdout, cmd);
		ret = 0;
		goto cleanup;
	}
	if (p.version) {
		printf(PROG " " PACKAGE_VERSION "\n");
		ret = 0;
		goto cleanup;
	}
	nwords = cmd->verb ? 2 : 1;
	if (p.npos < nwords || strcmp(p.pos[0], cmd->object) != 0 ||
	    (cmd->verb && strcmp(p.pos[1], cmd->verb) != 0)) {
		ret = mkt_object_usage("cannot tell the command from the arguments");
		goto cleanup;
	}
	nargs = p.npos - nwords;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		ret = mkt_object_usage(nargs < cmd->min_args ? "missing arguments" :
				  "too many arguments");
		goto cleanup;
	}
	if ((ret = check_options(cli, &p, cmd, &user)) < 0)
		goto cleanup;

	cli->client = mkt_client_new(p.endpoint, user, user ? p.password : NULL);
	ret = cmd->handler(cli, cmd, nargs, p.pos + nwords);

 cleanup:
	if (ret == MKT_CLI_EUSAGE) {
		fprintf(stderr, PROG ": %s\n", mkt_error_message());
		if (cmd)
			usage_line(stderr, cmd);
		else if (verb_missing)
			help_object(stderr, p.pos[0]);
		fprintf(stderr, "Try '" PROG " --help' for more information.\n");
	}
	parsed_free(&p);
	return ret;
}

int main(int argc, char **argv)
{
	mkt_cli cli;
	int ret, status;

	memset(&cli, 0, sizeof(cli));
	cli.filter = -2;
	xmlInitParser();

	ret = run(&cli, argc, argv);
	if (ret == 0) {
		status = EXIT_OK;
	} else if (ret == MKT_CLI_EUSAGE) {
		status = EXIT_USAGE;
	} else if (ret == MKT_CLI_EINTERRUPTED) {
		status = EXIT_INTERRUPTED;
		fprintf(stderr, PROG ": %s\n", mkt_error_message());
	} else {
		status = EXIT_FAIL;
		if (ret == MKT_CLIENT_EREPLY)
			fprintf(stderr, "%s\n", mkt_error_message());   /* marketd's own words */
		else
			fprintf(stderr, PROG ": %s\n", mkt_error_message());
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": error writing to standard output\n");
		status = EXIT_FAIL;
	}

	mkt_client_free(cli.client);
	free(cli.groups);
	free(cli.params);
	xmlCleanupParser();
	return status;
}
