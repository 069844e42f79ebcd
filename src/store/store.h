/*
 * store.h: the persistence contract of marketd.
 *
 * Objects are stored as oned stores them: the object's XML body plus the
 * columns that pool queries filter on (oid, name, uid, gid, the USE bit of
 * owner/group/other, and for apps the market id and state).  Every write
 * to an object table also appends a row to the change log in the same
 * transaction; federation replicates from that log.
 *
 * A backend is a versioned table of functions (libgit2's odb backends);
 * sqlite is the only one today.  The store is not thread-safe: the core
 * serialises access.
 */
#ifndef MKT_STORE_H
#define MKT_STORE_H

#include <stddef.h>

typedef enum {
	MKT_TABLE_MARKET = 0,
	MKT_TABLE_APP,
	MKT_TABLE_USER,
	MKT_TABLE_GROUP,
	MKT_TABLE_DATASTORE,    /* zone-local: not in the change log */
	MKT_TABLE_IMAGE,        /* zone-local: not in the change log */
	MKT_TABLE_TEMPLATE,     /* VM templates; zone-local */
	MKT_TABLE_DOCUMENT,     /* documents (service templates); zone-local;
				 * parent is the document TYPE */
	MKT_TABLE_INSTANCE,     /* service instances; zone-local; parent is
				 * the plan's app */
	MKT_TABLE_BINDING,      /* service bindings; zone-local; parent is the
				 * instance */
	MKT_TABLE_ZONE,         /* federation zones; replicated */
	MKT_TABLE_LAST
} mkt_table;

typedef struct {
	int oid;
	const char *name;
	int uid;
	int gid;
	int owner_u;
	int group_u;
	int other_u;
	int parent;        /* apps: market id; images: datastore id; else -1 */
	int state;         /* apps, images, instances, bindings: state; else 0 */
	const char *body;  /* the object's XML */
} mkt_store_row;

/* Pool query: which rows a principal may see, and which it asked for. */
typedef struct {
	int all;             /* no permission filter (admin) */
	int uid;             /* requesting user */
	const int *gids;     /* the requester's groups */
	size_t ngids;
	int filter;          /* -4 group, -3 mine, -2 all, -1 mine+group, >=0 uid */
	int start_id;        /* -1: no lower bound */
	int end_id;          /* -1: no upper bound */
	int parent;          /* apps only: market id, or -1 for any */
	int state;           /* apps only: state, or -1 for any */
	const char *name;    /* only rows of this name, or NULL */
	int ids_only;        /* rows with only their oid (no body read) */
} mkt_store_query;

typedef enum { MKT_STORE_INSERT = 0, MKT_STORE_UPDATE, MKT_STORE_DELETE } mkt_store_op;

/* Called for each row; a non-zero return stops the iteration and is
 * returned by the listing function. */
typedef int (*mkt_store_row_cb)(const mkt_store_row *row, void *payload);

/*
 * Catalog state of an app that a market's monitor discovered: which
 * catalog entry it is (@key, the entry's IMPORT_ID), a digest of the entry
 * as last applied, and how many successful passes in a row missed it.
 * Zone-local (only the zone that monitors keeps it), so not in the change
 * log; deleting the app deletes its row.
 */
typedef struct {
	int oid;            /* the app */
	int market;
	const char *key;
	const char *digest;
	int missing;
} mkt_store_catalog_row;

typedef int (*mkt_store_catalog_cb)(const mkt_store_catalog_row *row, void *payload);

/* One entry of the change log: a write to a replicated table.  A delete
 * carries only row.oid. */
typedef struct {
	long long idx;
	mkt_table table;
	mkt_store_op op;
	mkt_store_row row;
} mkt_store_change;

typedef int (*mkt_store_change_cb)(const mkt_store_change *c, void *payload);

/*
 * Where the writes of a zone that does not own the replicated tables go
 * (federation/forward.c on a slave).  Such a zone still writes its
 * replica inside the transaction, so the change reads back at once, but
 * the transaction commits only after @commit got the master to commit
 * the same writes: a refusal rolls it back.  The replica's rows are later
 * overwritten by the master's log entries for the same writes.
 */
typedef struct {
	/* A fresh oid of replicated table @t (the master hands them out). */
	int (*next_oid)(void *arg, mkt_table t, int floor, int *out);
	/* Commit @n writes on the master, in order, as one transaction. */
	int (*commit)(void *arg, const mkt_store_change *changes, size_t n);
	void *arg;
} mkt_store_forwarder;

typedef struct mkt_store mkt_store;

#define MKT_STORE_BACKEND_VERSION 5

typedef struct {
	int version;
	const char *name;
	int (*open)(void **out, const char *path);
	void (*close)(void *impl);
	int (*begin)(void *impl);
	int (*commit)(void *impl);
	void (*rollback)(void *impl);
	/* @log: append replicated tables' writes to the change log */
	int (*write)(void *impl, mkt_table t, mkt_store_op op, const mkt_store_row *row, int log);
	int (*load)(void *impl, mkt_table t, int oid, mkt_store_row_cb cb, void *payload);
	int (*lookup_name)(void *impl, mkt_table t, const char *name, int uid, int *out);
	int (*list)(void *impl, mkt_table t, const mkt_store_query *q,
		    mkt_store_row_cb cb, void *payload);
	int (*next_oid)(void *impl, mkt_table t, int floor, int *out);
	int (*changelog_last)(void *impl, long long *out);
	/* version 2 */
	int (*catalog_list)(void *impl, int market, mkt_store_catalog_cb cb, void *payload);
	int (*catalog_write)(void *impl, mkt_store_op op, const mkt_store_catalog_row *row);
	/* version 3: federation */
	int (*changelog_first)(void *impl, long long *out);
	int (*changelog_read)(void *impl, long long after, size_t max, mkt_store_change_cb cb,
			      void *payload);
	int (*changelog_trim)(void *impl, long long below);
	int (*apply)(void *impl, mkt_table t, mkt_store_op op, const mkt_store_row *row);
	int (*clear)(void *impl, mkt_table t);
	int (*state_get)(void *impl, const char *key, long long *out);
	int (*state_set)(void *impl, const char *key, long long value);
	/* version 4: listings read later, from any thread */
	int (*cursor_open)(void *impl, mkt_table t, const mkt_store_query *q, void **out);
	int (*cursor_next)(void *cursor, mkt_store_row *row);
	void (*cursor_close)(void *cursor);
	/* version 5 */
	int (*set_durable)(void *impl, int durable);
} mkt_store_backend;

/* Open the store with backend @backend ("sqlite") at @path, creating and
 * migrating the schema as needed. */
int mkt_store_open(mkt_store **out, const char *backend, const char *path);
void mkt_store_close(mkt_store *s);   /* accepts NULL */

/* Transactions.  Every object change is one transaction.  They nest: an
 * inner begin/commit is part of the outer transaction, and an inner
 * rollback makes the outer commit roll back (and fail). */
int mkt_store_begin(mkt_store *s);
int mkt_store_commit(mkt_store *s);
void mkt_store_rollback(mkt_store *s);

/* How many transactions are open (0: none). */
int mkt_store_depth(const mkt_store *s);

/* Commits made while not durable (@durable 0) may return before they
 * reach the disk: a crash may lose them, never half of one, and the next
 * durable commit makes them durable with itself.  For many small
 * transactions one job makes in a row (a catalog pass's batches), under
 * the lock that keeps others' commits out.  Durable is the default. */
int mkt_store_set_durable(mkt_store *s, int durable);

/* Insert, update or delete a row (delete uses only row->oid and body may be
 * NULL) and append to the change log.  Insert of a taken name gives
 * MKT_EEXISTS; update/delete of a missing oid MKT_ENOTFOUND. */
int mkt_store_write(mkt_store *s, mkt_table t, mkt_store_op op, const mkt_store_row *row);

/* Load one row: MKT_ENOTFOUND (no error recorded) when absent. */
int mkt_store_load(mkt_store *s, mkt_table t, int oid, mkt_store_row_cb cb, void *payload);

/* oid of the row named @name owned by @uid (-1: any owner), or
 * MKT_ENOTFOUND (no error recorded). */
int mkt_store_lookup_name(mkt_store *s, mkt_table t, const char *name, int uid, int *out);

/* Rows matching @q in oid order. */
int mkt_store_list(mkt_store *s, mkt_table t, const mkt_store_query *q,
		   mkt_store_row_cb cb, void *payload);

/*
 * Rows matching @q in oid order, read one at a time, later and from any
 * thread (one thread at a time), as they were when the cursor opened: a
 * read snapshot on a connection of the cursor's own, so a pool of 100 000
 * apps is sent while it is read, without the daemon's lock and without
 * blocking writers.  @q (and its gids) need not outlive the open.
 */
typedef struct mkt_store_cursor mkt_store_cursor;

int mkt_store_cursor_open(mkt_store *s, mkt_table t, const mkt_store_query *q,
			  mkt_store_cursor **out);
/* 1 with the next row in *row (its strings valid until the next call), 0
 * at the end, < 0 on error. */
int mkt_store_cursor_next(mkt_store_cursor *c, mkt_store_row *row);
void mkt_store_cursor_close(mkt_store_cursor *c);   /* accepts NULL */

/* The oids of the rows matching @q, in oid order (*out freed by the
 * caller; NULL when there are none).  For work that rewrites the rows,
 * which cannot happen while a listing is open. */
int mkt_store_list_ids(mkt_store *s, mkt_table t, const mkt_store_query *q,
		       int **out, size_t *n);

/* Reserve the next oid of @t, never below @floor and never reusing one. */
int mkt_store_next_oid(mkt_store *s, mkt_table t, int floor, int *out);

/* Index of the newest change log entry ever written (0 when none; still
 * counted after trimming). */
int mkt_store_changelog_last(mkt_store *s, long long *out);
/* Index of the oldest entry still in the log (last + 1 when it is empty). */
int mkt_store_changelog_first(mkt_store *s, long long *out);
/* At most @max entries after index @after, in order.  The row's strings
 * live until @cb returns. */
int mkt_store_changelog_read(mkt_store *s, long long after, size_t max,
			     mkt_store_change_cb cb, void *payload);
/* Drop the entries below index @below. */
int mkt_store_changelog_trim(mkt_store *s, long long below);

/* Keep only the newest @entries of the change log (0: keep all); older
 * ones go as later commits append. */
void mkt_store_set_log_retention(mkt_store *s, long long entries);

/* Write a replicated entry into this zone's replica: an upsert (insert
 * and update) or a delete of a row that may be absent, never logged nor
 * forwarded. */
int mkt_store_apply(mkt_store *s, const mkt_store_change *c);
/* Delete every row of @t (a replica about to be copied whole). */
int mkt_store_clear(mkt_store *s, mkt_table t);

/* Small persistent integers of the federation (a slave's applied index),
 * in the same transactions as the writes they describe; 0 when unset. */
int mkt_store_state_get(mkt_store *s, const char *key, long long *out);
int mkt_store_state_set(mkt_store *s, const char *key, long long value);

/* Send writes to replicated tables to another zone (NULL: write them
 * here, logged).  Set before the store is shared between threads. */
void mkt_store_set_forwarder(mkt_store *s, const mkt_store_forwarder *f);

/* Called after every commit that appended to the change log, with its
 * newest index (the master wakes the zones waiting for entries).  Runs
 * under whatever lock the committer holds: it must only signal. */
typedef void (*mkt_store_commit_hook)(void *arg, long long last);
void mkt_store_set_commit_hook(mkt_store *s, mkt_store_commit_hook hook, void *arg);

/* The catalog rows of market @market's apps, in oid order (rows of apps
 * that left the market are skipped). */
int mkt_store_catalog_list(mkt_store *s, int market, mkt_store_catalog_cb cb, void *payload);
/* Insert, update or delete (only row->oid is used) a catalog row. */
int mkt_store_catalog_write(mkt_store *s, mkt_store_op op, const mkt_store_catalog_row *row);

const char *mkt_store_table_name(mkt_table t);
/* The table named @name, or -1. */
mkt_table mkt_store_table_by_name(const char *name);

/* Is @t shared between zones (and so written to the change log)?  Markets,
 * apps, users, groups and zones are; everything else belongs to one zone. */
int mkt_store_table_replicated(mkt_table t);

/* A query that returns every row. */
void mkt_store_query_init(mkt_store_query *q);

extern const mkt_store_backend mkt_store_sqlite_backend;

#endif
