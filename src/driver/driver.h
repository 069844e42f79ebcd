/*
 * driver.h: the contract between marketd and its market drivers.
 *
 * marketd does no storage work itself: for every action it runs the
 * executable <DRIVER_DIR>/<MARKET_MAD>/<action> with the action document
 * (share/doc/drivers.md) on stdin, reads the result from stdout and log
 * and progress lines from stderr.  Actions run on a bounded pool of worker
 * threads so the RPC server never waits for a driver; the same pool runs
 * marketd's own long jobs (copying images into datastores).
 */
#ifndef MKT_DRIVER_H
#define MKT_DRIVER_H

#include <stdio.h>

#include "common/template.h"
#include "core/config.h"

typedef enum {
	MKT_ACTION_IMPORT = 0,
	MKT_ACTION_EXPORT,
	MKT_ACTION_DELETE,
	MKT_ACTION_MONITOR,
	/* A service broker's (share/doc/drivers.md, service actions). */
	MKT_ACTION_PROVISION,
	MKT_ACTION_UPDATE,
	MKT_ACTION_DEPROVISION,
	MKT_ACTION_BIND,
	MKT_ACTION_UNBIND,
	MKT_ACTION_LAST_OPERATION,
	/* Several service actions in one run (drivers.md, "Batches"); a
	 * driver may not have it. */
	MKT_ACTION_BATCH,
	MKT_ACTION_LAST
} mkt_driver_action;

/* A service action's exit status: the broker may have made something
 * that a delete must now undo (OSB orphan mitigation). */
#define MKT_DRIVER_EXIT_ORPHAN 4

typedef struct mkt_driver mkt_driver;

typedef struct {
	int ok;                 /* the driver exited 0 and its result parsed */
	int exit_status;        /* when it exited by itself; -1 otherwise */
	mkt_template *result;   /* its result (when ok) */
	const char *message;    /* why it failed (when !ok) */
	/* marketd is stopping: the action was cut short, and the object is
	 * best left as it is for the start-up recovery to report. */
	int shutdown;
	/* The request's consume took the driver's stdout (no result). */
	int consumed;
} mkt_driver_reply;

/*
 * Reads the driver's stdout while the driver still writes it, on a thread
 * of its own, with @read(@src, ...): a read returns what the driver has
 * printed (blocking until it prints more), 0 once it closed its stdout,
 * -1 with ECANCELED when the action is stopped.  Only template text comes
 * here: an answer that is XML is parsed whole and handed to the done
 * callback as usual.  Returns when it has read enough (its outcome is its
 * own business); the done callback runs after it returned.
 */
typedef void (*mkt_driver_consume_cb)(mkt_template_read_fn read, void *src, void *ud);
/* On the consumer's thread, when it has read all the driver printed so
 * far and is about to wait for more: a time to finish what it holds. */
typedef void (*mkt_driver_idle_cb)(void *ud);

/* Called on the worker thread once the action ended, whatever happened. */
typedef void (*mkt_driver_done_cb)(const mkt_driver_reply *reply, void *ud);
/* PROGRESS lines; total is 0 when the driver does not know it. */
typedef void (*mkt_driver_progress_cb)(void *ud, unsigned long long done,
				       unsigned long long total);

typedef struct {
	mkt_driver_action action;
	const char *mad;               /* the market's MARKET_MAD */
	int oid;                       /* app id; market id for monitor;
					* instance or binding id for services */
	char *document;                /* the action document, stolen */
	/* It holds a secret: only on stdin, never in argv[1] (which every
	 * user of the host can read in /proc).  A document that holds a URL
	 * with userinfo is kept off argv[1] whatever this says. */
	int document_secret;
	mkt_driver_done_cb done;
	mkt_driver_progress_cb progress;
	void *ud;
	/* What mkt_driver_cancel_key() knows it by (copied), when @oid
	 * does not say it: an export's is the image it fills. */
	const char *key;
	/* The flow logs a failure itself, once: the driver's ERROR: lines
	 * and the failure are then logged at debug level only (a monitor
	 * that fails every pass offline must not fill the log). */
	int own_failure_log;
	/* The answer may be far bigger than memory should hold (a catalog's
	 * APP lines), and worth using before it ends: stdout is spooled to a
	 * file (up to 16 GiB) and template text handed to @consume as it
	 * comes (reply->consumed).  XML is still parsed whole (64 MiB). */
	mkt_driver_consume_cb consume;
	mkt_driver_idle_cb consume_idle;     /* may be NULL */
} mkt_driver_request;

int mkt_driver_new(mkt_driver **out, const mkt_config *conf);

/* Stop: cancel queued work, stop running actions (their callbacks run
 * with a failure), join the workers.  Accepts NULL. */
void mkt_driver_free(mkt_driver *drv);

/* Queue an action.  It fails at once, without calling @done, when the
 * market's driver does not offer the action (MKT_EACTION naming the
 * missing executable) or marketd is stopping. */
int mkt_driver_submit(mkt_driver *drv, mkt_driver_request *req);

/* Queue one of marketd's own jobs on the same pool.  @fn runs on a worker;
 * @cancel becomes non-zero when marketd is stopping, or when
 * mkt_driver_cancel_key(@key) stops it (@key copied; NULL: never). */
typedef void (*mkt_driver_job_fn)(void *ud, const volatile int *cancel);
int mkt_driver_submit_job(mkt_driver *drv, mkt_driver_job_fn fn, void *ud, const char *key);

/* Stop the queued or running @action for object @oid (its callback then
 * runs with a failure); returns how many were found. */
int mkt_driver_cancel(mkt_driver *drv, mkt_driver_action action, int oid);

/* The same for the actions and jobs submitted with @key. */
int mkt_driver_cancel_key(mkt_driver *drv, const char *key);

/* Does <DRIVER_DIR>/<mad>/<action> exist and is it executable? */
int mkt_driver_has_action(const mkt_driver *drv, const char *mad, mkt_driver_action action);

/* Log, once at start-up, every configured driver action that is missing. */
void mkt_driver_check(const mkt_driver *drv, const mkt_config *conf);

const char *mkt_driver_action_name(mkt_driver_action action);

/* A driver's stdout: OpenNebula template text or an XML document. */
int mkt_driver_parse_result(const char *text, mkt_template **out);

#endif
