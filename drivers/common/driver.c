/*
 * driver.c: the helper library of marketd's market drivers (driver.h).
 */
#include <config.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/xmlversion.h>
#include <libxml/xpath.h>
#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/netpolicy.h"
#include "common/util.h"
#include "common/xml.h"
#include "driver.h"

#define ROOT_NAME "MARKET_DRIVER_ACTION_DATA"
/* Upper bound of a document read from stdin; marketd keeps them small
 * (the market's app list is left out), this only stops a runaway writer. */
#define MAX_DOCUMENT (64u << 20)
/* At most 4 progress lines a second. */
#define PROGRESS_INTERVAL_NS 250000000LL

struct mkt_drv {
	char *action;
	char *id;             /* from the command line, or NULL */
	xmlDocPtr doc;
	xmlXPathContextPtr xpath;
	char **strings;       /* values handed out by mkt_drv_get() */
	size_t nstrings;
	mkt_netpolicy *networks;   /* IMPORT_NETWORK_POLICY, once read */
};

/* Process-wide, like the stdout and stderr they stand for (driver.h);
 * a call of a batch has its own, on its own thread. */
static __thread mkt_buf results = MKT_BUF_INIT;
/* Bytes of results mkt_drv_results_flush() has written: a mark counts
 * them too, so that it stays valid across a flush. */
static __thread size_t results_flushed;
/* errno of a flush that could not write; finish() fails the action. */
static __thread int results_write_error;
/* Set by mkt_drv_main() for the one action it runs: only then is stdout
 * the protocol's (unit tests read mkt_drv_results() instead, and a call of
 * a batch answers in its CALL vector). */
static int results_stream;
/* In a call of a batch: where its ERROR: message goes, instead of stderr
 * (it is the call's answer, not the batch's). */
static __thread mkt_buf *call_error;
static struct {
	long long last_ns;     /* when the last line was printed; 0 = never */
	uint64_t done, total;  /* the last value printed */
	uint64_t held_done, held_total;
	int held;              /* a value was held back by the rate limit */
} progress;

static const struct {
	mkt_log_level level;
	const char *prefix;
} log_prefixes[] = {
	{ MKT_LOG_ERROR, "ERROR" },
	{ MKT_LOG_WARN, "WARN" },
	{ MKT_LOG_INFO, "INFO" },
	{ MKT_LOG_DEBUG, "DEBUG" },
};

/* ---- logging ------------------------------------------------------------ */

static void vlog(mkt_log_level level, const char *fmt, va_list ap)
{
	const char *prefix = "DEBUG";
	char *msg, *line, *save = NULL;
	size_t i;
	va_list aq;
	int n;

	for (i = 0; i < sizeof(log_prefixes) / sizeof(log_prefixes[0]); i++) {
		if (log_prefixes[i].level == level)
			prefix = log_prefixes[i].prefix;
	}
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	msg = mkt_malloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	/* The protocol is line based: one prefix per line. */
	for (line = strtok_r(msg, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
		fprintf(stderr, "%s: %s\n", prefix, line);
	if (!*msg)
		fprintf(stderr, "%s: \n", prefix);
	fflush(stderr);
	free(msg);
}

void mkt_drv_log(mkt_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

int mkt_drv_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (call_error) {
		char *msg = NULL;

		if (vasprintf(&msg, fmt, ap) >= 0) {
			mkt_buf_printf(call_error, "%s%s", call_error->len ? "; " : "", msg);
			free(msg);
		}
	} else {
		vlog(MKT_LOG_ERROR, fmt, ap);
	}
	va_end(ap);
	return code;
}

/* ---- progress ----------------------------------------------------------- */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void progress_print(uint64_t done, uint64_t total, long long now)
{
	fprintf(stderr, "PROGRESS %llu %llu\n",
		(unsigned long long)done, (unsigned long long)total);
	fflush(stderr);
	progress.last_ns = now;
	progress.done = done;
	progress.total = total;
	progress.held = 0;
}

void mkt_drv_progress(uint64_t done, uint64_t total)
{
	long long now = now_ns();
	int final = total > 0 && done >= total;

	if (progress.last_ns && done == progress.done && total == progress.total)
		return;
	if (final || !progress.last_ns || now - progress.last_ns >= PROGRESS_INTERVAL_NS) {
		progress_print(done, total, now);
		return;
	}
	progress.held = 1;
	progress.held_done = done;
	progress.held_total = total;
}

void mkt_drv_progress_flush(void)
{
	if (progress.held)
		progress_print(progress.held_done, progress.held_total, now_ns());
}

void mkt_drv_transfer_progress(void *ud, uint64_t done, uint64_t total)
{
	mkt_drv_progress(done, total);
}

/* ---- stopping ----------------------------------------------------------- */

/* The transfer polls it as a const volatile int *. */
static volatile sig_atomic_t stop_signal;
_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is an int");

static void on_stop(int sig)
{
	stop_signal = sig;
}

const volatile int *mkt_drv_stop_flag(void)
{
	static int installed;

	if (!installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		installed = 1;
	}
	return &stop_signal;
}

int mkt_drv_transfer(mkt_transfer_opts *opts, const char *user_agent,
		     mkt_transfer_result *out)
{
	int ret;

	opts->progress = mkt_drv_transfer_progress;
	opts->cancel = mkt_drv_stop_flag();
	/* A driver's files are in a marketplace a web server may publish,
	 * or in a datastore: never a partial file where it could be served,
	 * and mkt_drv_sweep() knows where to look. */
	opts->private_tmp = 1;
	if (!opts->user_agent)
		opts->user_agent = user_agent;

	ret = mkt_transfer_run(opts, out);

	if (stop_signal) {
		char *where = mkt_util_url_mask(opts->target ? opts->target :
						opts->display ? opts->display : opts->source);

		if (ret == 0 && opts->target && !opts->write)
			unlink(opts->target);
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "terminated by signal %d while copying %s",
				   (int)stop_signal, where);
		free(where);
		return ret;
	}
	if (ret < 0)
		return mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
	mkt_drv_progress_flush();
	return 0;
}

/* ---- what several drivers do ---------------------------------------------- */

static char *keep_string(mkt_drv *d, char *s);

int mkt_drv_market_require(mkt_drv *d, const char *driver, const char *const *names, size_t n,
			   const char **values)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *path = mkt_asprintf("MARKETPLACE/TEMPLATE/%s", names[i]);

		values[i] = mkt_drv_get(d, path);
		free(path);
		if (!values[i] || !*values[i])
			return mkt_drv_fail(MKT_DRV_EINPUT,
					    "the marketplace template has no %s attribute (required by the %s driver)",
					    names[i], driver);
	}
	return 0;
}

/* An optional size in MB of the document, in bytes (0 when absent). */
static int get_mb(mkt_drv *d, const char *path, uint64_t *out)
{
	long long mb;
	int ret = mkt_drv_get_long(d, path, &mb);

	*out = 0;
	if (ret == MKT_ENOTFOUND)
		return 0;
	if (ret < 0 || mb < 0 || mb > (long long)(UINT64_MAX >> 21))
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s \"%s\" is not a size in MB", path,
				    mkt_drv_get(d, path));
	*out = (uint64_t)mb << 20;
	return 0;
}

/* An optional non-negative integer of the document into @out (left as
 * it is when absent). */
static int get_count(mkt_drv *d, const char *path, long *out)
{
	long long v;
	int ret = mkt_drv_get_long(d, path, &v);

	if (ret == MKT_ENOTFOUND)
		return 0;
	if (ret < 0 || v < 0 || v > LONG_MAX)
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s \"%s\" is not a non-negative integer", path,
				    mkt_drv_get(d, path));
	*out = (long)v;
	return 0;
}

/* marketd's TRANSFER limits, as far as the document gives them: a
 * driver's copies are held to the same as marketd's own. */
static int get_transfer_limits(mkt_drv *d, mkt_transfer_opts *opts)
{
	int ret;

	if ((ret = get_count(d, "TRANSFER/TIMEOUT", &opts->timeout)) != 0 ||
	    (ret = get_count(d, "TRANSFER/MIN_RATE", &opts->min_rate)) != 0)
		return ret;
	return get_count(d, "TRANSFER/MIN_RATE_WINDOW", &opts->min_rate_window);
}

int mkt_drv_export(mkt_drv *d, mkt_transfer_opts *opts, const char *user_agent)
{
	mkt_transfer_result r;
	const char *target = NULL, *md5;
	int ret;

	if ((ret = mkt_drv_require(d, "EXPORT_TARGET", &target)) != 0)
		return ret;
	if (target[0] != '/')
		return mkt_drv_fail(MKT_DRV_EINPUT, "EXPORT_TARGET \"%s\" is not an absolute path", target);
	if ((ret = get_mb(d, "MAX_IMAGE_SIZE", &opts->max_size)) != 0 ||
	    (ret = get_mb(d, "RESERVED_MB", &opts->reserve)) != 0 ||
	    (ret = get_transfer_limits(d, opts)) != 0)
		return ret;
	md5 = mkt_drv_get(d, "MARKETPLACEAPP/MD5");
	opts->target = target;
	opts->unpack = 1;
	opts->expect_md5 = md5 && *md5 ? md5 : NULL;
	/* The app's md5 is what proves the download; a sha256 too would be
	 * most of the export's CPU for nothing the image needs. */
	opts->md5_only = 1;
	if (!opts->display)
		opts->display = keep_string(d, mkt_util_url_mask(opts->source));
	mkt_drv_log(MKT_LOG_INFO, "exporting %s to %s", opts->display, target);
	if ((ret = mkt_drv_transfer(opts, user_agent, &r)) != 0)
		return ret;
	/* What was written: after unpacking, not the bytes read. */
	mkt_drv_result("MD5", r.md5_out);
	mkt_drv_result_long("SIZE", mkt_drv_size_mb(r.bytes_out));
	mkt_drv_result("FORMAT", r.format);
	return 0;
}

int mkt_drv_import_opts(mkt_drv *d, mkt_transfer_opts *opts)
{
	const char *source = NULL, *md5, *allowed, *denied;
	int ret;

	if ((ret = mkt_drv_require(d, "IMPORT_SOURCE", &source)) != 0)
		return ret;
	opts->source = source;
	opts->display = keep_string(d, mkt_util_url_mask(source));
	md5 = mkt_drv_get(d, "MD5");
	opts->expect_md5 = md5 && *md5 ? md5 : NULL;
	if ((ret = get_transfer_limits(d, opts)) != 0)
		return ret;
	/* marketd sends a policy for the users it restricts; without one,
	 * any address will do (the oneadmin group's imports). */
	if (!mkt_drv_get(d, "IMPORT_NETWORK_POLICY"))
		return 0;
	allowed = mkt_drv_get(d, "IMPORT_NETWORK_POLICY/ALLOWED");
	denied = mkt_drv_get(d, "IMPORT_NETWORK_POLICY/DENIED");
	mkt_netpolicy_free(d->networks);
	d->networks = NULL;
	if (mkt_netpolicy_new(&d->networks, "IMPORT_SOURCE", allowed, denied) < 0)
		return mkt_drv_fail(mkt_error_last()->code == MKT_EINVAL ? MKT_DRV_EINPUT : MKT_DRV_EFAIL,
				    "IMPORT_NETWORK_POLICY: %s", mkt_error_message());
	opts->networks = d->networks;
	return 0;
}

void mkt_drv_import_results(mkt_drv *d, const char *source, const mkt_transfer_result *r)
{
	const char *format = mkt_drv_get(d, "FORMAT");

	mkt_drv_result("SOURCE", source);
	mkt_drv_result("MD5", r->md5);
	mkt_drv_result_long("SIZE", mkt_drv_size_mb(r->bytes_out));
	mkt_drv_result("FORMAT", format && *format ? format : r->format);
	mkt_drv_result("SHA256", r->sha256);
}

static void on_swept(void *ud, const char *path, uint64_t size, uint64_t allocated)
{
	uint64_t *total = ud;

	total[0]++;
	total[1] += allocated;
	mkt_drv_log(MKT_LOG_INFO, "removed %s, left by a transfer that did not finish (%llu bytes, %llu allocated)",
		    path, (unsigned long long)size, (unsigned long long)allocated);
}

void mkt_drv_sweep(const char *dir, long min_age)
{
	uint64_t total[2] = { 0, 0 };

	if (mkt_transfer_sweep(dir, min_age, on_swept, total) < 0)
		mkt_drv_log(MKT_LOG_WARN, "cannot sweep temporary files: %s", mkt_error_message());
	else if (total[0])
		mkt_drv_log(MKT_LOG_INFO, "removed %llu temporary file(s) from %s: %llu bytes freed",
			    (unsigned long long)total[0], dir, (unsigned long long)total[1]);
}

/* ---- results ------------------------------------------------------------ */

static int valid_key(const char *key)
{
	const char *p;

	if (!key || !*key)
		return 0;
	for (p = key; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return 0;
	}
	return 1;
}

/* @p with '"' and '\\' escaped, as a quoted template value. */
static void add_escaped(mkt_buf *b, const char *p)
{
	size_t run;

	/* Runs between escapes, not byte by byte: a catalog's monitor
	 * result is megabytes of base64. */
	for (;;) {
		run = strcspn(p, "\"\\");
		mkt_buf_addn(b, p, run);
		p += run;
		if (!*p)
			break;
		mkt_buf_addc(b, '\\');
		mkt_buf_addc(b, *p++);
	}
}

void mkt_drv_result(const char *key, const char *value)
{
	const char *p = value ? value : "";

	assert(valid_key(key));
	mkt_buf_add(&results, key);
	mkt_buf_add(&results, "=\"");
	add_escaped(&results, p);
	mkt_buf_add(&results, "\"\n");
}

int mkt_drv_catalog_digest(mkt_drv *d, const char *scheme, const void *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	const char *sent = mkt_drv_get(d, "CATALOG_DIGEST");
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	/* Without a digest the entries go out whole: only slower. */
	if (!ctx)
		return 0;
	/* The whole scheme, however long (the one driver's holds ENDPOINT),
	 * each part ended by a newline. */
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, scheme, strlen(scheme));
	EVP_DigestUpdate(ctx, "\n" PACKAGE_VERSION "\n", strlen("\n" PACKAGE_VERSION "\n"));
	EVP_DigestUpdate(ctx, body, len);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	mkt_util_hex(md, n, hex);
	if (sent && strcmp(sent, hex) == 0) {
		mkt_drv_result("CATALOG_UNCHANGED", hex);
		return 1;
	}
	mkt_drv_result("CATALOG_DIGEST", hex);
	return 0;
}

void mkt_drv_result_long(const char *key, long long value)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", value);
	mkt_drv_result(key, text);
}

const char *mkt_drv_results(void)
{
	return mkt_buf_cstr(&results);
}

size_t mkt_drv_results_size(void)
{
	return results.len;
}

void mkt_drv_results_reset(void)
{
	mkt_buf_free(&results);
}

size_t mkt_drv_results_mark(void)
{
	return results_flushed + results.len;
}

void mkt_drv_results_rewind(size_t mark)
{
	/* Written lines cannot be taken back: a mark from before a flush
	 * drops all that is still here, and the action, which is failing,
	 * exits non-zero (driver.h). */
	size_t keep = mark > results_flushed ? mark - results_flushed : 0;

	if (keep < results.len) {
		results.len = keep;
		results.ptr[keep] = '\0';
	}
}

/* The results collected so far to stdout; the first write error is kept
 * for finish() to report. */
static void results_write(void)
{
	if (results.len == 0 || results_write_error)
		return;
	errno = 0;
	if (fwrite(results.ptr, 1, results.len, stdout) != results.len || fflush(stdout) != 0) {
		results_write_error = errno ? errno : EIO;
		return;
	}
	results_flushed += results.len;
	mkt_buf_reset(&results);
}

void mkt_drv_results_flush(void)
{
	if (results_stream)
		results_write();
}

long long mkt_drv_size_mb(uint64_t bytes)
{
	return (long long)((bytes + (1u << 20) - 1) >> 20);
}

/* ---- the document ------------------------------------------------------- */

/* libxml2 2.12 made the structured error handler take a const xmlError *. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

static void quiet_xpath_error(void *ud, xml_error_arg error)
{
}

/* @s, owned by @d from now on (freed by mkt_drv_free()). */
static char *keep_string(mkt_drv *d, char *s)
{
	d->strings = mkt_realloc(d->strings, (d->nstrings + 1) * sizeof(*d->strings));
	d->strings[d->nstrings++] = s;
	return s;
}

void mkt_drv_free(mkt_drv *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nstrings; i++)
		free(d->strings[i]);
	free(d->strings);
	mkt_netpolicy_free(d->networks);
	xmlXPathFreeContext(d->xpath);
	xmlFreeDoc(d->doc);
	free(d->action);
	free(d->id);
	free(d);
}

int mkt_drv_new(mkt_drv **out, const char *action, const char *id,
		const char *text, size_t len)
{
	mkt_drv *d = mkt_calloc(1, sizeof(*d));
	xmlNodePtr root;
	const char *doc_action;
	size_t i;
	int ret = MKT_DRV_EINPUT;

	d->action = mkt_strdup(action);
	d->id = id && *id ? mkt_strdup(id) : NULL;
	for (i = 0; i < len && isspace((unsigned char)text[i]); i++)
		;
	if (i == len) {
		mkt_drv_fail(ret, "empty action document");
		goto cleanup;
	}
	if (mkt_xml_parse(&d->doc, text, len) < 0) {
		mkt_drv_fail(ret, "cannot read the action document: %s", mkt_error_message());
		goto cleanup;
	}
	root = xmlDocGetRootElement(d->doc);
	if (strcmp((const char *)root->name, ROOT_NAME)) {
		mkt_drv_fail(ret, "the action document's root is <%s>, not <" ROOT_NAME ">",
			     (const char *)root->name);
		goto cleanup;
	}
	if (!(d->xpath = xmlXPathNewContext(d->doc))) {
		mkt_drv_fail(MKT_DRV_EFAIL, "cannot create an XPath context");
		ret = MKT_DRV_EFAIL;
		goto cleanup;
	}
	d->xpath->node = root;
	/* A bad path is the caller's bug and gives NULL; keep libxml2's
	 * message off stderr, which belongs to the protocol. */
	d->xpath->error = quiet_xpath_error;
	/* ACTION is optional (OpenNebula's payload has none) but must agree. */
	doc_action = mkt_drv_get(d, "ACTION");
	if (doc_action && *doc_action && strcasecmp(doc_action, action)) {
		mkt_drv_fail(ret, "the action document is for action \"%s\", not \"%s\"",
			     doc_action, action);
		goto cleanup;
	}
	*out = MKT_STEAL(d);
	ret = MKT_DRV_OK;

 cleanup:
	mkt_drv_free(d);
	return ret;
}

const char *mkt_drv_action_name(const mkt_drv *d)
{
	return d->action;
}

const char *mkt_drv_get(mkt_drv *d, const char *path)
{
	xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST path, d->xpath);
	xmlChar *content;
	char *s = NULL;

	if (obj && obj->type == XPATH_NODESET && obj->nodesetval &&
	    obj->nodesetval->nodeNr > 0) {
		content = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
		s = keep_string(d, mkt_util_trim(mkt_strdup(content ? (const char *)content : "")));
		xmlFree(content);
	}
	xmlXPathFreeObject(obj);
	return s;
}

int mkt_drv_exists(mkt_drv *d, const char *path)
{
	xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST path, d->xpath);
	int found = obj && obj->type == XPATH_NODESET && obj->nodesetval &&
		    obj->nodesetval->nodeNr > 0;

	xmlXPathFreeObject(obj);
	return found;
}

int mkt_drv_require(mkt_drv *d, const char *path, const char **out)
{
	const char *v = mkt_drv_get(d, path);

	if (!v || !*v)
		return mkt_drv_fail(MKT_DRV_EINPUT, "missing %s in the action document", path);
	*out = v;
	return 0;
}

int mkt_drv_get_long(mkt_drv *d, const char *path, long long *out)
{
	const char *v = mkt_drv_get(d, path);

	if (!v || !*v)
		return MKT_ENOTFOUND;
	return mkt_util_parse_long(v, out);
}

int mkt_drv_get_bool(mkt_drv *d, const char *path, int *out)
{
	const char *v = mkt_drv_get(d, path);

	if (!v || !*v)
		return MKT_ENOTFOUND;
	return mkt_util_parse_bool(v, out);
}

const char *mkt_drv_id(mkt_drv *d)
{
	const char *id;

	if (d->id)
		return d->id;
	id = mkt_drv_get(d, "MARKETPLACEAPP/ID");
	if (!id || !*id)
		id = mkt_drv_get(d, "MARKETPLACE/ID");
	return id && *id ? id : NULL;
}

int mkt_drv_require_id(mkt_drv *d, const char **out)
{
	const char *id = mkt_drv_id(d), *p;

	for (p = id; p && isdigit((unsigned char)*p); p++)
		;
	if (!id || !*id || *p)
		return mkt_drv_fail(MKT_DRV_EINPUT, "the app id \"%s\" is not a number",
				    id ? id : "");
	*out = id;
	return 0;
}

/* ---- main --------------------------------------------------------------- */

/* Every action name of the protocol, the service actions included: a
 * driver run under one of these names it lacks exits 3 rather than
 * taking its first argument for the action. */
static const char *const protocol_actions[] = {
	"import", "export", "delete", "monitor",
	"provision", "update", "deprovision", "bind", "unbind", "last_operation", "batch", NULL
};

/* Actions a batch may hold: the service actions, each one HTTP call. */
static const char *const batch_actions[] = {
	"provision", "update", "deprovision", "bind", "unbind", "last_operation", NULL
};

static const mkt_drv_action *find_action(const mkt_drv_action *actions, const char *name)
{
	for (; actions->action; actions++) {
		if (!strcmp(actions->action, name))
			return actions;
	}
	return NULL;
}

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++) {
		if (!strcmp(*list, name))
			return 1;
	}
	return 0;
}

static int read_stdin(char **out, size_t *out_len)
{
	mkt_buf b = MKT_BUF_INIT;
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			mkt_buf_free(&b);
			return mkt_drv_fail(MKT_DRV_EINPUT, "cannot read the action document from stdin: %s",
					    strerror(err));
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > MAX_DOCUMENT) {
			mkt_buf_free(&b);
			return mkt_drv_fail(MKT_DRV_EINPUT, "the action document is larger than %u MiB",
					    MAX_DOCUMENT >> 20);
		}
		mkt_buf_addn(&b, chunk, (size_t)n);
	}
	*out_len = b.len;
	*out = mkt_buf_steal(&b);
	return 0;
}

static int read_document(char **out, size_t *out_len, const char *arg)
{
	unsigned char *data = NULL;

	if (!arg || !strcmp(arg, "-"))
		return read_stdin(out, out_len);
	if (mkt_util_base64_decode(&data, out_len, arg) < 0)
		return mkt_drv_fail(MKT_DRV_EINPUT, "the action document argument is not base64");
	*out = (char *)data;
	return 0;
}

/* What is left of the results goes out after a success; after a failure
 * it is dropped (what a flush wrote stays: driver.h). */
static int finish(int status)
{
	if (status == MKT_DRV_OK)
		mkt_drv_progress_flush();
	if (status == MKT_DRV_OK)
		results_write();
	if (status == MKT_DRV_OK && results_write_error)
		status = mkt_drv_fail(MKT_DRV_EFAIL, "cannot write the result: %s",
				      strerror(results_write_error));
	mkt_drv_results_reset();
	return status;
}

/* ---- batches (drivers.md, "Batches") ----------------------------------------- */

/* Calls of a batch run on this many threads at most. */
#define BATCH_THREADS 16

typedef struct {
	const mkt_drv_action *actions;
	char **docs;               /* each call's document, serialized */
	size_t *lens;
	char (*names)[32];         /* each call's ACTION */
	size_t n;
	size_t next;               /* the next call to run */
	pthread_mutex_t lock;
	mkt_buf *answers;          /* each call's CALL vector */
} batch;

static void run_call(batch *b, size_t i)
{
	mkt_buf error = MKT_BUF_INIT, *answer = &b->answers[i];
	const mkt_drv_action *row = NULL;
	const char *action = b->names[i];
	mkt_drv *d = NULL;
	char *result64 = NULL;
	int status;

	call_error = &error;
	if (!in_list(batch_actions, action) || !(row = find_action(b->actions, action)))
		status = mkt_drv_fail(MKT_DRV_ENOTSUP, "action \"%s\" cannot be in a batch of this "
				      "driver", action);
	else if ((status = mkt_drv_new(&d, action, NULL, b->docs[i], b->lens[i])) == 0)
		status = row->handler(d);
	if (status == MKT_DRV_OK)
		result64 = mkt_util_base64_encode(results.ptr ? results.ptr : "", results.len);
	mkt_buf_printf(answer, "CALL=[ INDEX=\"%zu\", STATUS=\"%d\", RESULT=\"%s\", ERROR=\"",
		       i, status, result64 ? result64 : "");
	if (error.len)
		add_escaped(answer, error.ptr);
	mkt_buf_add(answer, "\" ]\n");
	free(result64);
	mkt_drv_free(d);
	mkt_drv_results_reset();
	mkt_buf_free(&error);
	call_error = NULL;
}

static void *batch_worker(void *arg)
{
	batch *b = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		i = b->next < b->n ? b->next++ : b->n;
		pthread_mutex_unlock(&b->lock);
		if (i == b->n)
			return NULL;
		run_call(b, i);
	}
}

/*
 * A batch: <MARKET_DRIVER_BATCH> holding whole action documents, each run
 * as if it were its own process, on up to BATCH_THREADS threads; the
 * answer is one CALL vector each.  Only a batch that cannot be read fails
 * as a whole.
 */
static int run_batch(const mkt_drv_action *actions, const char *text, size_t len)
{
	batch b = { .actions = actions };
	pthread_t threads[BATCH_THREADS];
	size_t i, nthreads = 0;
	xmlDocPtr doc = xmlReadMemory(text, (int)len, NULL, NULL, XML_PARSE_NONET);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL, c;
	int ret = MKT_DRV_OK;

	if (!root || xmlStrcmp(root->name, BAD_CAST "MARKET_DRIVER_BATCH")) {
		ret = mkt_drv_fail(MKT_DRV_EINPUT, "the batch document is not a <MARKET_DRIVER_BATCH>");
		goto cleanup;
	}
	for (c = root->children; c; c = c->next) {
		xmlBufferPtr buf;
		xmlNodePtr e;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		b.docs = mkt_realloc(b.docs, (b.n + 1) * sizeof(*b.docs));
		b.lens = mkt_realloc(b.lens, (b.n + 1) * sizeof(*b.lens));
		b.names = mkt_realloc(b.names, (b.n + 1) * sizeof(*b.names));
		/* The call's own action: mkt_drv_new() checks it is the
		 * document's. */
		b.names[b.n][0] = '\0';
		for (e = c->children; e; e = e->next) {
			if (e->type == XML_ELEMENT_NODE && !xmlStrcmp(e->name, BAD_CAST "ACTION")) {
				xmlChar *t = xmlNodeGetContent(e);

				snprintf(b.names[b.n], sizeof(b.names[b.n]), "%s",
					 t ? mkt_util_trim((char *)t) : "");
				xmlFree(t);
				break;
			}
		}
		buf = xmlBufferCreate();
		xmlNodeDump(buf, doc, c, 0, 0);
		b.lens[b.n] = (size_t)xmlBufferLength(buf);
		b.docs[b.n] = mkt_strndup((const char *)xmlBufferContent(buf), b.lens[b.n]);
		b.n++;
		xmlBufferFree(buf);
	}
	b.answers = mkt_calloc(b.n ? b.n : 1, sizeof(*b.answers));
	pthread_mutex_init(&b.lock, NULL);
	/* libxml2 is set up once, before the threads use it. */
	xmlInitParser();
	for (i = 0; i < BATCH_THREADS && i < b.n; i++) {
		if (pthread_create(&threads[nthreads], NULL, batch_worker, &b) == 0)
			nthreads++;
	}
	if (nthreads == 0)
		batch_worker(&b);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&b.lock);
	for (i = 0; i < b.n; i++)
		mkt_buf_addn(&results, b.answers[i].ptr ? b.answers[i].ptr : "", b.answers[i].len);

 cleanup:
	for (i = 0; i < b.n; i++) {
		free(b.docs[i]);
		mkt_buf_free(&b.answers[i]);
	}
	free(b.docs);
	free(b.lens);
	free(b.names);
	free(b.answers);
	xmlFreeDoc(doc);
	return ret;
}

/*
 * Die with marketd: a driver that outlives a killed marketd would go on
 * with work nobody records (an upload finishing into a market after its
 * app was marked failed).  The kernel sends SIGTERM when marketd goes,
 * which stops a transfer and removes its temporary file.  Run by hand
 * (no MARKETD_PID), a driver is left alone.
 */
static void follow_marketd(void)
{
	const char *pid = getenv("MARKETD_PID");

	mkt_drv_stop_flag();                 /* the SIGTERM handler first */
	if (!pid || !*pid)
		return;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != (pid_t)strtol(pid, NULL, 10))
		raise(SIGTERM);              /* it went before prctl */
}

int mkt_drv_main(int argc, char **argv, const mkt_drv_action *actions)
{
	const char *self = argc > 0 && argv[0] ? argv[0] : "driver";
	const char *name = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
	const mkt_drv_action *row;
	char **args = argv + 1;
	int nargs = argc > 0 ? argc - 1 : 0;
	mkt_drv *d = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret;

	follow_marketd();
	/* Run under its own name: the action is the first argument. */
	if (!find_action(actions, name) && !in_list(protocol_actions, name)) {
		if (nargs < 1) {
			ret = mkt_drv_fail(MKT_DRV_EINPUT,
					   "usage: %s ACTION [BASE64_DOCUMENT|-] [ID] (or run it as ACTION)",
					   name);
			goto cleanup;
		}
		name = args[0];
		args++;
		nargs--;
	}
	if (!strcmp(name, "batch") && !find_action(actions, name)) {
		if ((ret = read_document(&text, &len, nargs > 0 ? args[0] : NULL)) == 0)
			ret = run_batch(actions, text, len);
		goto cleanup;
	}
	if (!(row = find_action(actions, name))) {
		ret = mkt_drv_fail(MKT_DRV_ENOTSUP, "action \"%s\" is not supported by this driver",
				   name);
		goto cleanup;
	}
	if ((ret = read_document(&text, &len, nargs > 0 ? args[0] : NULL)) != 0)
		goto cleanup;
	if ((ret = mkt_drv_new(&d, name, nargs > 1 ? args[1] : NULL, text, len)) != 0)
		goto cleanup;
	results_stream = 1;
	ret = row->handler(d);

 cleanup:
	ret = finish(ret);
	mkt_drv_free(d);
	free(text);
	xmlCleanupParser();
	return ret;
}
