/*
 * driver.c: the worker pool and one driver run (see driver.h).
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "driver.h"

/* Linux refuses a single argv string over 128 KiB (MAX_ARG_STRLEN). */
#define ARG_LIMIT (128 * 1024 - 1)
#define STDERR_KEEP 4096
/* A driver's stdout held in memory, and one spooled to a file. */
#define SPAWN_MEMORY_MAX ((size_t)64 << 20)
#define SPAWN_STREAM_MAX ((size_t)16 << 30)

/* One row per action: what it is called, and which of the configured
 * timeouts applies.  Dispatch never looks at a driver's name. */
static const struct {
	const char *name;
	unsigned app_action;    /* MKT_APP_ACTION_* bit that allows it */
	int timeout;            /* MKT_TIMEOUT_* */
	int optional;           /* a driver without it is still whole */
} actions[MKT_ACTION_LAST] = {
	[MKT_ACTION_IMPORT] = { "import", MKT_APP_ACTION_CREATE, MKT_TIMEOUT_IMPORT },
	[MKT_ACTION_EXPORT] = { "export", 0, MKT_TIMEOUT_EXPORT },
	[MKT_ACTION_DELETE] = { "delete", MKT_APP_ACTION_DELETE, MKT_TIMEOUT_DELETE },
	[MKT_ACTION_MONITOR] = { "monitor", MKT_APP_ACTION_MONITOR, MKT_TIMEOUT_MONITOR },
	[MKT_ACTION_PROVISION] = { "provision", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_UPDATE] = { "update", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_DEPROVISION] = { "deprovision", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_BIND] = { "bind", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_UNBIND] = { "unbind", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_LAST_OPERATION] = { "last_operation", MKT_APP_ACTION_SERVICE,
					MKT_TIMEOUT_SERVICE },
	[MKT_ACTION_BATCH] = { "batch", MKT_APP_ACTION_SERVICE, MKT_TIMEOUT_SERVICE, 1 },
};

/* Environment variables a driver gets from marketd, besides its own. */
static const char *const passed_env[] = {
	"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
	"NO_PROXY", "ALL_PROXY", "all_proxy", "TZ",
};

typedef struct job {
	struct job *next;
	struct job *run_next;          /* in drv->running */
	volatile int cancel;           /* stop this one (spawn polls it) */
	mkt_driver_request req;        /* req.document is owned */
	mkt_driver_job_fn fn;          /* internal job instead of a driver */
	void *fn_ud;
	char *key;                     /* for mkt_driver_cancel_key(), or NULL */
} job;

struct mkt_driver {
	const mkt_config *conf;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	job *head, *tail;
	job *running;
	pthread_t *workers;
	int nworkers;
	volatile int stopping;
	char *scratch;                 /* drivers' working directory */
};

/* Set once, under drv->lock; read anywhere (workers, callbacks). */
static int is_stopping(const mkt_driver *drv)
{
	return __atomic_load_n(&drv->stopping, __ATOMIC_RELAXED);
}

const char *mkt_driver_action_name(mkt_driver_action action)
{
	return action >= 0 && action < MKT_ACTION_LAST ? actions[action].name : "?";
}

static char *action_path(const mkt_driver *drv, const char *mad, mkt_driver_action action)
{
	return mkt_asprintf("%s/%s/%s", drv->conf->driver_dir, mad, actions[action].name);
}

int mkt_driver_has_action(const mkt_driver *drv, const char *mad, mkt_driver_action action)
{
	char *path;
	int ok;

	/* A driver name is a directory name, never a path. */
	if (!mad || !*mad || strchr(mad, '/') || !strcmp(mad, "..") || !strcmp(mad, "."))
		return 0;
	path = action_path(drv, mad, action);
	ok = access(path, X_OK) == 0;
	free(path);
	return ok;
}

void mkt_driver_check(const mkt_driver *drv, const mkt_config *conf)
{
	size_t i;
	int a;

	for (i = 0; i < conf->nmads; i++) {
		for (a = 0; a < MKT_ACTION_LAST; a++) {
			unsigned bit = actions[a].app_action;

			if ((bit && !(conf->mads[i].app_actions & bit)) || actions[a].optional)
				continue;
			if (!bit && !(conf->mads[i].app_actions & MKT_APP_ACTION_CREATE) &&
			    !(conf->mads[i].app_actions & MKT_APP_ACTION_EXPORT))
				continue;
			if (!mkt_driver_has_action(drv, conf->mads[i].name, a))
				mkt_log(MKT_LOG_WARN, "driver",
					"driver %s: %s/%s/%s is missing or not executable; "
					"that action will fail", conf->mads[i].name,
					conf->driver_dir, conf->mads[i].name, actions[a].name);
		}
	}
}

int mkt_driver_parse_result(const char *text, mkt_template **out)
{
	const char *p = text ? text : "";

	while (isspace((unsigned char)*p))
		p++;
	if (mkt_template_parse_any(out, p) < 0)
		return mkt_error_set(MKT_EDRIVER, MKT_ERR_DRIVER,
				     "driver printed something that is neither template text "
				     "nor XML on stdout: %s", mkt_error_message());
	return 0;
}

/* ---- one driver run ---------------------------------------------------- */

typedef struct live_spool live_spool;

typedef struct {
	const mkt_driver_request *req;
	mkt_buf errors;          /* ERROR: lines */
	mkt_buf other;           /* unrecognised stderr lines */
	live_spool *live;        /* stdout read as it comes, or NULL */
} run_ctx;

static void keep_line(mkt_buf *b, const char *line)
{
	if (b->len > STDERR_KEEP)
		return;
	if (b->len)
		mkt_buf_add(b, " ");
	mkt_buf_add(b, line);
}

/* stderr: log lines, progress lines, and anything else kept as the
 * failure message (oned's get_info_from_execution). */
static void on_stderr(void *ud, const char *line)
{
	static const struct { const char *prefix; mkt_log_level level; } levels[] = {
		{ "ERROR:", MKT_LOG_ERROR }, { "WARN:", MKT_LOG_WARN },
		{ "INFO:", MKT_LOG_INFO }, { "DEBUG:", MKT_LOG_DEBUG },
	};
	run_ctx *rc = ud;
	const mkt_driver_request *req = rc->req;
	unsigned long long done, total;
	size_t i;

	if (sscanf(line, "PROGRESS %llu %llu", &done, &total) == 2) {
		if (req->progress)
			req->progress(req->ud, done, total);
		return;
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		size_t n = strlen(levels[i].prefix);

		if (strncmp(line, levels[i].prefix, n))
			continue;
		line += n;
		while (*line == ' ')
			line++;
		mkt_log(req->own_failure_log && levels[i].level == MKT_LOG_ERROR ?
			MKT_LOG_DEBUG : levels[i].level, "driver", "%s %s %d: %s", req->mad,
			actions[req->action].name, req->oid, line);
		if (levels[i].level == MKT_LOG_ERROR)
			keep_line(&rc->errors, line);
		return;
	}
	if (*line) {
		mkt_log(MKT_LOG_DEBUG, "driver", "%s %s %d: %s", req->mad,
			actions[req->action].name, req->oid, line);
		keep_line(&rc->other, line);
	}
}

static char **build_env(const mkt_driver *drv, const mkt_driver_request *req)
{
	size_t n = 0, i, max = sizeof(passed_env) / sizeof(passed_env[0]) + 10;
	char **env = mkt_calloc(max, sizeof(char *));
	const char *home = getenv("HOME");

	env[n++] = mkt_strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env[n++] = mkt_strdup("LANG=C.UTF-8");
	env[n++] = mkt_asprintf("HOME=%s", home ? home : "/");
	env[n++] = mkt_asprintf("TMPDIR=%s", drv->scratch);
	env[n++] = mkt_asprintf("MARKETD_ACTION=%s", actions[req->action].name);
	env[n++] = mkt_strdup("MARKETD_VERSION=" PACKAGE_VERSION);
	/* A driver may stop when marketd goes (drivers/common). */
	env[n++] = mkt_asprintf("MARKETD_PID=%ld", (long)getpid());
	for (i = 0; i < sizeof(passed_env) / sizeof(passed_env[0]); i++) {
		const char *v = getenv(passed_env[i]);

		if (v)
			env[n++] = mkt_asprintf("%s=%s", passed_env[i], v);
	}
	return env;
}

/* An unlinked file in @dir for a spooled stdout (nothing to clean up
 * after a crash). */
static FILE *spool_file(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	FILE *fp;

	if (fd < 0) {
		char *path = mkt_asprintf("%s/.stdout.XXXXXX", dir);

		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		free(path);
	}
	if (fd < 0 || !(fp = fdopen(fd, "w+"))) {
		mkt_error_set_os(errno, "cannot make a file for a driver's output in %s", dir);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return fp;
}

/* A spooled stdout that is XML (small by nature): read and parsed whole. */
static int spooled_xml(FILE *fp, size_t len, mkt_driver_reply *reply)
{
	char *text;
	int ret;

	if (len > SPAWN_MEMORY_MAX)
		return mkt_error_set(MKT_EDRIVER, MKT_ERR_DRIVER, "driver printed an XML "
				     "answer of more than 64 MiB");
	text = mkt_malloc(len + 1);
	rewind(fp);
	len = fread(text, 1, len, fp);
	text[len] = '\0';
	ret = mkt_driver_parse_result(text, &reply->result);
	free(text);
	return ret;
}

/* ---- a spooled stdout read while the driver writes it ------------------ */

/*
 * The spawn loop appends the driver's stdout to the spool file and says
 * how far it got; the consumer thread reads behind it (live_read),
 * waiting when it caught up.  The spool is the
 * buffer between the two: a consumer slower than the driver never makes
 * it wait, nor holds its output in memory.
 */
struct live_spool {
	int fd;                        /* the spool */
	off_t read_at;                 /* the consumer's position */
	pthread_mutex_t lock;
	pthread_cond_t grown;
	size_t written;                /* flushed to the spool so far */
	int closed;                    /* the driver's stdout is closed */
	const volatile int *cancel;
	mkt_driver_consume_cb consume;
	mkt_driver_idle_cb idle;
	void *ud;
	int declined;                  /* XML: parsed whole after the run */
	pthread_t thread;
};

/* Spawn's on_output. */
static void live_grew(void *ud, size_t written)
{
	live_spool *ls = ((run_ctx *)ud)->live;

	pthread_mutex_lock(&ls->lock);
	ls->written = written;
	pthread_cond_signal(&ls->grown);
	pthread_mutex_unlock(&ls->lock);
}

/* A consumer that caught up with the driver and waited this long for
 * more is told so (the request's consume_idle); one that catches up
 * often, with output flowing, is not interrupted each time. */
#define LIVE_IDLE_MS 100

/* Wait until @want bytes are in the spool, or no more will come, or @ms
 * passed (-1: no limit); how many are there. */
static size_t live_wait(live_spool *ls, size_t want, int ms)
{
	struct timespec until;
	size_t have;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)(ms > 0 ? ms : 0) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&ls->lock);
	while (ls->written < want && !ls->closed && !__atomic_load_n(ls->cancel, __ATOMIC_RELAXED)) {
		if (ms < 0)
			pthread_cond_wait(&ls->grown, &ls->lock);
		else if (pthread_cond_timedwait(&ls->grown, &ls->lock, &until) == ETIMEDOUT)
			break;
	}
	have = ls->written;
	pthread_mutex_unlock(&ls->lock);
	return have;
}

static ssize_t live_read(void *cookie, char *buf, size_t size)
{
	live_spool *ls = cookie;
	size_t want = (size_t)ls->read_at + 1, have;
	ssize_t got;

	have = live_wait(ls, want, ls->idle ? LIVE_IDLE_MS : -1);
	if (have < want && ls->idle) {
		ls->idle(ls->ud);
		have = live_wait(ls, want, -1);
	}
	if (__atomic_load_n(ls->cancel, __ATOMIC_RELAXED)) {
		errno = ECANCELED;
		return -1;
	}
	if (have <= (size_t)ls->read_at)
		return 0;
	if (size > have - (size_t)ls->read_at)
		size = have - (size_t)ls->read_at;
	if ((got = pread(ls->fd, buf, size, ls->read_at)) > 0)
		ls->read_at += got;
	return got;
}

/* The consumer thread: template text goes to the request's consumer, as
 * it comes; XML (told apart as mkt_driver_parse_result() does) is left. */
static void *live_main(void *arg)
{
	live_spool *ls = arg;
	char head[256];
	size_t have, start = 0;
	ssize_t n;

	/* Past the leading blanks, then enough to tell XML from text. */
	for (;;) {
		have = live_wait(ls, start + 1, -1);
		if (have <= start)
			break;
		n = pread(ls->fd, head, have - start < sizeof(head) ? have - start : sizeof(head),
			  (off_t)start);
		if (n <= 0)
			break;
		while (n > 0 && isspace((unsigned char)head[0])) {
			memmove(head, head + 1, (size_t)--n);
			start++;
		}
		if (n > 0)
			break;
	}
	have = live_wait(ls, start + sizeof(head) - 1, -1);
	n = have > start ? pread(ls->fd, head, have - start < sizeof(head) - 1 ?
				  have - start : sizeof(head) - 1, (off_t)start) : 0;
	head[n > 0 ? n : 0] = '\0';
	if (mkt_template_xml_start(head)) {
		ls->declined = 1;
		return NULL;
	}
	ls->read_at = (off_t)start;
	ls->consume(live_read, ls, ls->ud);
	return NULL;
}

static int live_start(live_spool *ls, FILE *spool, const mkt_driver_request *req,
		      const volatile int *cancel)
{
	int ret;

	memset(ls, 0, sizeof(*ls));
	ls->fd = fileno(spool);
	ls->cancel = cancel;
	ls->consume = req->consume;
	ls->idle = req->consume_idle;
	ls->ud = req->ud;
	pthread_mutex_init(&ls->lock, NULL);
	pthread_cond_init(&ls->grown, NULL);
	if ((ret = pthread_create(&ls->thread, NULL, live_main, ls)) != 0) {
		pthread_cond_destroy(&ls->grown);
		pthread_mutex_destroy(&ls->lock);
		return mkt_error_set_os(ret, "cannot start a thread to read the driver's output");
	}
	return 0;
}

/* The driver's stdout is closed (or it never ran): the consumer reads
 * what is left and ends. */
static void live_finish(live_spool *ls)
{
	pthread_mutex_lock(&ls->lock);
	ls->closed = 1;
	pthread_cond_signal(&ls->grown);
	pthread_mutex_unlock(&ls->lock);
	pthread_join(ls->thread, NULL);
	pthread_cond_destroy(&ls->grown);
	pthread_mutex_destroy(&ls->lock);
}

static void run_action(mkt_driver *drv, mkt_driver_request *req, const volatile int *cancel)
{
	run_ctx rc = { req, MKT_BUF_INIT, MKT_BUF_INIT, NULL };
	mkt_driver_reply reply = { 0, -1, NULL, NULL, 0, 0 };
	size_t doclen = strlen(req->document);
	char *path = action_path(drv, req->mad, req->action);
	/* A URL's userinfo is a password as much as a market's secret is,
	 * wherever in the document a user put it (IMPORT_SOURCE, PATH, any
	 * template attribute): such a document too goes on stdin only. */
	int secret = req->document_secret || mkt_util_text_has_url_userinfo(req->document);
	char *arg = !secret && doclen * 4 / 3 + 4 < ARG_LIMIT ?
		    mkt_util_base64_encode(req->document, doclen) : mkt_strdup("-");
	char id[16], why[128];
	char **env = build_env(drv, req);
	const char *argv[] = { path, arg, id, NULL };
	mkt_spawn_opts o = {
		.argv = argv, .envp = (const char *const *)env, .cwd = drv->scratch,
		.input = req->document, .input_len = doclen,
		.timeout = drv->conf->driver_timeout[actions[req->action].timeout],
		.on_stderr = on_stderr, .ud = &rc, .cancel = cancel,
	};
	mkt_spawn_result r = { 0 };
	live_spool live;
	char *message = NULL;
	FILE *spool = NULL;
	int spawned;
	size_t i;

	if (req->consume) {
		if (!(spool = spool_file(drv->scratch)) || live_start(&live, spool, req, cancel) < 0) {
			message = mkt_strdup(mkt_error_message());
			goto done;
		}
		rc.live = &live;
		o.output_file = spool;
		o.max_output = SPAWN_STREAM_MAX;
		o.on_output = live_grew;
	}

	snprintf(id, sizeof(id), "%d", req->oid);
	mkt_log(MKT_LOG_DEBUG, "driver", "running %s %s for %d", req->mad,
		actions[req->action].name, req->oid);
	spawned = mkt_spawn_run(&o, &r) == 0;
	if (rc.live)
		live_finish(rc.live);
	if (!spawned) {
		message = mkt_strdup(mkt_error_message());
	} else if (r.timed_out || r.cancelled || r.term_signal || r.exit_status != 0) {
		const char *text = rc.errors.len ? mkt_buf_cstr(&rc.errors) :
				   rc.other.len ? mkt_buf_cstr(&rc.other) : "no error message";

		mkt_spawn_describe(&r, o.timeout, why, sizeof(why));
		message = r.timed_out || r.cancelled || r.term_signal ?
			  mkt_asprintf("driver %s %s %s: %s", req->mad, actions[req->action].name,
				       r.cancelled ? (is_stopping(drv) ? "was stopped: marketd is shutting down"
						  : "was cancelled") : why,
				       text) :
			  mkt_strdup(text);
	} else if (r.output_truncated) {
		message = spool && r.output_len < SPAWN_STREAM_MAX ?
			  mkt_asprintf("cannot keep the output of driver %s %s in %s: %s",
				       req->mad, actions[req->action].name, drv->scratch,
				       strerror(ferror(spool) ? errno : ENOSPC)) :
			  mkt_asprintf("driver %s %s printed more than the %s stdout limit",
				       req->mad, actions[req->action].name,
				       spool ? "16 GiB" : "64 MiB");
	} else if (spool && live.declined && (fflush(spool) != 0 ||
					      spooled_xml(spool, r.output_len, &reply) < 0)) {
		message = mkt_strdup(mkt_error_message());
	} else if (spool) {
		reply.ok = 1;
		reply.consumed = !live.declined;
	} else if (mkt_driver_parse_result(r.output, &reply.result) < 0) {
		message = mkt_strdup(mkt_error_message());
	} else {
		reply.ok = 1;
	}
	if (spawned && !r.timed_out && !r.cancelled && !r.term_signal)
		reply.exit_status = r.exit_status;
 done:
	if (!reply.ok)
		mkt_log(req->own_failure_log ? MKT_LOG_DEBUG : MKT_LOG_ERROR, "driver",
			"%s %s for %d failed: %s", req->mad, actions[req->action].name, req->oid,
			message);
	reply.message = message;
	reply.shutdown = !reply.ok && is_stopping(drv);
	req->done(&reply, req->ud);

	mkt_template_free(reply.result);
	if (spool)
		fclose(spool);
	free(message);
	mkt_spawn_result_clear(&r);
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
	free(arg);
	free(path);
	mkt_buf_free(&rc.errors);
	mkt_buf_free(&rc.other);
}

/* ---- the pool ------------------------------------------------------------ */

static void job_fail(job *j, const mkt_driver *drv, const char *why)
{
	mkt_driver_reply reply = { 0, -1, NULL, why, is_stopping(drv), 0 };

	if (j->fn)
		j->fn(j->fn_ud, &(int){ 1 });
	else
		j->req.done(&reply, j->req.ud);
}

static void job_free(job *j)
{
	free(j->req.document);
	free((char *)j->req.mad);
	free(j->key);
	free(j);
}

static void *worker(void *arg)
{
	mkt_driver *drv = arg;

	for (;;) {
		job *j;

		pthread_mutex_lock(&drv->lock);
		while (!drv->head && !drv->stopping)
			pthread_cond_wait(&drv->cond, &drv->lock);
		if (!drv->head) {
			pthread_mutex_unlock(&drv->lock);
			return NULL;
		}
		j = drv->head;
		drv->head = j->next;
		if (!drv->head)
			drv->tail = NULL;

		j->run_next = drv->running;
		drv->running = j;
		pthread_mutex_unlock(&drv->lock);

		if (is_stopping(drv))
			job_fail(j, drv, "marketd is shutting down");
		else if (__atomic_load_n(&j->cancel, __ATOMIC_RELAXED))
			job_fail(j, drv, "cancelled");
		else if (j->fn)
			j->fn(j->fn_ud, &j->cancel);
		else
			run_action(drv, &j->req, &j->cancel);

		pthread_mutex_lock(&drv->lock);
		for (job **pp = &drv->running; *pp; pp = &(*pp)->run_next) {
			if (*pp == j) {
				*pp = j->run_next;
				break;
			}
		}
		pthread_mutex_unlock(&drv->lock);
		job_free(j);
	}
}

static int enqueue(mkt_driver *drv, job *j)
{
	pthread_mutex_lock(&drv->lock);
	if (drv->stopping) {
		pthread_mutex_unlock(&drv->lock);
		job_free(j);
		return mkt_error_set(MKT_EACTION, MKT_ERR_DRIVER, "marketd is shutting down");
	}
	if (drv->tail)
		drv->tail->next = j;
	else
		drv->head = j;
	drv->tail = j;
	pthread_cond_signal(&drv->cond);
	pthread_mutex_unlock(&drv->lock);
	return 0;
}

int mkt_driver_submit(mkt_driver *drv, mkt_driver_request *req)
{
	job *j;

	if (!mkt_driver_has_action(drv, req->mad, req->action)) {
		free(req->document);
		req->document = NULL;
		return mkt_error_set(MKT_EACTION, MKT_ERR_DRIVER,
				     "driver %s has no %s action (%s/%s/%s is missing or not executable)",
				     req->mad, actions[req->action].name, drv->conf->driver_dir,
				     req->mad, actions[req->action].name);
	}
	j = mkt_calloc(1, sizeof(*j));
	j->req = *req;
	j->req.mad = mkt_strdup(req->mad);
	j->key = req->key ? mkt_strdup(req->key) : NULL;
	j->req.key = j->key;
	req->document = NULL;
	return enqueue(drv, j);
}

int mkt_driver_submit_job(mkt_driver *drv, mkt_driver_job_fn fn, void *ud, const char *key)
{
	job *j = mkt_calloc(1, sizeof(*j));

	j->fn = fn;
	j->fn_ud = ud;
	j->key = key ? mkt_strdup(key) : NULL;
	return enqueue(drv, j);
}

int mkt_driver_new(mkt_driver **out, const mkt_config *conf)
{
	mkt_driver *drv = mkt_calloc(1, sizeof(*drv));
	int i, rc;

	drv->conf = conf;
	pthread_mutex_init(&drv->lock, NULL);
	pthread_cond_init(&drv->cond, NULL);
	drv->scratch = mkt_asprintf("%s/tmp", conf->data_dir);
	if ((rc = mkt_util_mkdir_p(drv->scratch, 0700)) < 0)
		goto fail;
	drv->workers = mkt_calloc((size_t)conf->driver_workers, sizeof(pthread_t));
	for (i = 0; i < conf->driver_workers; i++) {
		if ((rc = pthread_create(&drv->workers[i], NULL, worker, drv)) != 0) {
			mkt_error_set_os(rc, "cannot start driver worker %d", i);
			goto fail;
		}
		drv->nworkers++;
	}
	*out = drv;
	return 0;

 fail:
	rc = mkt_error_last()->code;
	mkt_driver_free(drv);
	return rc < 0 ? rc : MKT_ERROR;
}

/* Whether mkt_driver_cancel() (@key NULL) or mkt_driver_cancel_key()
 * means @j. */
static int job_matches(const job *j, mkt_driver_action action, int oid, const char *key)
{
	if (key)
		return j->key && !strcmp(j->key, key);
	return !j->fn && j->req.action == action && j->req.oid == oid;
}

/* The flag is read by the job's own thread (spawn, transfer): set it
 * atomically rather than through a racy plain store. */
static int cancel_if(job *j, mkt_driver_action action, int oid, const char *key)
{
	if (!job_matches(j, action, oid, key) || __atomic_load_n(&j->cancel, __ATOMIC_RELAXED))
		return 0;
	__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
	return 1;
}

static int cancel_jobs(mkt_driver *drv, mkt_driver_action action, int oid, const char *key)
{
	job *j;
	int n = 0;

	pthread_mutex_lock(&drv->lock);
	for (j = drv->head; j; j = j->next)
		n += cancel_if(j, action, oid, key);
	for (j = drv->running; j; j = j->run_next)
		n += cancel_if(j, action, oid, key);
	pthread_mutex_unlock(&drv->lock);
	return n;
}

int mkt_driver_cancel(mkt_driver *drv, mkt_driver_action action, int oid)
{
	return cancel_jobs(drv, action, oid, NULL);
}

int mkt_driver_cancel_key(mkt_driver *drv, const char *key)
{
	return key ? cancel_jobs(drv, MKT_ACTION_LAST, -1, key) : 0;
}

void mkt_driver_free(mkt_driver *drv)
{
	job *j;
	int i;

	if (!drv)
		return;
	pthread_mutex_lock(&drv->lock);
	__atomic_store_n(&drv->stopping, 1, __ATOMIC_RELAXED);
	for (j = drv->running; j; j = j->run_next)
		__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&drv->cond);
	pthread_mutex_unlock(&drv->lock);
	for (i = 0; i < drv->nworkers; i++)
		pthread_join(drv->workers[i], NULL);
	pthread_mutex_destroy(&drv->lock);
	pthread_cond_destroy(&drv->cond);
	free(drv->workers);
	free(drv->scratch);
	free(drv);
}
