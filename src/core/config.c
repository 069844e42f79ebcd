/*
 * config.c: marketd.conf (see config.h).
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/netpolicy.h"
#include "common/util.h"
#include "config.h"

#define CONFIG_MAX_SIZE (1024 * 1024)

/* oned's built-in stanzas, used when the file does not define them. */
static const struct {
	const char *name;
	const char *required;
	const char *actions;
	int is_public;
} default_mads[] = {
	/* export: the image apps of the catalog are downloaded by the driver
	 * (drivers/one), and listing it makes the start-up check look for it. */
	{ "one", "", "monitor, export", 1 },
	{ "http", "BASE_URL,PUBLIC_DIR", "create, delete, monitor", 0 },
	{ "s3", "ACCESS_KEY_ID,SECRET_ACCESS_KEY,REGION,BUCKET", "create, delete, monitor", 0 },
	/* Plans are a broker's catalog (public), instances its services. */
	{ "osb", "BROKER_URL,BROKER_USERNAME,BROKER_PASSWORD", "monitor, service", 1 },
};

static const struct {
	const char *word;
	unsigned bit;
} app_actions[] = {
	{ "create", MKT_APP_ACTION_CREATE },
	{ "delete", MKT_APP_ACTION_DELETE },
	{ "monitor", MKT_APP_ACTION_MONITOR },
	{ "export", MKT_APP_ACTION_EXPORT },
	{ "service", MKT_APP_ACTION_SERVICE },
};

int mkt_config_parse_app_actions(const char *s, unsigned *out)
{
	char *copy = mkt_strdup(s ? s : ""), *save = NULL, *tok;
	unsigned bits = 0;
	int ret = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		size_t i;
		int found = 0;

		for (i = 0; i < sizeof(app_actions) / sizeof(app_actions[0]); i++) {
			if (!strcasecmp(tok, app_actions[i].word)) {
				bits |= app_actions[i].bit;
				found = 1;
			}
		}
		if (!found) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
					    "unknown APP_ACTIONS entry '%s' (expected create, delete, monitor, export, service)",
					    tok);
			goto cleanup;
		}
	}
	*out = bits;

 cleanup:
	free(copy);
	return ret;
}

static void split_required(mkt_market_mad_conf *m, const char *s)
{
	char *copy = mkt_strdup(s ? s : ""), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *p;

		mkt_util_trim(tok);
		if (!*tok)
			continue;
		for (p = tok; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		m->required = mkt_realloc(m->required, (m->nrequired + 1) * sizeof(char *));
		m->required[m->nrequired++] = mkt_strdup(tok);
	}
	free(copy);
}

static int add_mad(mkt_config *c, const char *name, const char *required,
		   const char *actions, int is_public)
{
	mkt_market_mad_conf *m;
	unsigned bits;
	int ret;

	if ((ret = mkt_config_parse_app_actions(actions, &bits)) < 0)
		return ret;
	c->mads = mkt_realloc(c->mads, (c->nmads + 1) * sizeof(*c->mads));
	m = &c->mads[c->nmads++];
	memset(m, 0, sizeof(*m));
	m->name = mkt_strdup(name);
	m->app_actions = bits;
	m->is_public = is_public;
	split_required(m, required);
	return 0;
}

const mkt_market_mad_conf *mkt_config_market_mad(const mkt_config *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->nmads; i++) {
		if (!strcmp(c->mads[i].name, name))
			return &c->mads[i];
	}
	return NULL;
}

static int load_mads(mkt_config *c, const char *path)
{
	size_t i, n = mkt_template_size(c->tmpl);
	int ret;

	for (i = 0; i < n; i++) {
		const mkt_tattr *a = mkt_template_at(c->tmpl, i);
		const char *name, *pub;
		int is_public = 0;

		if (strcmp(mkt_tattr_name(a), "MARKET_MAD_CONF"))
			continue;
		if (!mkt_tattr_is_vector(a) || !(name = mkt_tattr_vector_get(a, "NAME")) || !*name)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
					     "%s: every MARKET_MAD_CONF needs a NAME", path);
		if (mkt_config_market_mad(c, name))
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
					     "%s: MARKET_MAD_CONF \"%s\" is defined twice", path, name);
		if ((pub = mkt_tattr_vector_get(a, "PUBLIC")) && *pub &&
		    mkt_util_parse_bool(pub, &is_public) < 0)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
					     "%s: MARKET_MAD_CONF \"%s\": PUBLIC must be yes or no, not '%s'",
					     path, name, pub);
		if ((ret = add_mad(c, name, mkt_tattr_vector_get(a, "REQUIRED_ATTRS"),
				   mkt_tattr_vector_get(a, "APP_ACTIONS"), is_public)) < 0)
			return mkt_error_set(ret, MKT_ERR_CONFIG, "%s: MARKET_MAD_CONF \"%s\": %s",
					     path, name, mkt_error_message());
	}
	for (i = 0; i < sizeof(default_mads) / sizeof(default_mads[0]); i++) {
		if (mkt_config_market_mad(c, default_mads[i].name))
			continue;
		if ((ret = add_mad(c, default_mads[i].name, default_mads[i].required,
				   default_mads[i].actions, default_mads[i].is_public)) < 0)
			return ret;
	}
	return 0;
}

int mkt_config_import_restricted(const mkt_config *c, int admin)
{
	return !admin || c->import_restrict_admin;
}

/* The two lists, parsed once to refuse a bad entry at start-up.  An
 * IMPORT_DENIED_NETWORKS set to "" denies nothing. */
static int load_import_networks(mkt_config *c, const char *path)
{
	const char *denied = mkt_template_get(c->tmpl, "IMPORT_DENIED_NETWORKS");
	const char *restrict_admin = mkt_template_get(c->tmpl, "IMPORT_RESTRICT_ADMIN");
	mkt_netpolicy *p = NULL;
	int ret;

	c->import_allowed = mkt_strdup(mkt_template_get(c->tmpl, "IMPORT_ALLOWED_NETWORKS") ?: "");
	c->import_denied = mkt_strdup(denied ? denied : MKT_NETPOLICY_DEFAULT_DENIED);
	if (restrict_admin && *restrict_admin &&
	    mkt_util_parse_bool(restrict_admin, &c->import_restrict_admin) < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				     "%s: IMPORT_RESTRICT_ADMIN must be yes or no, not '%s'", path,
				     restrict_admin);
	if ((ret = mkt_netpolicy_new(&p, "IMPORT_SOURCE", c->import_allowed, c->import_denied)) < 0)
		return mkt_error_set(ret, MKT_ERR_CONFIG, "%s: %s", path, mkt_error_message());
	mkt_netpolicy_free(p);
	return 0;
}

static int get_int(const mkt_template *t, const mkt_tattr *vec, const char *name,
		   long long min, long long max, int def, int *out, const char *path)
{
	const char *s = vec ? mkt_tattr_vector_get(vec, name) : mkt_template_get(t, name);
	long long v;

	if (!s || !*s) {
		*out = def;
		return 0;
	}
	if (mkt_util_parse_long(s, &v) < 0 || v < min || v > max)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				     "%s: %s must be an integer from %lld to %lld, not '%s'",
				     path, name, min, max, s);
	*out = (int)v;
	return 0;
}

static char *get_str(const mkt_template *t, const mkt_tattr *vec, const char *name,
		     const char *def)
{
	const char *s = vec ? mkt_tattr_vector_get(vec, name) : mkt_template_get(t, name);

	return mkt_strdup(s && *s ? s : def);
}

static const mkt_tattr *get_vector(const mkt_template *t, const char *name)
{
	const mkt_tattr *a = mkt_template_find(t, name);

	return a && mkt_tattr_is_vector(a) ? a : NULL;
}

/* The SERVER_AUTH file: "user:secret", readable by its owner only (it
 * lets its holder act as any user of the master). */
static int load_server_auth(mkt_config *c, const char *file, const char *path)
{
	struct stat sb;
	char *text = NULL, *colon, *end;
	int ret;

	if (stat(file, &sb) < 0)
		return mkt_error_set_os(errno, "%s: FEDERATION SERVER_AUTH '%s'", path, file);
	if (sb.st_mode & 077)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				     "%s: FEDERATION SERVER_AUTH '%s' is readable by others "
				     "(mode %03o): chmod 600 it", path, file,
				     (unsigned)(sb.st_mode & 0777));
	if ((ret = mkt_util_read_file(&text, file, 4096)) < 0)
		return mkt_error_set(ret, MKT_ERR_CONFIG, "%s: FEDERATION SERVER_AUTH: %s", path,
				     mkt_error_message());
	end = text + strcspn(text, "\r\n");
	*end = '\0';
	colon = strchr(text, ':');
	if (!colon || colon == text || !colon[1] || strchr(colon + 1, ':') ||
	    strpbrk(text, " \t")) {
		free(text);
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				     "%s: FEDERATION SERVER_AUTH '%s' must hold one line "
				     "\"user:secret\" (no ':' or spaces in the secret)", path, file);
	}
	*colon = '\0';
	c->fed_server_user = mkt_strdup(text);
	c->fed_server_secret = mkt_strdup(colon + 1);
	explicit_bzero(text, strlen(text) + 1 + strlen(colon + 1));
	free(text);
	return 0;
}

static int load_federation(mkt_config *c, const char *path)
{
	static const char *const modes[] = {
		[MKT_FED_STANDALONE] = "STANDALONE", [MKT_FED_MASTER] = "MASTER",
		[MKT_FED_SLAVE] = "SLAVE",
	};
	const mkt_tattr *fed = get_vector(c->tmpl, "FEDERATION");
	char *mode, *auth;
	size_t i;
	int ret = 0;

	if (!fed)
		return get_int(c->tmpl, NULL, "LOG_RETENTION", 1, 1 << 30, 1000000,
			       &c->fed_log_retention, path);
	mode = get_str(c->tmpl, fed, "MODE", "STANDALONE");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcasecmp(mode, modes[i]))
			break;
	if (i == sizeof(modes) / sizeof(modes[0])) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG, "%s: FEDERATION MODE must be "
				    "STANDALONE, MASTER or SLAVE, not '%s'", path, mode);
		free(mode);
		return ret;
	}
	free(mode);
	c->fed_mode = (mkt_fed_mode)i;
	if ((ret = get_int(c->tmpl, fed, "ZONE_ID", 0, 1 << 30, c->zone_id, &c->zone_id,
			   path)) < 0 ||
	    (ret = get_int(c->tmpl, fed, "LOG_RETENTION", 1, 1 << 30, 1000000,
			   &c->fed_log_retention, path)) < 0)
		return ret;
	if (c->fed_mode == MKT_FED_STANDALONE)
		return 0;
	c->fed_master = get_str(c->tmpl, fed, "MASTER_ONED", "");
	if (c->fed_mode == MKT_FED_SLAVE && strncmp(c->fed_master, "http://", 7) &&
	    strncmp(c->fed_master, "https://", 8))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG, "%s: FEDERATION MODE \"SLAVE\" "
				     "needs MASTER_ONED, the master's http(s)://host:port/RPC2",
				     path);
	auth = get_str(c->tmpl, fed, "SERVER_AUTH", "");
	if (!*auth)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG, "%s: FEDERATION MODE \"%s\" needs "
				    "SERVER_AUTH, a file holding \"serveradmin:<secret>\"",
				    path, modes[c->fed_mode]);
	else
		ret = load_server_auth(c, auth, path);
	free(auth);
	return ret;
}

/* Every setting but MARKET_MAD_CONF is read once: a second one (a file
 * edited by appending) would be ignored without a word. */
static int check_once(const mkt_template *t, const char *path)
{
	size_t i, n = mkt_template_size(t);

	for (i = 0; i < n; i++) {
		const char *name = mkt_tattr_name(mkt_template_at(t, i));
		size_t count = mkt_template_count(t, name);

		if (count > 1 && strcmp(name, "MARKET_MAD_CONF"))
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG, "%s: %s is set %zu times; "
					     "set it once (only MARKET_MAD_CONF may repeat)",
					     path, name, count);
	}
	return 0;
}

int mkt_config_load(mkt_config **out, const char *path)
{
	mkt_config *c = mkt_calloc(1, sizeof(*c));
	static const char *const timeout_names[MKT_TIMEOUT_LAST] = {
		[MKT_TIMEOUT_IMPORT] = "IMPORT_TIMEOUT", [MKT_TIMEOUT_EXPORT] = "EXPORT_TIMEOUT",
		[MKT_TIMEOUT_DELETE] = "DELETE_TIMEOUT", [MKT_TIMEOUT_MONITOR] = "MONITOR_TIMEOUT",
		[MKT_TIMEOUT_SERVICE] = "SERVICE_TIMEOUT",
	};
	const mkt_tattr *db, *log, *rpc, *mad, *xfer;
	int timeout = 0, i;
	char *text = NULL, *sys = NULL;
	int ret;

	if ((ret = mkt_util_read_file(&text, path, CONFIG_MAX_SIZE)) < 0) {
		ret = mkt_error_set(ret, MKT_ERR_CONFIG, "cannot read configuration: %s",
				    mkt_error_message());
		goto cleanup;
	}
	if ((ret = mkt_template_parse(&c->tmpl, text)) < 0) {
		ret = mkt_error_set(ret, MKT_ERR_CONFIG, "%s: %s", path, mkt_error_message());
		goto cleanup;
	}
	if ((ret = check_once(c->tmpl, path)) < 0)
		goto cleanup;
	db = get_vector(c->tmpl, "DB");
	log = get_vector(c->tmpl, "LOG");
	rpc = get_vector(c->tmpl, "RPC");
	mad = get_vector(c->tmpl, "MARKET_MAD");
	xfer = get_vector(c->tmpl, "TRANSFER");
	c->driver_dir = get_str(c->tmpl, NULL, "DRIVER_DIR", MKT_LIBEXECDIR "/marketd/drivers");

	c->listen_address = get_str(c->tmpl, NULL, "LISTEN_ADDRESS", "127.0.0.1");
	c->data_dir = get_str(c->tmpl, NULL, "DATA_DIR", MKT_LOCALSTATEDIR "/lib/marketd");
	c->pid_file = get_str(c->tmpl, NULL, "PID_FILE", "/run/marketd/marketd.pid");
	c->db_backend = get_str(c->tmpl, db, "BACKEND", "sqlite");
	c->log_file = get_str(c->tmpl, log, "FILE", MKT_LOCALSTATEDIR "/log/marketd/marketd.log");
	sys = get_str(c->tmpl, log, "SYSTEM", "file");
	if ((c->log_system = mkt_log_system_parse(sys)) < 0) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				    "%s: LOG SYSTEM must be file, syslog or std, not '%s'", path, sys);
		goto cleanup;
	}
	{
		char *file = get_str(c->tmpl, db, "FILE", "marketd.db");

		c->db_file = file[0] == '/' ? file : mkt_asprintf("%s/%s", c->data_dir, file);
		if (c->db_file != file)
			free(file);
	}
	if ((ret = get_int(c->tmpl, NULL, "PORT", 1, 65535, 2633, &c->port, path)) < 0 ||
	    (ret = get_int(c->tmpl, log, "DEBUG_LEVEL", 0, 5, 3, &c->log_level, path)) < 0 ||
	    (ret = get_int(c->tmpl, NULL, "ZONE_ID", 0, 1 << 30, 0, &c->zone_id, path)) < 0 ||
	    (ret = get_int(c->tmpl, NULL, "MONITORING_INTERVAL_MARKET", 1, 1 << 30, 600,
			   &c->monitoring_interval, path)) < 0 ||
	    (ret = get_int(c->tmpl, rpc, "MAX_CONN", 1, 100000, 1000, &c->rpc_max_conn, path)) < 0 ||
	    (ret = get_int(c->tmpl, rpc, "MAX_CONN_PER_IP", 0, 100000, 500,
			   &c->rpc_max_conn_per_ip, path)) < 0 ||
	    (ret = get_int(c->tmpl, rpc, "THREADS", 1, 256, 8, &c->rpc_threads, path)) < 0 ||
	    (ret = get_int(c->tmpl, rpc, "TIMEOUT", 1, 3600, 15, &c->rpc_timeout, path)) < 0 ||
	    (ret = get_int(c->tmpl, rpc, "STREAM_MIN_RATE", 0, 1 << 20, 1024,
			   &c->rpc_stream_min_rate, path)) < 0 ||
	    (ret = get_int(c->tmpl, NULL, "MAX_IMAGE_SIZE", 0, 1 << 30, 64 * 1024,
			   &c->max_image_size_mb, path)) < 0 ||
	    (ret = get_int(c->tmpl, NULL, "DATASTORE_RESERVED_MB", 0, 1 << 30, 0,
			   &c->datastore_reserved_mb, path)) < 0)
		goto cleanup;
	if ((ret = get_int(c->tmpl, xfer, "TIMEOUT", 0, 1 << 30, 3600, &c->transfer_timeout,
			   path)) < 0 ||
	    (ret = get_int(c->tmpl, xfer, "MIN_RATE", 0, 1 << 30, 1024, &c->transfer_min_rate,
			   path)) < 0 ||
	    (ret = get_int(c->tmpl, xfer, "MIN_RATE_WINDOW", 1, 24 * 3600, 30,
			   &c->transfer_min_rate_window, path)) < 0 ||
	    (ret = get_int(c->tmpl, xfer, "MAX_PER_USER", 0, 100000, 4,
			   &c->transfer_max_per_user, path)) < 0)
		goto cleanup;
	if ((ret = get_int(c->tmpl, mad, "WORKERS", 1, 1024, 15, &c->driver_workers, path)) < 0 ||
	    (ret = get_int(c->tmpl, mad, "TIMEOUT", 1, 7 * 24 * 3600, 600, &timeout, path)) < 0)
		goto cleanup;
	for (i = 0; i < MKT_TIMEOUT_LAST; i++) {
		if ((ret = get_int(c->tmpl, mad, timeout_names[i], 1, 7 * 24 * 3600, timeout,
				   &c->driver_timeout[i], path)) < 0)
			goto cleanup;
	}
	if ((ret = load_mads(c, path)) < 0 || (ret = load_import_networks(c, path)) < 0 ||
	    (ret = load_federation(c, path)) < 0)
		goto cleanup;
	*out = MKT_STEAL(c);

 cleanup:
	free(sys);
	free(text);
	mkt_config_free(c);
	return ret;
}

void mkt_config_free(mkt_config *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->nmads; i++) {
		for (j = 0; j < c->mads[i].nrequired; j++)
			free(c->mads[i].required[j]);
		free(c->mads[i].required);
		free(c->mads[i].name);
	}
	free(c->mads);
	mkt_template_free(c->tmpl);
	free(c->listen_address);
	free(c->data_dir);
	free(c->pid_file);
	free(c->db_backend);
	free(c->db_file);
	free(c->log_file);
	free(c->driver_dir);
	free(c->import_allowed);
	free(c->import_denied);
	free(c->fed_master);
	free(c->fed_server_user);
	if (c->fed_server_secret)
		explicit_bzero(c->fed_server_secret, strlen(c->fed_server_secret));
	free(c->fed_server_secret);
	free(c);
}
