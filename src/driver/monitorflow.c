/*
 * monitorflow.c: monitor passes and the monitor loop.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/buf.h"
#include "core/catalog.h"
#include "imageflow.h"
#include "appflow.h"
#include "monitorflow.h"

/* The first pass comes this long after start (oned's), or after one
 * interval when that is shorter. */
#define FIRST_PASS_DELAY 5

/* Seconds past a time limit after which a temporary file is a killed
 * driver's: marketd sends SIGKILL 5 s after SIGTERM. */
#define SWEEP_MARGIN 10

struct mkt_monitor_loop {
	mkt_core *core;
	mkt_driver *drv;
	int interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* CLOCK_MONOTONIC */
	int stopping;
};

/* The driver's template text, applied as it comes (no lock held). */
static void pass_feed(mkt_template_read_fn read, void *src, void *ud)
{
	mkt_flow *p = ud;

	mkt_catalog_feed(p->core, p->id, read, src);
}

static void pass_idle(void *ud)
{
	mkt_flow *p = ud;

	mkt_catalog_feed_idle(p->core, p->id);
}

static void pass_done(const mkt_driver_reply *reply, void *ud)
{
	mkt_flow *p = ud;
	const char *error = reply->ok ? NULL :
			    reply->shutdown ? "marketd stopped during the pass" : reply->message;
	int ret;

	pthread_mutex_lock(&p->core->lock);
	/* One line per failed pass: offline installs must not fill the log. */
	ret = mkt_catalog_end_pass(p->core, p->id, reply->ok ? reply->result : NULL, error);
	if (ret == MKT_ENOTFOUND || ret == MKT_EACTION)
		mkt_log(MKT_LOG_INFO, "monitor", "market %d: %s", p->id,
			ret == MKT_ENOTFOUND ? "deleted during its monitor pass" : mkt_error_message());
	else if (ret < 0)
		mkt_log(MKT_LOG_ERROR, "monitor", "market %d: cannot record the monitor pass: %s",
			p->id, mkt_error_message());
	else if (error && !reply->shutdown)
		mkt_log(MKT_LOG_WARN, "monitor", "market %d: monitor failed: %s",
			p->id, error);
	pthread_mutex_unlock(&p->core->lock);
	free(p);
}

/* <APPS><ID>..</ID>...</APPS>: the ids of every app of the market (the
 * MARKETPLACE element of a document lists none). */
static int add_app_ids(mkt_core *core, int market_id, mkt_buf *b)
{
	mkt_store_query q;
	int *ids = NULL;
	size_t i, n = 0;
	int ret;

	mkt_store_query_init(&q);
	q.parent = market_id;
	if ((ret = mkt_store_list_ids(core->store, MKT_TABLE_APP, &q, &ids, &n)) < 0)
		return ret;
	mkt_buf_add(b, "<APPS>");
	for (i = 0; i < n; i++)
		mkt_buf_add_elem_int(b, "ID", ids[i]);
	mkt_buf_add(b, "</APPS>");
	free(ids);
	return 0;
}

int mkt_monitorflow_run(mkt_driver *drv, mkt_core *core, int market_id)
{
	mkt_driver_request req = { .action = MKT_ACTION_MONITOR, .oid = market_id,
				   .done = pass_done, .own_failure_log = 1,
				   .consume = pass_feed, .consume_idle = pass_idle };
	mkt_buf extra = MKT_BUF_INIT;
	mkt_catalog_pass pass;
	int ret;

	if ((ret = mkt_catalog_begin_pass(core, market_id, &pass)) != 0)
		return ret > 0 ? 0 : ret;
	if (pass.digest)
		mkt_buf_add_elem(&extra, "CATALOG_DIGEST", pass.digest);
	/* A driver's temporary file of an import older than its time limit
	 * is a killed import's: the driver may sweep it. */
	mkt_buf_add_elem_int(&extra, "IMPORT_TIMEOUT", core->conf->driver_timeout[MKT_TIMEOUT_IMPORT]);
	/* Files of apps not listed here (and older than that) are leftovers
	 * a driver may remove.  A catalog's driver imports nothing: a list of
	 * 100 000 ids would be of no use to it. */
	if (pass.imports && (ret = add_app_ids(core, market_id, &extra)) < 0)
		goto cleanup;
	if ((ret = mkt_appflow_document(core, MKT_ACTION_MONITOR, -1, market_id, mkt_buf_cstr(&extra),
					&req)) == 0)
		ret = mkt_appflow_submit(drv, core, &req, pass.mad, market_id);

 cleanup:
	if (ret < 0) {
		mkt_error saved;

		mkt_error_preserve(&saved);
		mkt_catalog_end_pass(core, market_id, NULL, saved.message);
		mkt_error_restore(&saved);
	}
	mkt_buf_free(&extra);
	mkt_catalog_pass_clear(&pass);
	return ret;
}

/* One pass over every market; those that cannot be monitored are skipped
 * quietly (that is their configuration, not an event). */
static void monitor_all(mkt_monitor_loop *loop)
{
	mkt_store_query q;
	int *ids = NULL;
	size_t i, n = 0;

	pthread_mutex_lock(&loop->core->lock);
	mkt_store_query_init(&q);
	if (mkt_store_list_ids(loop->core->store, MKT_TABLE_MARKET, &q, &ids, &n) < 0)
		mkt_log(MKT_LOG_ERROR, "monitor", "cannot list the markets: %s", mkt_error_message());
	for (i = 0; i < n; i++) {
		int ret = mkt_monitorflow_run(loop->drv, loop->core, ids[i]);

		if (ret == MKT_EACTION || ret == MKT_ENOTFOUND || ret == MKT_EINVAL)
			mkt_log(MKT_LOG_DEBUG, "monitor", "market %d not monitored: %s", ids[i],
				mkt_error_message());
		else if (ret < 0)
			mkt_log(MKT_LOG_WARN, "monitor", "market %d: %s", ids[i], mkt_error_message());
		mkt_error_clear();
	}
	pthread_mutex_unlock(&loop->core->lock);
	free(ids);
}

static void *loop_main(void *arg)
{
	mkt_monitor_loop *loop = arg;
	struct timespec next;
	int delay = loop->interval < FIRST_PASS_DELAY ? loop->interval : FIRST_PASS_DELAY;

	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += delay;
	pthread_mutex_lock(&loop->lock);
	while (!loop->stopping) {
		if (pthread_cond_timedwait(&loop->wake, &loop->lock, &next) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&loop->lock);
		monitor_all(loop);
		/* After a driver's export is killed, its temporary file: older
		 * than the export time limit and the 5 s to the SIGKILL. */
		mkt_imageflow_sweep(loop->core,
				    loop->core->conf->driver_timeout[MKT_TIMEOUT_EXPORT] + SWEEP_MARGIN);
		pthread_mutex_lock(&loop->lock);
		/* From the end of this pass's start-up, so a slow store never
		 * makes passes pile up. */
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_sec += loop->interval;
	}
	pthread_mutex_unlock(&loop->lock);
	return NULL;
}

int mkt_monitor_loop_start(mkt_monitor_loop **out, mkt_core *core, mkt_driver *drv, int interval)
{
	mkt_monitor_loop *loop = mkt_calloc(1, sizeof(*loop));
	pthread_condattr_t attr;
	int ret;

	loop->core = core;
	loop->drv = drv;
	loop->interval = interval > 0 ? interval : 1;
	pthread_mutex_init(&loop->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&loop->wake, &attr);
	pthread_condattr_destroy(&attr);
	if ((ret = pthread_create(&loop->thread, NULL, loop_main, loop)) != 0) {
		pthread_cond_destroy(&loop->wake);
		pthread_mutex_destroy(&loop->lock);
		free(loop);
		return mkt_error_set_os(ret, "cannot start the monitor thread");
	}
	*out = loop;
	return 0;
}

void mkt_monitor_loop_stop(mkt_monitor_loop *loop)
{
	if (!loop)
		return;
	pthread_mutex_lock(&loop->lock);
	loop->stopping = 1;
	pthread_cond_signal(&loop->wake);
	pthread_mutex_unlock(&loop->lock);
	pthread_join(loop->thread, NULL);
	pthread_cond_destroy(&loop->wake);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}
