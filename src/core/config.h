/*
 * config.h: marketd.conf, read once at start-up.
 *
 * The file uses the template syntax (common/template.h); this module turns
 * it into typed settings with defaults, and keeps the MARKET_MAD_CONF
 * stanzas that say which drivers exist and what they allow.
 */
#ifndef MKT_CONFIG_H
#define MKT_CONFIG_H

#include "common/template.h"

/* APP_ACTIONS bits. */
enum {
	MKT_APP_ACTION_CREATE = 1 << 0,
	MKT_APP_ACTION_DELETE = 1 << 1,
	MKT_APP_ACTION_MONITOR = 1 << 2,
	MKT_APP_ACTION_EXPORT = 1 << 3,
	/* Service brokers: provision, update, deprovision, bind, unbind,
	 * last_operation (share/doc/drivers.md, the osb driver). */
	MKT_APP_ACTION_SERVICE = 1 << 4
};

/* Indexes of mkt_config.driver_timeout. */
enum {
	MKT_TIMEOUT_IMPORT = 0,
	MKT_TIMEOUT_EXPORT,
	MKT_TIMEOUT_DELETE,
	MKT_TIMEOUT_MONITOR,
	MKT_TIMEOUT_SERVICE,
	MKT_TIMEOUT_LAST
};

typedef struct {
	char *name;
	char **required;        /* REQUIRED_ATTRS, trimmed and upper-cased */
	size_t nrequired;
	unsigned app_actions;   /* MKT_APP_ACTION_* */
	int is_public;
} mkt_market_mad_conf;

/* FEDERATION/MODE */
typedef enum {
	MKT_FED_STANDALONE = 0,
	MKT_FED_MASTER,
	MKT_FED_SLAVE
} mkt_fed_mode;

typedef struct {
	mkt_template *tmpl;     /* the whole file, for one.system.config */
	char *listen_address;
	int port;
	char *data_dir;
	char *pid_file;
	char *db_backend;
	char *db_file;          /* absolute (DATA_DIR applied) */
	int log_system;         /* mkt_log_system */
	char *log_file;
	int log_level;
	int zone_id;
	int monitoring_interval;
	int rpc_max_conn;       /* RPC/MAX_CONN: connections at once */
	int rpc_max_conn_per_ip;/* RPC/MAX_CONN_PER_IP: per client address, 0 none */
	int rpc_threads;        /* RPC/THREADS: the front end's event threads */
	int rpc_timeout;
	/* RPC/STREAM_MIN_RATE (KiB/s, 0: none): past RPC/TIMEOUT, a streamed
	 * answer (a pool read from a snapshot) must have gone out at least
	 * this fast, or it is cut: a reader that trickles would hold its
	 * snapshot, and keep the database log from being checkpointed. */
	int rpc_stream_min_rate;
	/* MAX_IMAGE_SIZE (MB, 0: none): the most an image may hold once
	 * unpacked, in marketd's copies and in the drivers' exports. */
	int max_image_size_mb;
	/* DATASTORE_RESERVED_MB: free space a copy into a datastore leaves on
	 * its file system, unless the datastore's RESERVED_MB says otherwise. */
	int datastore_reserved_mb;
	/* TRANSFER = [ TIMEOUT, MIN_RATE, MIN_RATE_WINDOW, MAX_PER_USER ]:
	 * what keeps one user's slow sources from holding the workers that
	 * everyone's copies and uploads share. */
	int transfer_timeout;         /* s a copy or upload may take, 0: none */
	int transfer_min_rate;        /* bytes/s an HTTP source must keep up, 0: none */
	int transfer_min_rate_window; /* ... over this many s */
	int transfer_max_per_user;    /* a user's transfers at once, 0: no cap */
	char *driver_dir;       /* DRIVER_DIR: <dir>/<MARKET_MAD>/<action> */
	int driver_workers;     /* MARKET_MAD/WORKERS */
	/* MARKET_MAD/<ACTION>_TIMEOUT, defaulting to MARKET_MAD/TIMEOUT;
	 * indexed by MKT_TIMEOUT_*. */
	int driver_timeout[MKT_TIMEOUT_LAST];
	mkt_market_mad_conf *mads;
	size_t nmads;
	/* IMPORT_ALLOWED_NETWORKS, IMPORT_DENIED_NETWORKS (common/netpolicy.h),
	 * checked at load: where a fetch of a user's URL may connect. */
	char *import_allowed;
	char *import_denied;
	/* IMPORT_RESTRICT_ADMIN: the policy applies to the oneadmin group too. */
	int import_restrict_admin;
	/* FEDERATION = [ MODE, ZONE_ID (sets zone_id), MASTER_ONED,
	 * SERVER_AUTH, LOG_RETENTION ] (share/doc/federation.md). */
	mkt_fed_mode fed_mode;
	char *fed_master;       /* MASTER_ONED: the master's /RPC2 URL */
	char *fed_server_user;  /* from the SERVER_AUTH file: "user:secret" */
	char *fed_server_secret;
	/* LOG_RETENTION: entries the master keeps however far behind a zone
	 * is; a zone that needs older ones copies the tables whole. */
	int fed_log_retention;
} mkt_config;

/* Load and validate @path; errors name the setting and the file. */
int mkt_config_load(mkt_config **out, const char *path);
void mkt_config_free(mkt_config *c);

/* The stanza named @name (case-sensitive, as oned), or NULL. */
const mkt_market_mad_conf *mkt_config_market_mad(const mkt_config *c, const char *name);

/* Whether a fetch of a URL that a user gave (an app's IMPORT_SOURCE or
 * PATH, an image's PATH) is held to the import networks policy: for users
 * outside the oneadmin group (@admin 0), and for the group too with
 * IMPORT_RESTRICT_ADMIN. */
int mkt_config_import_restricted(const mkt_config *c, int admin);

/* Parse "create, delete, monitor" into MKT_APP_ACTION_* bits; MKT_EINVAL
 * naming an unknown action. */
int mkt_config_parse_app_actions(const char *s, unsigned *out);

#endif
