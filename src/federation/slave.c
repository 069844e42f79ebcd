/*
 * slave.c: a slave zone: its replica follows the master's log, and its
 * writes to replicated tables are committed by the master (federation.h).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "federation_priv.h"

#define APPLIED_KEY "fedlog_applied"
/* A long poll lasts this long at most: under the front end's idle
 * timeout, and short enough to notice a master that went away. */
#define POLL_WAIT_MS 10000
#define SNAPSHOT_PAGE 5000

/* ---- the replica ------------------------------------------------------- */

static void set_applied(mkt_fed *f, long long idx)
{
	pthread_mutex_lock(&f->mu);
	f->applied = idx;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

static void set_reachable(mkt_fed *f, int ok)
{
	int was;

	pthread_mutex_lock(&f->mu);
	was = f->reachable;
	f->reachable = ok;
	pthread_mutex_unlock(&f->mu);
	if (ok && !was)
		mkt_log(MKT_LOG_INFO, "federation", "master zone %d at %s reached; replica at "
			"index %lld", f->master_zone, f->master_url, f->applied);
	else if (!ok && was)
		mkt_log(MKT_LOG_WARN, "federation", "%s; reads are served from the replica, "
			"writes to shared objects are refused until it is back",
			mkt_error_message());
}

long fed_write_timeout(mkt_fed *f, long normal_ms)
{
	long ms = normal_ms;

	pthread_mutex_lock(&f->mu);
	if (!f->reachable) {
		ms = normal_ms < 2000 ? normal_ms : 2000;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->mu);
	return ms;
}

/* Call @method(@params) on the master as the server and parse the
 * document it answers, whose root must be @root.  Takes @params. */
static int call_batch(mkt_fed *f, CURL **curl, const char *method, xmlrpc_value *params,
		      long timeout_ms, const char *root, fed_batch *out)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	const char *xml = NULL;
	int ret = fed_call(f, curl, method, NULL, params, timeout_ms, 0, &v);

	xmlrpc_DECREF(params);
	if (ret < 0)
		return ret;
	xmlrpc_env_init(&env);
	xmlrpc_read_string(&env, v, &xml);
	xmlrpc_DECREF(v);
	if (env.fault_occurred)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "the master's %s reply is not a "
				    "string", method);
	xmlrpc_env_clean(&env);
	if (ret < 0)
		return ret;
	ret = fed_batch_parse(out, xml, strlen(xml), root);
	free((char *)xml);
	return ret;
}

/* Apply @b's entries and record its last index, in one transaction. */
static int apply_batch(mkt_fed *f, const fed_batch *b, long long upto)
{
	mkt_core *core = f->core;
	size_t i;
	int ret;

	pthread_mutex_lock(&core->lock);
	if ((ret = mkt_store_begin(core->store)) < 0)
		goto unlock;
	for (i = 0; i < b->n && ret == 0; i++)
		ret = mkt_store_apply(core->store, &b->v[i]);
	if (ret == 0)
		ret = mkt_store_state_set(core->store, APPLIED_KEY, upto);
	if (ret < 0)
		mkt_store_rollback(core->store);
	else
		ret = mkt_store_commit(core->store);
 unlock:
	pthread_mutex_unlock(&core->lock);
	if (ret == 0) {
		set_applied(f, upto);
		mkt_log(MKT_LOG_DEBUG, "federation", "applied log entries %lld..%lld",
			b->n ? b->v[0].idx : upto, upto);
	}
	return ret;
}

/*
 * Copy the replicated tables whole: every page first (without the core
 * lock: the zone keeps serving from the old replica), then one
 * transaction replaces the tables and records the index the copy began
 * at.  Changes made while the pages were read are in the log after that
 * index, and applying them again is harmless (entries are upserts).
 */
static int resync(mkt_fed *f, CURL **curl)
{
	fed_batch *pages = NULL;
	size_t npages = 0, i;
	long long start = -1;
	mkt_core *core = f->core;
	int t, ret = 0;

	mkt_log(MKT_LOG_INFO, "federation", "copying the shared tables from master zone %d "
		"(replica at index %lld: %s)", f->master_zone, f->applied,
		f->applied ? "older than the master's log" : "a new replica");
	for (t = 0; t < MKT_TABLE_LAST && ret == 0; t++) {
		int after = -1, more = 1;

		if (!mkt_store_table_replicated((mkt_table)t))
			continue;
		while (more && ret == 0) {
			xmlrpc_env env;
			xmlrpc_value *params;
			fed_batch *p;

			xmlrpc_env_init(&env);
			params = xmlrpc_build_value(&env, "(sii)", mkt_store_table_name((mkt_table)t),
						    after, SNAPSHOT_PAGE);
			xmlrpc_env_clean(&env);
			pages = mkt_realloc(pages, (npages + 1) * sizeof(*pages));
			p = &pages[npages];
			if ((ret = call_batch(f, curl, "one.zone.fedsnapshot", params, 60000,
					      "FEDSNAPSHOT", p)) < 0)
				break;
			npages++;
			if (start < 0)
				start = p->last;
			more = p->more;
			if (p->n)
				after = p->v[p->n - 1].row.oid;
			else
				more = 0;
		}
	}
	if (ret < 0)
		goto cleanup;

	pthread_mutex_lock(&core->lock);
	if ((ret = mkt_store_begin(core->store)) == 0) {
		for (t = 0; t < MKT_TABLE_LAST && ret == 0; t++)
			if (mkt_store_table_replicated((mkt_table)t))
				ret = mkt_store_clear(core->store, (mkt_table)t);
		for (i = 0; i < npages && ret == 0; i++) {
			size_t k;

			for (k = 0; k < pages[i].n && ret == 0; k++)
				ret = mkt_store_apply(core->store, &pages[i].v[k]);
		}
		if (ret == 0)
			ret = mkt_store_state_set(core->store, APPLIED_KEY, start);
		if (ret < 0)
			mkt_store_rollback(core->store);
		else
			ret = mkt_store_commit(core->store);
	}
	pthread_mutex_unlock(&core->lock);
	if (ret == 0) {
		set_applied(f, start);
		mkt_log(MKT_LOG_INFO, "federation", "shared tables copied from master zone %d at "
			"index %lld", f->master_zone, start);
	}

 cleanup:
	for (i = 0; i < npages; i++)
		fed_batch_clear(&pages[i]);
	free(pages);
	return ret;
}

/* One round: ask for what follows the replica, apply it.  1 when it
 * applied something. */
static int follow_once(mkt_fed *f, CURL **curl, int wait_ms)
{
	xmlrpc_env env;
	xmlrpc_value *params;
	fed_batch b;
	char after[32];
	int ret;

	/* A replica that never applied anything may hold rows of its own
	 * (a database that served standalone): it starts from a whole copy. */
	if (f->applied == 0 && !f->copied) {
		if ((ret = resync(f, curl)) < 0)
			return ret;
		f->copied = 1;
		return 1;
	}
	pthread_mutex_lock(&f->mu);
	snprintf(after, sizeof(after), "%lld", f->applied);
	pthread_mutex_unlock(&f->mu);
	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(isii)", f->conf->zone_id, after, wait_ms, 0);
	xmlrpc_env_clean(&env);
	if ((ret = call_batch(f, curl, "one.zone.fedlog", params, wait_ms + 15000L, "FEDLOG",
			      &b)) < 0)
		return ret;
	f->master_zone = b.zone;
	if (b.resync) {
		if ((ret = resync(f, curl)) == 0)
			f->copied = 1;
	} else if (b.n) {
		ret = apply_batch(f, &b, b.v[b.n - 1].idx);
	}
	ret = ret < 0 ? ret : (b.resync || b.n) ? 1 : 0;
	fed_batch_clear(&b);
	return ret;
}

static int stopping(mkt_fed *f)
{
	int stop;

	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

static void *replicate(void *arg)
{
	mkt_fed *f = arg;
	CURL *curl = NULL;
	int delay = 0;

	while (!stopping(f)) {
		int ret;

		mkt_error_clear();
		ret = follow_once(f, &curl, POLL_WAIT_MS);
		if (stopping(f))
			break;
		set_reachable(f, ret >= 0);
		if (ret >= 0) {
			delay = 0;
			continue;
		}
		/* Back off a little, up to 2 s, without a busy loop. */
		delay = delay ? (delay * 2 > 2000 ? 2000 : delay * 2) : 100;
		pthread_mutex_lock(&f->mu);
		if (!f->stop) {
			struct timespec until;

			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += (long)delay * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&f->cond, &f->mu, &until);
		}
		pthread_mutex_unlock(&f->mu);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

/* Wait until the replica holds index @idx, at most @ms. */
static void wait_applied(mkt_fed *f, long long idx, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&f->mu);
	while (f->applied < idx && !f->stop &&
	       pthread_cond_timedwait(&f->cond, &f->mu, &until) != ETIMEDOUT)
		;
	if (f->applied < idx)
		mkt_log(MKT_LOG_WARN, "federation", "replica at %lld, not yet at the master's %lld "
			"after %d ms", f->applied, idx, ms);
	pthread_mutex_unlock(&f->mu);
}

/* ---- writes ------------------------------------------------------------ */

static int fwd_next_oid(void *arg, mkt_table t, int floor, int *out)
{
	mkt_fed *f = arg;
	xmlrpc_env env;
	xmlrpc_value *params, *v = NULL;
	int ret;

	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(si)", mkt_store_table_name(t), floor);
	ret = fed_call(f, &f->fwd_curl, "one.zone.fednextoid", NULL, params,
		       fed_write_timeout(f, 5000), 0, &v);
	xmlrpc_DECREF(params);
	if (ret == 0) {
		xmlrpc_read_int(&env, v, out);
		if (env.fault_occurred)
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "the master's oid is not an int");
	}
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	return ret;
}

static int fwd_commit(void *arg, const mkt_store_change *changes, size_t n)
{
	mkt_fed *f = arg;
	mkt_buf b = MKT_BUF_INIT;
	xmlrpc_env env;
	xmlrpc_value *params, *v = NULL;
	const char *last = NULL;
	size_t i;
	int ret;

	mkt_buf_add(&b, "<CHANGES>");
	for (i = 0; i < n; i++)
		fed_change_format(&b, &changes[i]);
	mkt_buf_add(&b, "</CHANGES>");
	xmlrpc_env_init(&env);
	params = xmlrpc_build_value(&env, "(s)", mkt_buf_cstr(&b));
	mkt_buf_free(&b);
	ret = fed_call(f, &f->fwd_curl, "one.zone.fedwrite", NULL, params,
		       fed_write_timeout(f, 15000), 0, &v);
	xmlrpc_DECREF(params);
	if (ret == 0)
		xmlrpc_read_string(&env, v, &last);
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	if (ret == 0)
		mkt_log(MKT_LOG_DEBUG, "federation", "%zu change(s) committed by master zone %d "
			"at index %s", n, f->master_zone, last ? last : "?");
	free((char *)last);
	return ret;
}

int mkt_fed_proxy(mkt_fed *f, const char *method, xmlrpc_value *params, const char *uname,
		  int uid, xmlrpc_value **out)
{
	xmlrpc_env env;
	xmlrpc_value *rest;
	char *session;
	fed_batch b;
	int i, n, ret;

	/* The call without its session, which becomes the server's acting
	 * for @uname. */
	xmlrpc_env_init(&env);
	rest = xmlrpc_array_new(&env);
	n = xmlrpc_array_size(&env, params);
	for (i = 1; i < n && !env.fault_occurred; i++) {
		xmlrpc_value *item;

		xmlrpc_array_read_item(&env, params, (unsigned)i, &item);
		if (!env.fault_occurred) {
			xmlrpc_array_append_item(&env, rest, item);
			xmlrpc_DECREF(item);
		}
	}
	session = mkt_asprintf("%s:%s:%d", f->session, uname, uid);
	ret = fed_call(f, NULL, method, session, rest, fed_write_timeout(f, 15000), 1, out);
	explicit_bzero(session, strlen(session));
	free(session);
	xmlrpc_DECREF(rest);
	xmlrpc_env_clean(&env);
	if (ret < 0)
		return ret;

	/* The master's reply is the client's once this zone can show what the
	 * call changed: ask where the master's log is, wait for the replica. */
	xmlrpc_env_init(&env);
	rest = xmlrpc_build_value(&env, "(isii)", -1, "-1", 0, 0);
	xmlrpc_env_clean(&env);
	if (call_batch(f, NULL, "one.zone.fedlog", rest, 10000, "FEDLOG", &b) == 0) {
		wait_applied(f, b.last, 5000);
		fed_batch_clear(&b);
	}
	mkt_error_clear();
	return 0;
}

/* ---- start and stop ---------------------------------------------------- */

static int no_row(const mkt_store_row *row, void *payload)
{
	(void)row;
	(void)payload;
	return 0;
}

int fed_slave_start(mkt_fed *f)
{
	mkt_store_forwarder fwd;    /* copied by the store */
	mkt_core *core = f->core;
	CURL *curl = NULL;
	int ret, i;

	pthread_mutex_lock(&core->lock);
	ret = mkt_store_state_get(core->store, APPLIED_KEY, &f->applied);
	pthread_mutex_unlock(&core->lock);
	if (ret < 0)
		return ret;
	fwd.next_oid = fwd_next_oid;
	fwd.commit = fwd_commit;
	fwd.arg = f;
	mkt_store_set_forwarder(core->store, &fwd);

	/* Catch up before serving, so a restarted zone does not answer from
	 * a stale replica when the master is there; a master that is not
	 * there does not keep this zone from serving reads. */
	f->reachable = 1;
	for (i = 0; i < 50; i++) {
		mkt_error_clear();
		if ((ret = follow_once(f, &curl, 0)) == 0)
			break;
		if (ret < 0 && i >= 2) {
			set_reachable(f, 0);
			break;
		}
		if (ret < 0)
			usleep(300000);
	}
	curl_easy_cleanup(curl);
	mkt_log(MKT_LOG_INFO, "federation", "slave of master zone %d (%s), replica at index %lld",
		f->master_zone, f->master_url, f->applied);
	if (f->applied > 0) {
		int missing;

		pthread_mutex_lock(&core->lock);
		missing = mkt_store_load(core->store, MKT_TABLE_ZONE, f->conf->zone_id, no_row,
					 NULL) == MKT_ENOTFOUND;
		pthread_mutex_unlock(&core->lock);
		if (missing)
			mkt_log(MKT_LOG_WARN, "federation", "zone %d is not in the master's zone "
				"pool: create it there (marketctl zone create) so that the "
				"master keeps the log entries this zone has not applied",
				f->conf->zone_id);
	}
	if ((ret = pthread_create(&f->thread, NULL, replicate, f)) != 0)
		return mkt_error_set_os(ret, "cannot start the replication thread");
	f->thread_started = 1;
	return 0;
}

void fed_slave_stop(mkt_fed *f)
{
	if (f->thread_started)
		pthread_join(f->thread, NULL);
	f->thread_started = 0;
}
