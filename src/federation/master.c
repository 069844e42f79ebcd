/*
 * master.c: the master's side of replication: the log as zones read it,
 * whole-table copies, the writes zones hand over, and trimming.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "federation_priv.h"

/* A reply holds at most this much of the log; the zone asks again. */
#define LOG_REPLY_BYTES (8u * 1024 * 1024)
#define LOG_REPLY_MAX 20000

typedef struct {
	mkt_buf *b;
	size_t n;
	long long last;
} log_reader;

static int add_entry(const mkt_store_change *c, void *payload)
{
	log_reader *r = payload;

	fed_change_format(r->b, c);
	r->n++;
	r->last = c->idx;
	/* Stop at a whole entry once the reply is big enough. */
	return r->b->len >= LOG_REPLY_BYTES ? 1 : 0;
}

/* Remember what @zone has applied; the lowest of the zone pool bounds
 * trimming.  f->mu held. */
static void note_applied(mkt_fed *f, int zone, long long applied)
{
	size_t i;

	for (i = 0; i < f->nzones; i++)
		if (f->zones[i].zone == zone)
			break;
	if (i == f->nzones) {
		if (f->nzones == FED_MAX_ZONES)
			return;
		f->nzones++;
	}
	f->zones[i].zone = zone;
	f->zones[i].applied = applied;
}

typedef struct {
	mkt_fed *f;
	long long low;       /* lowest applied among the pool's zones */
	int unknown;         /* a zone of the pool has not said yet */
} trim_scan;

static int zone_row(const mkt_store_row *row, void *payload)
{
	trim_scan *t = payload;
	size_t i;

	if (row->oid == t->f->conf->zone_id)
		return 0;
	for (i = 0; i < t->f->nzones; i++)
		if (t->f->zones[i].zone == row->oid)
			break;
	if (i == t->f->nzones)
		t->unknown = 1;
	else if (t->f->zones[i].applied < t->low)
		t->low = t->f->zones[i].applied;
	return 0;
}

/*
 * Drop what every zone of the pool has applied.  A zone not heard from
 * since this master started holds trimming back (its index is unknown);
 * the store keeps the log to LOG_RETENTION entries whatever the zones
 * have (mkt_store_set_log_retention).  Core lock held.
 */
static void trim(mkt_fed *f)
{
	trim_scan t = { f, 0, 0 };
	mkt_store *st = f->core->store;
	mkt_store_query q;
	long long below;

	if (mkt_store_changelog_last(st, &t.low) < 0)
		return;
	mkt_store_query_init(&q);
	pthread_mutex_lock(&f->mu);
	mkt_store_list(st, MKT_TABLE_ZONE, &q, zone_row, &t);
	below = t.unknown ? 0 : t.low + 1;
	/* In steps of a thousand, not a DELETE per poll. */
	if (below - f->trimmed_below < 1000) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	pthread_mutex_unlock(&f->mu);
	if (mkt_store_begin(st) < 0)
		return;
	if (mkt_store_changelog_trim(st, below) < 0) {
		mkt_store_rollback(st);
		return;
	}
	if (mkt_store_commit(st) < 0)
		return;
	pthread_mutex_lock(&f->mu);
	f->trimmed_below = below;
	pthread_mutex_unlock(&f->mu);
	mkt_log(MKT_LOG_DEBUG, "federation", "log trimmed below %lld: every zone has applied it",
		below);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int mkt_fed_log(mkt_fed *f, int zone, long long after, int wait_ms, int max, char **out_xml)
{
	mkt_core *core = f->core;
	mkt_buf b = MKT_BUF_INIT;
	log_reader r = { &b, 0, after };
	long long first = 0, last = 0;
	int ret, resync;

	if (zone < 0)
		max = 0;             /* only where the log is */
	else if (max <= 0 || max > LOG_REPLY_MAX)
		max = LOG_REPLY_MAX;
	pthread_mutex_lock(&f->mu);
	if (zone >= 0)            /* -1: a zone asking only where the log is */
		note_applied(f, zone, after);
	if (wait_ms > 0 && f->last <= after && !f->quiesced) {
		struct timespec until;

		deadline_in(&until, wait_ms);
		while (f->last <= after && !f->stop && !f->quiesced &&
		       pthread_cond_timedwait(&f->cond, &f->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&f->mu);

	pthread_mutex_lock(&core->lock);
	if ((ret = mkt_store_changelog_first(core->store, &first)) < 0 ||
	    (ret = mkt_store_changelog_last(core->store, &last)) < 0)
		goto unlock;
	resync = after + 1 < first || after > last;
	mkt_buf_printf(&b, "<FEDLOG FIRST=\"%lld\" LAST=\"%lld\" ZONE=\"%d\" RESYNC=\"%d\">",
		       first, last, f->conf->zone_id, resync);
	if (!resync && max > 0) {
		ret = mkt_store_changelog_read(core->store, after, (size_t)max, add_entry, &r);
		if (ret > 0)
			ret = 0;
	}
	if (ret == 0)
		trim(f);
 unlock:
	pthread_mutex_unlock(&core->lock);
	if (ret < 0) {
		mkt_buf_free(&b);
		return ret;
	}
	mkt_buf_add(&b, "</FEDLOG>");
	*out_xml = mkt_buf_steal(&b);
	return 0;
}

typedef struct {
	mkt_buf *b;
	mkt_table t;
	int n;
	int max;
} snap_reader;

static int add_row(const mkt_store_row *row, void *payload)
{
	snap_reader *s = payload;
	mkt_store_change c = { 0, s->t, MKT_STORE_INSERT, *row };

	/* One more exists: MORE="1".  Pages are bounded in bytes too, as
	 * the log's replies are (app rows can be large). */
	if (s->n == s->max || s->b->len >= LOG_REPLY_BYTES)
		return 1;
	fed_change_format(s->b, &c);
	s->n++;
	return 0;
}

int mkt_fed_snapshot(mkt_fed *f, const char *table, int after_oid, int max, char **out_xml)
{
	mkt_table t = mkt_store_table_by_name(table);
	mkt_buf body = MKT_BUF_INIT, b = MKT_BUF_INIT;
	snap_reader s = { &body, t, 0, max };
	mkt_store_query q;
	long long last = 0;
	int ret;

	if ((int)t < 0 || !mkt_store_table_replicated(t))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC, "'%s' is not a replicated table",
				     table ? table : "");
	if (max <= 0 || max > LOG_REPLY_MAX)
		s.max = LOG_REPLY_MAX;
	mkt_store_query_init(&q);
	q.start_id = after_oid + 1;
	if ((ret = mkt_store_changelog_last(f->core->store, &last)) < 0 ||
	    (ret = mkt_store_list(f->core->store, t, &q, add_row, &s)) < 0) {
		mkt_buf_free(&body);
		return ret;
	}
	mkt_buf_printf(&b, "<FEDSNAPSHOT LAST=\"%lld\" ZONE=\"%d\" MORE=\"%d\">", last,
		       f->conf->zone_id, ret > 0);
	mkt_buf_add(&b, mkt_buf_cstr(&body));
	mkt_buf_add(&b, "</FEDSNAPSHOT>");
	mkt_buf_free(&body);
	*out_xml = mkt_buf_steal(&b);
	return 0;
}

int mkt_fed_write(mkt_fed *f, const char *who, const char *xml, long long *out_last)
{
	mkt_store *st = f->core->store;
	fed_batch batch;
	size_t i;
	int ret;

	if ((ret = fed_batch_parse(&batch, xml, strlen(xml), "CHANGES")) < 0)
		return ret;
	if ((ret = mkt_store_begin(st)) < 0)
		goto cleanup;
	for (i = 0; i < batch.n && ret == 0; i++)
		ret = mkt_store_write(st, batch.v[i].table, batch.v[i].op, &batch.v[i].row);
	if (ret < 0) {
		mkt_store_rollback(st);
		goto cleanup;
	}
	if ((ret = mkt_store_commit(st)) < 0 ||
	    (ret = mkt_store_changelog_last(st, out_last)) < 0)
		goto cleanup;
	mkt_log(MKT_LOG_DEBUG, "federation", "%zu change(s) from %s committed, log at %lld",
		batch.n, who, *out_last);

 cleanup:
	fed_batch_clear(&batch);
	return ret;
}

int mkt_fed_next_oid(mkt_fed *f, const char *table, int floor, int *out)
{
	mkt_table t = mkt_store_table_by_name(table);
	int ret;

	if ((int)t < 0 || !mkt_store_table_replicated(t))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_RPC, "'%s' is not a replicated table",
				     table ? table : "");
	if ((ret = mkt_store_begin(f->core->store)) < 0)
		return ret;
	if ((ret = mkt_store_next_oid(f->core->store, t, floor, out)) < 0) {
		mkt_store_rollback(f->core->store);
		return ret;
	}
	return mkt_store_commit(f->core->store);
}
