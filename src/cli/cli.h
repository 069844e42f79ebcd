/*
 * cli.h: marketctl's command table and the context every handler gets.
 *
 * marketctl is a thin client: each command is one row of the table in
 * main.c ({object, verb, handler, usage, help} like libgit2's cli_cmds[]),
 * main.c parses the command line once into an mkt_cli, and the handler
 * turns it into XML-RPC calls (client.h) and prints the reply (output.h).
 * Operations that are the same for every object (delete, chmod, chown,
 * rename, ...) are one generic handler (object.h) parameterised by the
 * row's object class.
 */
#ifndef MKT_CLI_H
#define MKT_CLI_H

#include "client.h"

/* A handler status that main() turns into exit status 2 (usage error);
 * everything else negative is exit status 1, except MKT_CLI_EINTERRUPTED
 * (Ctrl-C stopped a --wait or a download): 130, the shell's 128 + SIGINT. */
#define MKT_CLI_EUSAGE (-64)
#define MKT_CLI_EINTERRUPTED (-66)

/* How list/show print the object. */
typedef enum {
	MKT_CLI_OUT_TABLE = 0,  /* human tables and INFORMATION blocks */
	MKT_CLI_OUT_XML,        /* the raw XML value of the reply */
	MKT_CLI_OUT_JSON        /* the XML converted to pretty JSON */
} mkt_cli_output;

/* Options a command may accept besides the global ones (bit masks for
 * mkt_cli_cmd.opts). */
enum {
	MKT_CLI_OPT_APPEND = 1u << 0,        /* update --append */
	MKT_CLI_OPT_MARKET = 1u << 1,        /* app list/create --market ID */
	MKT_CLI_OPT_FILTER = 1u << 2,        /* app list --mine/--group/--all/--user */
	MKT_CLI_OPT_GROUP_NAME = 1u << 3,    /* user create --group GROUP */
	MKT_CLI_OPT_LOCK_LEVEL = 1u << 4,    /* app lock --use/--manage/--admin/--all */
	MKT_CLI_OPT_DATASTORE = 1u << 5,     /* image create, app export --datastore DS */
	MKT_CLI_OPT_PATH = 1u << 6,          /* image/app create --path FILE_OR_URL */
	MKT_CLI_OPT_NAME = 1u << 7,          /* image/app create, app export --name NAME */
	MKT_CLI_OPT_IMAGE_TYPE = 1u << 8,    /* image create --type TYPE */
	MKT_CLI_OPT_WAIT = 1u << 9,          /* image/app create, app export --wait */
	MKT_CLI_OPT_ORIGIN = 1u << 10,       /* app create --image ID */
	MKT_CLI_OPT_APP_META = 1u << 11,     /* app create --description/--version */
	MKT_CLI_OPT_PLAN = 1u << 12,         /* service create/update --plan APP */
	MKT_CLI_OPT_PROJECT = 1u << 13,      /* service create --project GROUP */
	MKT_CLI_OPT_PARAMS = 1u << 14,       /* service/binding --param K=V, --params FILE */
	MKT_CLI_OPT_SERVICE_WAIT = 1u << 15, /* service/binding --wait: until the broker is done */
	MKT_CLI_OPT_BINDING_NAME = 1u << 16  /* binding create --name NAME */
};

typedef struct mkt_cli_class mkt_cli_class;
typedef struct mkt_cli_cmd mkt_cli_cmd;

/* Everything parsed from the command line; owned by main(). */
typedef struct {
	mkt_client *client;          /* connects lazily, on the first call */
	mkt_cli_output output;

	/* command options */
	int append;                  /* update: 1 merge, 0 replace */
	const char *market;          /* app list/create: market ID or NAME */
	int filter;                  /* app list: -2 all, -3 mine, -4 group */
	const char *filter_user;     /* app list --user: USER overrides filter */
	const char **groups;         /* user create --group (repeatable) */
	size_t ngroups;
	int lock_level;              /* app/image lock: 1 use .. 4 all */
	const char *datastore;       /* --datastore: datastore ID or NAME */
	const char *path;            /* --path: a local file or an http(s) URL */
	const char *name;            /* --name: the new object's name */
	const char *image_type;      /* image create --type: OS, DATABLOCK, ... */
	const char *image;           /* app create --image: image ID or NAME */
	const char *description;     /* app create --description */
	const char *version;         /* app create --version */
	int wait;                    /* --wait: until READY or ERROR */
	const char *plan;            /* service --plan: a SERVICE app's ID or NAME */
	const char *project;         /* service create --project: GROUP */
	const char **params;         /* --param KEY=VALUE (repeatable) */
	size_t nparams;
	const char *params_file;     /* --params FILE|- (a JSON object) */
} mkt_cli;

/* A command handler: @argv holds the @argc positional arguments after the
 * object and verb (already checked against min_args/max_args). */
typedef int (*mkt_cli_handler)(mkt_cli *cli, const mkt_cli_cmd *cmd,
			       int argc, char **argv);

struct mkt_cli_cmd {
	const char *object;          /* "market", "app", ... */
	const char *verb;            /* "list", ...; NULL for a one-word command */
	mkt_cli_handler handler;
	const mkt_cli_class *cls;    /* the object class for generic handlers */
	int min_args;
	int max_args;
	unsigned opts;               /* MKT_CLI_OPT_* the command accepts */
	const char *usage;           /* arguments and options after the verb */
	const char *help;            /* one-line description */
};

#endif
