/*
 * store.c: backend selection and dispatch.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "store.h"

struct mkt_store {
	const mkt_store_backend *backend;
	void *impl;
	int depth;          /* nested mkt_store_begin() calls */
	int failed;         /* an inner transaction rolled back */
	int logged;         /* the transaction appended to the change log */
	mkt_store_forwarder fwd;       /* commit == NULL: none */
	mkt_store_change *pending;     /* writes to forward at commit */
	size_t npending;
	size_t cap_pending;
	mkt_store_commit_hook hook;
	void *hook_arg;
	long long retention;           /* log entries kept; 0: all */
	long long trim_at;             /* next index at which to trim */
};

static const mkt_store_backend *const backends[] = {
	&mkt_store_sqlite_backend,
};

static const char *const table_names[MKT_TABLE_LAST] = {
	[MKT_TABLE_MARKET] = "marketplace_pool",
	[MKT_TABLE_APP] = "marketplaceapp_pool",
	[MKT_TABLE_USER] = "user_pool",
	[MKT_TABLE_GROUP] = "group_pool",
	[MKT_TABLE_DATASTORE] = "datastore_pool",
	[MKT_TABLE_IMAGE] = "image_pool",
	[MKT_TABLE_TEMPLATE] = "template_pool",
	[MKT_TABLE_DOCUMENT] = "document_pool",
	[MKT_TABLE_INSTANCE] = "serviceinstance_pool",
	[MKT_TABLE_BINDING] = "servicebinding_pool",
	[MKT_TABLE_ZONE] = "zone_pool",
};

int mkt_store_table_replicated(mkt_table t)
{
	return t == MKT_TABLE_MARKET || t == MKT_TABLE_APP || t == MKT_TABLE_USER ||
	       t == MKT_TABLE_GROUP || t == MKT_TABLE_ZONE;
}

mkt_table mkt_store_table_by_name(const char *name)
{
	int t;

	for (t = 0; name && t < MKT_TABLE_LAST; t++)
		if (!strcmp(table_names[t], name))
			return (mkt_table)t;
	return (mkt_table)-1;
}

static void pending_clear(mkt_store *s)
{
	size_t i;

	for (i = 0; i < s->npending; i++) {
		free((char *)s->pending[i].row.name);
		free((char *)s->pending[i].row.body);
	}
	s->npending = 0;
}

static void pending_add(mkt_store *s, mkt_table t, mkt_store_op op, const mkt_store_row *row)
{
	mkt_store_change *c;

	if (s->npending == s->cap_pending) {
		s->cap_pending = s->cap_pending ? s->cap_pending * 2 : 8;
		s->pending = mkt_realloc(s->pending, s->cap_pending * sizeof(*s->pending));
	}
	c = &s->pending[s->npending++];
	memset(c, 0, sizeof(*c));
	c->table = t;
	c->op = op;
	c->row = *row;
	c->row.name = op == MKT_STORE_DELETE || !row->name ? NULL : mkt_strdup(row->name);
	c->row.body = op == MKT_STORE_DELETE || !row->body ? NULL : mkt_strdup(row->body);
}

const char *mkt_store_table_name(mkt_table t)
{
	return t >= 0 && t < MKT_TABLE_LAST ? table_names[t] : "?";
}

void mkt_store_query_init(mkt_store_query *q)
{
	memset(q, 0, sizeof(*q));
	q->all = 1;
	q->filter = -2;
	q->start_id = -1;
	q->end_id = -1;
	q->parent = -1;
	q->state = -1;
}

int mkt_store_open(mkt_store **out, const char *backend, const char *path)
{
	const mkt_store_backend *be = NULL;
	mkt_store *s;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (!strcmp(backends[i]->name, backend))
			be = backends[i];
	}
	if (!be)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				     "unknown DB BACKEND '%s' (supported: sqlite)", backend);
	if (be->version != MKT_STORE_BACKEND_VERSION)
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE,
				     "store backend '%s' has version %d, expected %d",
				     backend, be->version, MKT_STORE_BACKEND_VERSION);
	s = mkt_calloc(1, sizeof(*s));
	s->backend = be;
	if ((ret = be->open(&s->impl, path)) < 0) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void mkt_store_close(mkt_store *s)
{
	if (!s)
		return;
	s->backend->close(s->impl);
	pending_clear(s);
	free(s->pending);
	free(s);
}

void mkt_store_set_forwarder(mkt_store *s, const mkt_store_forwarder *f)
{
	memset(&s->fwd, 0, sizeof(s->fwd));
	if (f)
		s->fwd = *f;
}

void mkt_store_set_commit_hook(mkt_store *s, mkt_store_commit_hook hook, void *arg)
{
	s->hook = hook;
	s->hook_arg = arg;
}

static int forwarding(const mkt_store *s, mkt_table t)
{
	return s->fwd.commit && mkt_store_table_replicated(t);
}

/* Transactions nest: only the outermost one reaches the backend, and an
 * inner rollback dooms it, so a step that is a transaction of its own
 * (allocating an image) can also be one step of a larger change. */
int mkt_store_begin(mkt_store *s)
{
	int ret;

	if (s->depth++ > 0)
		return 0;
	s->failed = 0;
	s->logged = 0;
	pending_clear(s);
	if ((ret = s->backend->begin(s->impl)) < 0)
		s->depth = 0;
	return ret;
}

int mkt_store_depth(const mkt_store *s)
{
	return s->depth;
}

int mkt_store_set_durable(mkt_store *s, int durable)
{
	return s->backend->set_durable(s->impl, durable);
}

/* Keep the log to its retention, in the transaction that grew it, in
 * steps (not a DELETE per commit). */
static int trim_old(mkt_store *s)
{
	long long last, step = s->retention / 2 + 1;
	int ret;

	if ((ret = s->backend->changelog_last(s->impl, &last)) < 0 || last < s->trim_at)
		return ret;
	s->trim_at = last + (step < 1000 ? step : 1000);
	return s->backend->changelog_trim(s->impl, last - s->retention + 1);
}

void mkt_store_set_log_retention(mkt_store *s, long long entries)
{
	s->retention = entries;
	s->trim_at = 0;
}

int mkt_store_commit(mkt_store *s)
{
	long long last;
	int ret;

	/* Unbalanced: a caller's bug, which must not shift every later
	 * transaction by one level. */
	if (s->depth <= 0)
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "commit without a transaction");
	if (--s->depth > 0)
		return 0;
	if (s->failed) {
		s->backend->rollback(s->impl);
		s->failed = 0;
		pending_clear(s);
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE,
				     "transaction rolled back: one of its steps failed");
	}
	/* The master first: if it refuses, nothing of the change stays here
	 * either.  If this zone's own commit then fails, the master's log
	 * brings the same rows back through replication. */
	if (s->npending && (ret = s->fwd.commit(s->fwd.arg, s->pending, s->npending)) < 0) {
		s->backend->rollback(s->impl);
		pending_clear(s);
		return ret;
	}
	pending_clear(s);
	if (s->logged && s->retention > 0 && (ret = trim_old(s)) < 0) {
		s->backend->rollback(s->impl);
		return ret;
	}
	if ((ret = s->backend->commit(s->impl)) < 0)
		return ret;
	if (s->logged && s->hook && s->backend->changelog_last(s->impl, &last) == 0)
		s->hook(s->hook_arg, last);
	return 0;
}

void mkt_store_rollback(mkt_store *s)
{
	if (s->depth <= 0)
		return;
	if (--s->depth > 0) {
		s->failed = 1;
		return;
	}
	s->backend->rollback(s->impl);
	s->failed = 0;
	pending_clear(s);
}

int mkt_store_write(mkt_store *s, mkt_table t, mkt_store_op op, const mkt_store_row *row)
{
	int fwd = forwarding(s, t), ret;

	/* A forwarded write outside a transaction is one of its own, so it
	 * reaches the master before it is here for good. */
	if (fwd && s->depth == 0) {
		if ((ret = mkt_store_begin(s)) < 0)
			return ret;
		if ((ret = mkt_store_write(s, t, op, row)) < 0) {
			mkt_store_rollback(s);
			return ret;
		}
		return mkt_store_commit(s);
	}
	if ((ret = s->backend->write(s->impl, t, op, row, !fwd)) < 0)
		return ret;
	if (fwd) {
		pending_add(s, t, op, row);
	} else if (mkt_store_table_replicated(t)) {
		long long last;

		s->logged = 1;
		if (s->depth > 0)
			return 0;
		/* Committed already (a write of its own): the log keeps to its
		 * retention here too, or a run of such writes grows it without
		 * end.  A failed trim leaves the write done; the next retries. */
		if (s->retention > 0 && trim_old(s) < 0) {
			mkt_log(MKT_LOG_WARN, "store", "%s", mkt_error_message());
			mkt_error_clear();
		}
		if (s->hook && s->backend->changelog_last(s->impl, &last) == 0)
			s->hook(s->hook_arg, last);
	}
	return 0;
}

int mkt_store_apply(mkt_store *s, const mkt_store_change *c)
{
	return s->backend->apply(s->impl, c->table, c->op, &c->row);
}

int mkt_store_clear(mkt_store *s, mkt_table t)
{
	return s->backend->clear(s->impl, t);
}

int mkt_store_state_get(mkt_store *s, const char *key, long long *out)
{
	return s->backend->state_get(s->impl, key, out);
}

int mkt_store_state_set(mkt_store *s, const char *key, long long value)
{
	return s->backend->state_set(s->impl, key, value);
}

int mkt_store_changelog_first(mkt_store *s, long long *out)
{
	return s->backend->changelog_first(s->impl, out);
}

int mkt_store_changelog_read(mkt_store *s, long long after, size_t max,
			     mkt_store_change_cb cb, void *payload)
{
	return s->backend->changelog_read(s->impl, after, max, cb, payload);
}

int mkt_store_changelog_trim(mkt_store *s, long long below)
{
	return s->backend->changelog_trim(s->impl, below);
}

int mkt_store_catalog_list(mkt_store *s, int market, mkt_store_catalog_cb cb, void *payload)
{
	return s->backend->catalog_list(s->impl, market, cb, payload);
}

int mkt_store_catalog_write(mkt_store *s, mkt_store_op op, const mkt_store_catalog_row *row)
{
	return s->backend->catalog_write(s->impl, op, row);
}

int mkt_store_load(mkt_store *s, mkt_table t, int oid, mkt_store_row_cb cb, void *payload)
{
	return s->backend->load(s->impl, t, oid, cb, payload);
}

int mkt_store_lookup_name(mkt_store *s, mkt_table t, const char *name, int uid, int *out)
{
	return s->backend->lookup_name(s->impl, t, name, uid, out);
}

int mkt_store_list(mkt_store *s, mkt_table t, const mkt_store_query *q,
		   mkt_store_row_cb cb, void *payload)
{
	return s->backend->list(s->impl, t, q, cb, payload);
}

struct mkt_store_cursor {
	const mkt_store_backend *backend;
	void *impl;
};

int mkt_store_cursor_open(mkt_store *s, mkt_table t, const mkt_store_query *q,
			  mkt_store_cursor **out)
{
	mkt_store_cursor *c = mkt_calloc(1, sizeof(*c));
	int ret;

	c->backend = s->backend;
	if ((ret = s->backend->cursor_open(s->impl, t, q, &c->impl)) < 0) {
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int mkt_store_cursor_next(mkt_store_cursor *c, mkt_store_row *row)
{
	return c->backend->cursor_next(c->impl, row);
}

void mkt_store_cursor_close(mkt_store_cursor *c)
{
	if (!c)
		return;
	c->backend->cursor_close(c->impl);
	free(c);
}

typedef struct {
	int *ids;
	size_t n;
	size_t cap;
} id_list;

static int collect_id(const mkt_store_row *row, void *payload)
{
	id_list *l = payload;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->ids = mkt_realloc(l->ids, l->cap * sizeof(int));
	}
	l->ids[l->n++] = row->oid;
	return 0;
}

int mkt_store_list_ids(mkt_store *s, mkt_table t, const mkt_store_query *q,
		       int **out, size_t *n)
{
	id_list l = { NULL, 0, 0 };
	mkt_store_query ids = *q;
	int ret;

	/* An index scan, where reading every row's body would cost most. */
	ids.ids_only = 1;
	ret = mkt_store_list(s, t, &ids, collect_id, &l);

	if (ret < 0) {
		free(l.ids);
		return ret;
	}
	*out = l.ids;
	*n = l.n;
	return 0;
}

int mkt_store_next_oid(mkt_store *s, mkt_table t, int floor, int *out)
{
	if (forwarding(s, t))
		return s->fwd.next_oid(s->fwd.arg, t, floor, out);
	return s->backend->next_oid(s->impl, t, floor, out);
}

int mkt_store_changelog_last(mkt_store *s, long long *out)
{
	return s->backend->changelog_last(s->impl, out);
}
