/*
 * store_sqlite.c: the embedded sqlite3 backend of the store.
 *
 * One connection, WAL journal, full fsync on commit.  Statements are
 * prepared once per (table, operation) and reused; SQL text is built only
 * from the fixed table names below, never from request data (values are
 * always bound).  A second connection, on a thread of its own, copies the
 * WAL back into the database (checkpoints), so that a commit does not: a
 * catalog pass of 5 000 apps wrote 40 MB to the WAL, and copying it back in
 * the committing thread held the daemon's lock for a tenth of the pass.
 */
#include <config.h>

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "store.h"

enum { ST_INSERT, ST_UPDATE, ST_DELETE, ST_LOAD, ST_NAME, ST_NAME_UID, ST_LAST };

/* WAL pages after which a checkpoint is started (sqlite's own default). */
#define CHECKPOINT_PAGES 1000

typedef struct {
	sqlite3 *db;                  /* its own connection */
	pthread_t thread;
	pid_t owner;                  /* the process the thread runs in, or 0 */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int inited, failed, due, stop;
} checkpointer;

typedef struct {
	char *path;                   /* for the connections of the checkpointer
				       * and of cursors */
	sqlite3 *db;
	sqlite3_stmt *stmts[MKT_TABLE_LAST][ST_LAST];
	sqlite3_stmt *changelog;
	sqlite3_stmt *apply[2];       /* upsert, delete: replicated entries */
	sqlite3_stmt *catalog[3];     /* by mkt_store_op */
	sqlite3_stmt *oid[2];         /* read and bump pool_control */
	int in_txn;
	checkpointer ck;
} sqlite_store;

#define COLUMNS "oid, name, uid, gid, owner_u, group_u, other_u, parent, state, body"

/*
 * Forward-only schema migrations.  db_versioning records each applied
 * version; a database newer than this binary is refused rather than
 * silently misread.
 */
static const struct {
	int version;
	const char *comment;
	const char *sql;
} migrations[] = {
	{ 1, "initial schema",
	  "CREATE TABLE pool_control (tablename TEXT PRIMARY KEY, last_oid INTEGER NOT NULL);"
	  "CREATE TABLE marketplace_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);"
	  "CREATE TABLE marketplaceapp_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL,"
	  " state INTEGER NOT NULL, body TEXT NOT NULL, UNIQUE(name, uid));"
	  "CREATE INDEX marketplaceapp_parent ON marketplaceapp_pool(parent);"
	  "CREATE INDEX marketplaceapp_uid ON marketplaceapp_pool(uid);"
	  "CREATE INDEX marketplaceapp_gid ON marketplaceapp_pool(gid);"
	  "CREATE TABLE user_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);"
	  "CREATE TABLE group_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);"
	  "CREATE TABLE changelog (idx INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL,"
	  " oid INTEGER NOT NULL, op TEXT NOT NULL, time INTEGER NOT NULL, body TEXT);" },
	{ 2, "datastores and images",
	  "CREATE TABLE datastore_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);"
	  "CREATE TABLE image_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL,"
	  " state INTEGER NOT NULL, body TEXT NOT NULL, UNIQUE(name, uid));"
	  "CREATE INDEX image_parent ON image_pool(parent);"
	  "CREATE INDEX image_uid ON image_pool(uid);" },
	{ 3, "catalog state of monitored apps",
	  "CREATE TABLE app_catalog (oid INTEGER PRIMARY KEY, market INTEGER NOT NULL,"
	  " key TEXT NOT NULL, digest TEXT NOT NULL, missing INTEGER NOT NULL DEFAULT 0);"
	  "CREATE INDEX app_catalog_market ON app_catalog(market);" },
	{ 4, "VM templates and documents",
	  "CREATE TABLE template_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, UNIQUE(name, uid));"
	  "CREATE TABLE document_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, UNIQUE(name, uid, parent));" },
	{ 5, "service instances and bindings",
	  "CREATE TABLE serviceinstance_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, UNIQUE(name, uid));"
	  "CREATE INDEX serviceinstance_parent ON serviceinstance_pool(parent);"
	  "CREATE TABLE servicebinding_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, UNIQUE(name, uid));"
	  "CREATE INDEX servicebinding_parent ON servicebinding_pool(parent);" },
	/* The log's entries carry the row's columns, so a zone applies them
	 * without parsing bodies; entries written before had none, and no
	 * zone can have applied them (federation came with this version), so
	 * they go: AUTOINCREMENT keeps counting past them. */
	{ 6, "federation: zones, replicated log entries, applied index",
	  "CREATE TABLE zone_pool (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	  " uid INTEGER NOT NULL, gid INTEGER NOT NULL, owner_u INTEGER NOT NULL,"
	  " group_u INTEGER NOT NULL, other_u INTEGER NOT NULL, parent INTEGER NOT NULL DEFAULT -1,"
	  " state INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);"
	  "DELETE FROM changelog;"
	  "ALTER TABLE changelog ADD COLUMN name TEXT;"
	  "ALTER TABLE changelog ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE changelog ADD COLUMN gid INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE changelog ADD COLUMN owner_u INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE changelog ADD COLUMN group_u INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE changelog ADD COLUMN other_u INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE changelog ADD COLUMN parent INTEGER NOT NULL DEFAULT -1;"
	  "ALTER TABLE changelog ADD COLUMN state INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE fed_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);" },
};

static int db_error(sqlite_store *st, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);
	int ret = (code & 0xff) == SQLITE_CONSTRAINT ? MKT_EEXISTS :
		  (code & 0xff) == SQLITE_FULL ? MKT_ERROR : MKT_ERROR;

	return mkt_error_set(ret, MKT_ERR_STORE, "database error while %s: %s",
			     what, sqlite3_errmsg(st->db));
}

static int exec_sql(sqlite_store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, what);
	return 0;
}

static int schema_version(sqlite_store *st, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int ret = 0;

	if (exec_sql(st, "CREATE TABLE IF NOT EXISTS db_versioning (oid INTEGER PRIMARY KEY,"
			 " version INTEGER NOT NULL, timestamp INTEGER NOT NULL, comment TEXT)",
		     "creating db_versioning") < 0)
		return MKT_ERROR;
	if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(version), 0) FROM db_versioning",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		ret = db_error(st, "reading the schema version");
		goto cleanup;
	}
	*out = sqlite3_column_int(stmt, 0);

 cleanup:
	sqlite3_finalize(stmt);
	return ret;
}

static int migrate(sqlite_store *st)
{
	size_t i, n = sizeof(migrations) / sizeof(migrations[0]);
	int current = 0, latest = migrations[n - 1].version;
	int ret;

	if ((ret = schema_version(st, &current)) < 0)
		return ret;
	if (current > latest)
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE,
				     "database schema version %d is newer than this marketd "
				     "supports (%d): upgrade marketd", current, latest);
	for (i = 0; i < n; i++) {
		char *sql;

		if (migrations[i].version <= current)
			continue;
		sql = mkt_asprintf("BEGIN IMMEDIATE; %s INSERT INTO db_versioning(version, timestamp,"
				   " comment) VALUES(%d, %lld, '%s'); COMMIT;",
				   migrations[i].sql, migrations[i].version,
				   (long long)time(NULL), migrations[i].comment);
		ret = exec_sql(st, sql, "migrating the schema");
		free(sql);
		if (ret < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return ret;
		}
		mkt_log(MKT_LOG_INFO, "store", "database schema migrated to version %d (%s)",
			migrations[i].version, migrations[i].comment);
	}
	return 0;
}

static void *checkpoint_loop(void *arg)
{
	checkpointer *ck = arg;
	int rc;

	pthread_mutex_lock(&ck->lock);
	for (;;) {
		while (!ck->due && !ck->stop)
			pthread_cond_wait(&ck->wake, &ck->lock);
		if (ck->stop)
			break;
		ck->due = 0;
		pthread_mutex_unlock(&ck->lock);
		/* PASSIVE: never waits for the writer or for readers; what it
		 * could not copy this time is copied the next. */
		rc = sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			mkt_log(MKT_LOG_WARN, "store", "checkpointing the WAL: %s",
				sqlite3_errmsg(ck->db));
		pthread_mutex_lock(&ck->lock);
	}
	pthread_mutex_unlock(&ck->lock);
	return NULL;
}

/*
 * The thread starts at the first checkpoint due, in the process that
 * commits: the daemon opens its store before it forks, and a thread does
 * not cross a fork.  0, or -1 when there is none (the caller checkpoints).
 */
static int checkpointer_start(checkpointer *ck, const char *path)
{
	sigset_t all, old;
	int rc = -1;

	if (ck->failed)
		return -1;
	if (sqlite3_open_v2(path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) == SQLITE_OK &&
	    sqlite3_exec(ck->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) == SQLITE_OK) {
		/* Never the thread a SIGTERM is delivered to. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&ck->thread, NULL, checkpoint_loop, ck);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc != 0) {
		mkt_log(MKT_LOG_WARN, "store", "no checkpoint thread (%s): commits checkpoint",
			ck->db ? sqlite3_errmsg(ck->db) : "out of memory");
		sqlite3_close(ck->db);
		ck->db = NULL;
		ck->failed = 1;
		return -1;
	}
	ck->owner = getpid();
	return 0;
}

/* Called by sqlite after each commit of the main connection. */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
	sqlite_store *st = arg;
	checkpointer *ck = &st->ck;

	if (pages < CHECKPOINT_PAGES)
		return SQLITE_OK;
	if (ck->owner != getpid() && checkpointer_start(ck, st->path) < 0) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&ck->lock);
	ck->due = 1;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->lock);
	return SQLITE_OK;
}

static void checkpointer_init(sqlite_store *st)
{
	checkpointer *ck = &st->ck;

	pthread_mutex_init(&ck->lock, NULL);
	pthread_cond_init(&ck->wake, NULL);
	ck->inited = 1;
	sqlite3_wal_hook(st->db, wal_committed, st);
}

static void checkpointer_stop(checkpointer *ck)
{
	if (!ck->inited)
		return;
	/* A thread of the parent, before a fork, is not this process's. */
	if (ck->owner == getpid()) {
		pthread_mutex_lock(&ck->lock);
		ck->stop = 1;
		pthread_cond_signal(&ck->wake);
		pthread_mutex_unlock(&ck->lock);
		pthread_join(ck->thread, NULL);
		sqlite3_close(ck->db);
	}
	ck->owner = 0;
	ck->db = NULL;
	pthread_cond_destroy(&ck->wake);
	pthread_mutex_destroy(&ck->lock);
	ck->inited = 0;
}

static void sq_close(void *impl)
{
	sqlite_store *st = impl;
	int t, k;

	if (!st)
		return;
	/* First: the main connection's close then checkpoints what is left
	 * and removes the WAL, as the last connection to the file. */
	checkpointer_stop(&st->ck);
	for (t = 0; t < MKT_TABLE_LAST; t++)
		for (k = 0; k < ST_LAST; k++)
			sqlite3_finalize(st->stmts[t][k]);
	sqlite3_finalize(st->changelog);
	sqlite3_finalize(st->apply[0]);
	sqlite3_finalize(st->apply[1]);
	for (k = 0; k < 3; k++)
		sqlite3_finalize(st->catalog[k]);
	sqlite3_finalize(st->oid[0]);
	sqlite3_finalize(st->oid[1]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

static int sq_open(void **out, const char *path)
{
	sqlite_store *st = mkt_calloc(1, sizeof(*st));
	int ret = 0;

	st->path = mkt_strdup(path);

	/* No allocation statistics: they take a global mutex on every
	 * allocation, a tenth of a catalog pass.  Only possible before
	 * sqlite is initialised (later calls fail harmlessly). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "cannot open database '%s': %s",
				    path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* A catalog pass writes tens of MB in one transaction: a page cache
	 * of 4 MiB keeps its index pages from being re-read from the WAL
	 * (8 or 16 MiB made a 100 000-app first pass no faster, 3.9-5.7 s
	 * against 3.9-5.3 s, and the daemon's peak RSS 4 or 12 MiB larger:
	 * 63.6-68 MiB against 59.5-61.6).  An app's row is ~2 KiB: a 4 KiB page
	 * holds one, half empty, so a new database gets 16 KiB pages (a
	 * 100 000-app first pass wrote half the pages, in half the time).
	 * The size of an existing database stays (it cannot change in WAL
	 * mode; README, "Upgrading"). */
	if ((ret = exec_sql(st, "PRAGMA page_size=16384;"
			    " PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			    " PRAGMA cache_size=-4096;",
			    "configuring the database")) < 0)
		goto cleanup;
	if ((ret = migrate(st)) < 0)
		goto cleanup;
	checkpointer_init(st);
	*out = MKT_STEAL(st);

 cleanup:
	if (ret < 0 && st && st->db) {
		mkt_error saved;

		mkt_error_preserve(&saved);
		sq_close(st);
		mkt_error_restore(&saved);
	} else if (ret < 0) {
		free(st->path);
		free(st);
	}
	return ret;
}

/* In WAL mode, NORMAL syncs the log at checkpoints only; FULL at every
 * commit, which syncs what NORMAL commits wrote before it too. */
static int sq_set_durable(void *impl, int durable)
{
	return exec_sql(impl, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
			"setting the durability of commits");
}

static int sq_begin(void *impl)
{
	sqlite_store *st = impl;

	if (exec_sql(st, "BEGIN IMMEDIATE", "starting a transaction") < 0)
		return MKT_ERROR;
	st->in_txn = 1;
	return 0;
}

static int sq_commit(void *impl)
{
	sqlite_store *st = impl;
	int ret = exec_sql(st, "COMMIT", "committing");

	if (ret < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = 0;
	return ret;
}

static void sq_rollback(void *impl)
{
	sqlite_store *st = impl;

	if (st->in_txn)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = 0;
}

static int prepare(sqlite_store *st, mkt_table t, int kind, sqlite3_stmt **out)
{
	const char *tn = mkt_store_table_name(t);
	char *sql = NULL;

	if (st->stmts[t][kind]) {
		sqlite3_reset(st->stmts[t][kind]);
		sqlite3_clear_bindings(st->stmts[t][kind]);
		*out = st->stmts[t][kind];
		return 0;
	}
	switch (kind) {
	case ST_INSERT:
		sql = mkt_asprintf("INSERT INTO %s (" COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?)", tn);
		break;
	case ST_UPDATE:
		sql = mkt_asprintf("UPDATE %s SET name=?2, uid=?3, gid=?4, owner_u=?5, group_u=?6,"
				   " other_u=?7, parent=?8, state=?9, body=?10 WHERE oid=?1", tn);
		break;
	case ST_DELETE:
		sql = mkt_asprintf("DELETE FROM %s WHERE oid=?1", tn);
		break;
	case ST_LOAD:
		sql = mkt_asprintf("SELECT " COLUMNS " FROM %s WHERE oid=?1", tn);
		break;
	case ST_NAME:
		sql = mkt_asprintf("SELECT oid FROM %s WHERE name=?1", tn);
		break;
	case ST_NAME_UID:
		sql = mkt_asprintf("SELECT oid FROM %s WHERE name=?1 AND uid=?2", tn);
		break;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmts[t][kind], NULL) != SQLITE_OK) {
		free(sql);
		return db_error(st, "preparing a statement");
	}
	free(sql);
	*out = st->stmts[t][kind];
	return 0;
}

static void bind_row(sqlite3_stmt *stmt, const mkt_store_row *r)
{
	sqlite3_bind_int(stmt, 1, r->oid);
	sqlite3_bind_text(stmt, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, r->uid);
	sqlite3_bind_int(stmt, 4, r->gid);
	sqlite3_bind_int(stmt, 5, r->owner_u);
	sqlite3_bind_int(stmt, 6, r->group_u);
	sqlite3_bind_int(stmt, 7, r->other_u);
	sqlite3_bind_int(stmt, 8, r->parent);
	sqlite3_bind_int(stmt, 9, r->state);
	sqlite3_bind_text(stmt, 10, r->body, -1, SQLITE_STATIC);
}

/*
 * The change log says which row changed; an app's insert or update does
 * not copy the row's body into it (a catalog pass writes 100 000 apps of
 * ~2 KB: copied, the log doubled what the pass wrote and checkpointed).
 * Such an entry is read with the app's row as it is then (or as a delete
 * once the app is gone): a zone applying the log in order may see an
 * app's later state a few entries early, and ends where the master is.
 */
static int logged_by_reference(mkt_table t, mkt_store_op op)
{
	return t == MKT_TABLE_APP && op != MKT_STORE_DELETE;
}

static int append_changelog(sqlite_store *st, mkt_table t, mkt_store_op op,
			    const mkt_store_row *r)
{
	static const char *const ops[] = { "insert", "update", "delete" };

	if (!st->changelog &&
	    sqlite3_prepare_v3(st->db, "INSERT INTO changelog(tbl, oid, op, time, body, name,"
			       " uid, gid, owner_u, group_u, other_u, parent, state)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &st->changelog, NULL) != SQLITE_OK)
		return db_error(st, "preparing the change log");
	sqlite3_reset(st->changelog);
	sqlite3_clear_bindings(st->changelog);
	sqlite3_bind_text(st->changelog, 1, mkt_store_table_name(t), -1, SQLITE_STATIC);
	sqlite3_bind_int(st->changelog, 2, r->oid);
	sqlite3_bind_text(st->changelog, 3, ops[op], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->changelog, 4, (sqlite3_int64)time(NULL));
	if (op != MKT_STORE_DELETE && r->body && !logged_by_reference(t, op)) {
		sqlite3_bind_text(st->changelog, 5, r->body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st->changelog, 6, r->name, -1, SQLITE_STATIC);
	}
	/* A delete's columns are not read: zeros keep NOT NULL happy. */
	sqlite3_bind_int(st->changelog, 7, op != MKT_STORE_DELETE ? r->uid : 0);
	sqlite3_bind_int(st->changelog, 8, op != MKT_STORE_DELETE ? r->gid : 0);
	sqlite3_bind_int(st->changelog, 9, op != MKT_STORE_DELETE ? r->owner_u : 0);
	sqlite3_bind_int(st->changelog, 10, op != MKT_STORE_DELETE ? r->group_u : 0);
	sqlite3_bind_int(st->changelog, 11, op != MKT_STORE_DELETE ? r->other_u : 0);
	sqlite3_bind_int(st->changelog, 12, op != MKT_STORE_DELETE ? r->parent : -1);
	sqlite3_bind_int(st->changelog, 13, op != MKT_STORE_DELETE ? r->state : 0);
	if (sqlite3_step(st->changelog) != SQLITE_DONE)
		return db_error(st, "appending to the change log");
	return 0;
}

/* ---- catalog state of monitored apps (zone-local, no change log) ------ */

static const char *const catalog_sql[] = {
	[MKT_STORE_INSERT] = "INSERT INTO app_catalog (oid, market, key, digest, missing)"
			     " VALUES (?1,?2,?3,?4,?5)",
	[MKT_STORE_UPDATE] = "UPDATE app_catalog SET market=?2, key=?3, digest=?4, missing=?5"
			     " WHERE oid=?1",
	[MKT_STORE_DELETE] = "DELETE FROM app_catalog WHERE oid=?1",
};

static int sq_catalog_write(void *impl, mkt_store_op op, const mkt_store_catalog_row *r)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = st->catalog[op];

	if (!stmt && sqlite3_prepare_v3(st->db, catalog_sql[op], -1, SQLITE_PREPARE_PERSISTENT,
					&st->catalog[op], NULL) != SQLITE_OK)
		return db_error(st, "preparing a catalog statement");
	stmt = st->catalog[op];
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	sqlite3_bind_int(stmt, 1, r->oid);
	if (op != MKT_STORE_DELETE) {
		sqlite3_bind_int(stmt, 2, r->market);
		sqlite3_bind_text(stmt, 3, r->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, r->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 5, r->missing);
	}
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return db_error(st, "writing the catalog state");
	return 0;
}

static int sq_catalog_list(void *impl, int market, mkt_store_catalog_cb cb, void *payload)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = NULL;
	int ret = 0, rc = SQLITE_DONE;

	/* Only rows whose app is still in that market count. */
	if (sqlite3_prepare_v2(st->db, "SELECT c.oid, c.market, c.key, c.digest, c.missing"
			       " FROM app_catalog c JOIN marketplaceapp_pool a ON a.oid = c.oid"
			       " WHERE c.market = ?1 AND a.parent = ?1 ORDER BY c.oid",
			       -1, &stmt, NULL) != SQLITE_OK)
		return db_error(st, "listing the catalog state");
	sqlite3_bind_int(stmt, 1, market);
	while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		mkt_store_catalog_row r = {
			.oid = sqlite3_column_int(stmt, 0),
			.market = sqlite3_column_int(stmt, 1),
			.key = (const char *)sqlite3_column_text(stmt, 2),
			.digest = (const char *)sqlite3_column_text(stmt, 3),
			.missing = sqlite3_column_int(stmt, 4),
		};

		ret = cb(&r, payload);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(st, "listing the catalog state");
	sqlite3_finalize(stmt);
	return ret;
}

static int sq_write(void *impl, mkt_table t, mkt_store_op op, const mkt_store_row *r, int log)
{
	static const int kinds[] = { ST_INSERT, ST_UPDATE, ST_DELETE };
	sqlite_store *st = impl;
	sqlite3_stmt *stmt;
	int ret;

	if ((ret = prepare(st, t, kinds[op], &stmt)) < 0)
		return ret;
	if (op == MKT_STORE_DELETE)
		sqlite3_bind_int(stmt, 1, r->oid);
	else
		bind_row(stmt, r);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return db_error(st, op == MKT_STORE_INSERT ? "inserting" :
				op == MKT_STORE_UPDATE ? "updating" : "deleting");
	if (op != MKT_STORE_INSERT && sqlite3_changes(st->db) == 0)
		return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_STORE, "no row %d in %s",
				     r->oid, mkt_store_table_name(t));
	/* An app leaves the catalog state with it, however it is deleted. */
	if (t == MKT_TABLE_APP && op == MKT_STORE_DELETE) {
		mkt_store_catalog_row cr = { .oid = r->oid };

		if ((ret = sq_catalog_write(impl, MKT_STORE_DELETE, &cr)) < 0)
			return ret;
	}
	return log && mkt_store_table_replicated(t) ? append_changelog(st, t, op, r) : 0;
}

/* The row whose ten columns (oid, name, ..., body) start at column @k. */
static mkt_store_row row_of(sqlite3_stmt *stmt, int k)
{
	return (mkt_store_row){
		.oid = sqlite3_column_int(stmt, k),
		.name = (const char *)sqlite3_column_text(stmt, k + 1),
		.uid = sqlite3_column_int(stmt, k + 2),
		.gid = sqlite3_column_int(stmt, k + 3),
		.owner_u = sqlite3_column_int(stmt, k + 4),
		.group_u = sqlite3_column_int(stmt, k + 5),
		.other_u = sqlite3_column_int(stmt, k + 6),
		.parent = sqlite3_column_int(stmt, k + 7),
		.state = sqlite3_column_int(stmt, k + 8),
		.body = (const char *)sqlite3_column_text(stmt, k + 9),
	};
}

static int emit_row(sqlite3_stmt *stmt, mkt_store_row_cb cb, void *payload)
{
	mkt_store_row r = row_of(stmt, 0);

	return cb(&r, payload);
}

static int sq_load(void *impl, mkt_table t, int oid, mkt_store_row_cb cb, void *payload)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt;
	int ret, rc;

	if ((ret = prepare(st, t, ST_LOAD, &stmt)) < 0)
		return ret;
	sqlite3_bind_int(stmt, 1, oid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		ret = MKT_ENOTFOUND;
	else if (rc != SQLITE_ROW)
		ret = db_error(st, "loading an object");
	else
		ret = emit_row(stmt, cb, payload);
	sqlite3_reset(stmt);
	return ret;
}

static int sq_lookup_name(void *impl, mkt_table t, const char *name, int uid, int *out)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt;
	int ret, rc;

	if ((ret = prepare(st, t, uid < 0 ? ST_NAME : ST_NAME_UID, &stmt)) < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (uid >= 0)
		sqlite3_bind_int(stmt, 2, uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(stmt, 0);
	ret = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? MKT_ENOTFOUND :
	      db_error(st, "looking up a name");
	sqlite3_reset(stmt);
	return ret;
}

static void add_in_list(mkt_buf *sql, size_t n)
{
	size_t i;

	mkt_buf_add(sql, " IN (");
	for (i = 0; i < n; i++)
		mkt_buf_add(sql, i ? ",?" : "?");
	if (!n)
		mkt_buf_add(sql, "NULL");
	mkt_buf_add(sql, ")");
}

/* The statement of a pool query, on connection @db. */
static int prepare_list(sqlite3 *db, mkt_table t, const mkt_store_query *q, sqlite3_stmt **out)
{
	mkt_buf sql = MKT_BUF_INIT;
	sqlite3_stmt *stmt = NULL;
	int idx = 1;
	size_t i;

	mkt_buf_printf(&sql, "SELECT %s FROM %s WHERE 1",
		       q->ids_only ? "oid, NULL, 0, 0, 0, 0, 0, -1, 0, NULL" : COLUMNS,
		       mkt_store_table_name(t));
	/* Placeholders are added in the same order they are bound below. */
	if (q->filter == -3 || q->filter >= 0) {
		mkt_buf_add(&sql, " AND uid = ?");
	} else if (q->filter == -4) {
		mkt_buf_add(&sql, " AND gid");
		add_in_list(&sql, q->ngids);
	} else if (q->filter == -1) {
		mkt_buf_add(&sql, " AND (uid = ? OR gid");
		add_in_list(&sql, q->ngids);
		mkt_buf_add(&sql, ")");
	}
	if (!q->all) {
		mkt_buf_add(&sql, " AND ((uid = ? AND owner_u = 1) OR (group_u = 1 AND gid");
		add_in_list(&sql, q->ngids);
		mkt_buf_add(&sql, ") OR other_u = 1)");
	}
	if (q->start_id >= 0)
		mkt_buf_add(&sql, " AND oid >= ?");
	if (q->end_id >= 0)
		mkt_buf_add(&sql, " AND oid <= ?");
	if (q->parent >= 0)
		mkt_buf_add(&sql, " AND parent = ?");
	if (q->state >= 0)
		mkt_buf_add(&sql, " AND state = ?");
	if (q->name)
		mkt_buf_add(&sql, " AND name = ?");
	mkt_buf_add(&sql, " ORDER BY oid");

	if (sqlite3_prepare_v2(db, mkt_buf_cstr(&sql), -1, &stmt, NULL) != SQLITE_OK) {
		mkt_buf_free(&sql);
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "preparing a pool query: %s",
				     sqlite3_errmsg(db));
	}
	mkt_buf_free(&sql);
	if (q->filter == -3)
		sqlite3_bind_int(stmt, idx++, q->uid);
	else if (q->filter >= 0)
		sqlite3_bind_int(stmt, idx++, q->filter);
	else if (q->filter == -4 || q->filter == -1) {
		if (q->filter == -1)
			sqlite3_bind_int(stmt, idx++, q->uid);
		for (i = 0; i < q->ngids; i++)
			sqlite3_bind_int(stmt, idx++, q->gids[i]);
	}
	if (!q->all) {
		sqlite3_bind_int(stmt, idx++, q->uid);
		for (i = 0; i < q->ngids; i++)
			sqlite3_bind_int(stmt, idx++, q->gids[i]);
	}
	if (q->start_id >= 0)
		sqlite3_bind_int(stmt, idx++, q->start_id);
	if (q->end_id >= 0)
		sqlite3_bind_int(stmt, idx++, q->end_id);
	if (q->parent >= 0)
		sqlite3_bind_int(stmt, idx++, q->parent);
	if (q->state >= 0)
		sqlite3_bind_int(stmt, idx++, q->state);
	if (q->name)
		sqlite3_bind_text(stmt, idx++, q->name, -1, SQLITE_TRANSIENT);
	*out = stmt;
	return 0;
}

static int sq_list(void *impl, mkt_table t, const mkt_store_query *q,
		   mkt_store_row_cb cb, void *payload)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = NULL;
	int ret, rc;

	if ((ret = prepare_list(st->db, t, q, &stmt)) < 0)
		return ret;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((ret = emit_row(stmt, cb, payload)) != 0)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		ret = db_error(st, "listing a pool");

 cleanup:
	sqlite3_finalize(stmt);
	return ret;
}

typedef struct {
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int rc;                       /* of the step not yet handed out */
} sqlite_cursor;

static void sq_cursor_close(void *cursor)
{
	sqlite_cursor *c = cursor;

	if (!c)
		return;
	sqlite3_finalize(c->stmt);
	sqlite3_close(c->db);
	free(c);
}

static int sq_cursor_open(void *impl, mkt_table t, const mkt_store_query *q, void **out)
{
	sqlite_store *st = impl;
	sqlite_cursor *c = mkt_calloc(1, sizeof(*c));
	int ret = 0;

	if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "opening a read connection: %s",
				    c->db ? sqlite3_errmsg(c->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_busy_timeout(c->db, 5000);
	if ((ret = prepare_list(c->db, t, q, &c->stmt)) < 0)
		goto cleanup;
	/* The first step starts the read transaction: from here on the
	 * cursor sees the store as it is now, whatever is written later. */
	c->rc = sqlite3_step(c->stmt);
	if (c->rc != SQLITE_ROW && c->rc != SQLITE_DONE)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "listing a pool: %s",
				    sqlite3_errmsg(c->db));

 cleanup:
	if (ret < 0) {
		sq_cursor_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

static int sq_cursor_next(void *cursor, mkt_store_row *row)
{
	sqlite_cursor *c = cursor;
	sqlite3_stmt *stmt = c->stmt;

	/* The row handed out last is stepped past only now, so its strings
	 * stayed valid until this call. */
	if (c->rc == -1)
		c->rc = sqlite3_step(stmt);
	if (c->rc == SQLITE_DONE)
		return 0;
	if (c->rc != SQLITE_ROW)
		return mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "listing a pool: %s",
				     sqlite3_errmsg(c->db));
	*row = row_of(stmt, 0);
	c->rc = -1;
	return 1;
}

static int sq_next_oid(void *impl, mkt_table t, int floor, int *out)
{
	static const char *const sql[2] = {
		"SELECT last_oid FROM pool_control WHERE tablename=?1",
		"REPLACE INTO pool_control(tablename, last_oid) VALUES (?1, ?2)",
	};
	sqlite_store *st = impl;
	int next = floor, k;

	for (k = 0; k < 2; k++) {
		if (!st->oid[k] && sqlite3_prepare_v3(st->db, sql[k], -1, SQLITE_PREPARE_PERSISTENT,
						      &st->oid[k], NULL) != SQLITE_OK)
			return db_error(st, "reading pool_control");
		sqlite3_reset(st->oid[k]);
		sqlite3_bind_text(st->oid[k], 1, mkt_store_table_name(t), -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st->oid[0]) == SQLITE_ROW && sqlite3_column_int(st->oid[0], 0) + 1 > next)
		next = sqlite3_column_int(st->oid[0], 0) + 1;
	sqlite3_reset(st->oid[0]);
	sqlite3_bind_int(st->oid[1], 2, next);
	if (sqlite3_step(st->oid[1]) != SQLITE_DONE) {
		int ret = db_error(st, "updating pool_control");

		sqlite3_reset(st->oid[1]);
		return ret;
	}
	sqlite3_reset(st->oid[1]);
	*out = next;
	return 0;
}

/* One integer from @sql (bound with @arg when it has a parameter);
 * @dflt when it returns no row or NULL. */
static int query_int64(sqlite_store *st, const char *sql, const char *arg, long long dflt,
		       long long *out, const char *what)
{
	sqlite3_stmt *stmt = NULL;
	int ret = 0, rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_error(st, what);
	if (arg)
		sqlite3_bind_text(stmt, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(stmt, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*out = dflt;
	else
		ret = db_error(st, what);
	sqlite3_finalize(stmt);
	return ret;
}

/* The last index handed out, even when trimming removed its entry. */
static int sq_changelog_last(void *impl, long long *out)
{
	return query_int64(impl, "SELECT seq FROM sqlite_sequence WHERE name = 'changelog'",
			   NULL, 0, out, "reading the change log");
}

static int sq_changelog_first(void *impl, long long *out)
{
	long long last;
	int ret;

	if ((ret = sq_changelog_last(impl, &last)) < 0)
		return ret;
	return query_int64(impl, "SELECT MIN(idx) FROM changelog", NULL, last + 1, out,
			   "reading the change log");
}

static int sq_changelog_read(void *impl, long long after, size_t max,
			     mkt_store_change_cb cb, void *payload)
{
	static const char *const ops[] = { "insert", "update", "delete" };
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = NULL;
	char *sql;
	int ret = 0, rc = SQLITE_DONE;

	/* Entries logged by reference (no body) take their app's row. */
	sql = mkt_asprintf("SELECT c.idx, c.tbl, c.op, c.oid, c.name, c.uid, c.gid, c.owner_u,"
			   " c.group_u, c.other_u, c.parent, c.state, c.body, a.oid, a.name, a.uid,"
			   " a.gid, a.owner_u, a.group_u, a.other_u, a.parent, a.state, a.body"
			   " FROM changelog c LEFT JOIN %s a ON c.body IS NULL AND c.tbl = '%s'"
			   " AND a.oid = c.oid WHERE c.idx > ?1 ORDER BY c.idx LIMIT ?2",
			   mkt_store_table_name(MKT_TABLE_APP), mkt_store_table_name(MKT_TABLE_APP));
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return db_error(st, "reading the change log");
	sqlite3_bind_int64(stmt, 1, after);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(stmt, 1);
		const char *op = (const char *)sqlite3_column_text(stmt, 2);
		/* The entry's own columns, or its app's (from column 13). */
		int by_ref = sqlite3_column_type(stmt, 12) == SQLITE_NULL &&
			     sqlite3_column_type(stmt, 13) != SQLITE_NULL;
		mkt_store_change c = {
			.idx = sqlite3_column_int64(stmt, 0),
			.table = mkt_store_table_by_name(tbl),
			.op = MKT_STORE_DELETE,
			.row = row_of(stmt, by_ref ? 13 : 3),
		};
		size_t k;

		for (k = 0; k < 3; k++)
			if (op && !strcmp(op, ops[k]))
				c.op = (mkt_store_op)k;
		/* An app logged by reference and deleted since: it is gone. */
		if (!c.row.body && logged_by_reference(c.table, c.op))
			c.op = MKT_STORE_DELETE;
		if ((int)c.table < 0 || (c.op != MKT_STORE_DELETE && (!c.row.body || !c.row.name)))
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_STORE,
					    "change log entry %lld is malformed", c.idx);
		else
			ret = cb(&c, payload);
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_error(st, "reading the change log");
	sqlite3_finalize(stmt);
	return ret;
}

static int sq_changelog_trim(void *impl, long long below)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db, "DELETE FROM changelog WHERE idx < ?1", -1, &stmt,
			       NULL) != SQLITE_OK)
		return db_error(st, "trimming the change log");
	sqlite3_bind_int64(stmt, 1, below);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		ret = db_error(st, "trimming the change log");
	sqlite3_finalize(stmt);
	return ret;
}

/*
 * A replicated entry, applied as the zone that logged it saw it: an
 * upsert whose REPLACE also drops a row holding the same unique name
 * (the log's later entries moved that name away on the master, so a
 * provisional row of this zone's own write is the only such row).
 */
static int sq_apply(void *impl, mkt_table t, mkt_store_op op, const mkt_store_row *r)
{
	sqlite_store *st = impl;
	int del = op == MKT_STORE_DELETE;
	sqlite3_stmt *stmt;
	char *sql;
	int ret = 0;

	/* Prepared per call: the table varies, and entries are batched in
	 * one transaction where preparing is small next to the writes. */
	sql = del ? mkt_asprintf("DELETE FROM %s WHERE oid=?1", mkt_store_table_name(t)) :
	      mkt_asprintf("INSERT OR REPLACE INTO %s (" COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
			   mkt_store_table_name(t));
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		free(sql);
		return db_error(st, "preparing a replicated change");
	}
	free(sql);
	if (del)
		sqlite3_bind_int(stmt, 1, r->oid);
	else
		bind_row(stmt, r);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		ret = db_error(st, "applying a replicated change");
	sqlite3_finalize(stmt);
	if (ret == 0 && t == MKT_TABLE_APP && del) {
		mkt_store_catalog_row cr = { .oid = r->oid };

		ret = sq_catalog_write(impl, MKT_STORE_DELETE, &cr);
	}
	return ret;
}

static int sq_clear(void *impl, mkt_table t)
{
	char *sql = mkt_asprintf("DELETE FROM %s", mkt_store_table_name(t));
	int ret = exec_sql(impl, sql, "clearing a table");

	free(sql);
	return ret;
}

static int sq_state_get(void *impl, const char *key, long long *out)
{
	return query_int64(impl, "SELECT value FROM fed_state WHERE key = ?1", key, 0, out,
			   "reading the federation state");
}

static int sq_state_set(void *impl, const char *key, long long value)
{
	sqlite_store *st = impl;
	sqlite3_stmt *stmt = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db, "REPLACE INTO fed_state(key, value) VALUES (?1, ?2)",
			       -1, &stmt, NULL) != SQLITE_OK)
		return db_error(st, "writing the federation state");
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, value);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		ret = db_error(st, "writing the federation state");
	sqlite3_finalize(stmt);
	return ret;
}

const mkt_store_backend mkt_store_sqlite_backend = {
	.version = MKT_STORE_BACKEND_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.write = sq_write,
	.load = sq_load,
	.lookup_name = sq_lookup_name,
	.list = sq_list,
	.cursor_open = sq_cursor_open,
	.cursor_next = sq_cursor_next,
	.cursor_close = sq_cursor_close,
	.next_oid = sq_next_oid,
	.changelog_last = sq_changelog_last,
	.catalog_list = sq_catalog_list,
	.catalog_write = sq_catalog_write,
	.changelog_first = sq_changelog_first,
	.changelog_read = sq_changelog_read,
	.changelog_trim = sq_changelog_trim,
	.apply = sq_apply,
	.clear = sq_clear,
	.state_get = sq_state_get,
	.state_set = sq_state_set,
	.set_durable = sq_set_durable,
};
