/*
 * store_test.c: the sqlite store against a real database file.
 */
#include <config.h>

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/store.h"

static char dir[] = "/tmp/mkt-store-XXXXXX";
static char *path;
static mkt_store *st;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/mkt-store-XXXXXX")));
	path = mkt_asprintf("%s/test.db", dir);
	ck_assert_int_eq(mkt_store_open(&st, "sqlite", path), 0);
}

static void teardown(void)
{
	char *cmd = mkt_asprintf("rm -rf '%s'", dir);

	mkt_store_close(st);
	st = NULL;
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(path);
}

static mkt_store_row make_row(int oid, const char *name, int uid, int gid, int owner_u,
			      int group_u, int other_u, int parent)
{
	mkt_store_row r = { .oid = oid, .name = name, .uid = uid, .gid = gid,
			    .owner_u = owner_u, .group_u = group_u, .other_u = other_u,
			    .parent = parent, .state = 1, .body = "<X/>" };
	return r;
}

static int insert(mkt_table t, mkt_store_row r)
{
	int ret;

	ck_assert_int_eq(mkt_store_begin(st), 0);
	ret = mkt_store_write(st, t, MKT_STORE_INSERT, &r);
	if (ret == 0)
		ck_assert_int_eq(mkt_store_commit(st), 0);
	else
		mkt_store_rollback(st);
	return ret;
}

typedef struct {
	int ids[64];
	int n;
	char body[64];
} collected;

static int collect(const mkt_store_row *row, void *payload)
{
	collected *c = payload;

	c->ids[c->n++] = row->oid;
	snprintf(c->body, sizeof(c->body), "%s", row->body);
	return 0;
}

START_TEST(test_insert_load_update_delete)
{
	mkt_store_row r = make_row(100, "m1", 0, 0, 1, 0, 0, -1);
	collected c = { .n = 0 };

	ck_assert_int_eq(insert(MKT_TABLE_MARKET, r), 0);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_MARKET, 100, collect, &c), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(c.body, "<X/>");

	r.body = "<Y/>";
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_MARKET, MKT_STORE_UPDATE, &r), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	c.n = 0;
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_MARKET, 100, collect, &c), 0);
	ck_assert_str_eq(c.body, "<Y/>");

	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_MARKET, MKT_STORE_DELETE, &r), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_MARKET, 100, collect, &c), MKT_ENOTFOUND);

	/* Update and delete of a missing row are errors, not silent no-ops. */
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_MARKET, MKT_STORE_UPDATE, &r), MKT_ENOTFOUND);
	mkt_store_rollback(st);
}
END_TEST

START_TEST(test_changelog_in_same_transaction)
{
	mkt_store_row r = make_row(0, "a", 0, 0, 1, 0, 0, 100);
	long long last = -1;

	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(last, 0);
	ck_assert_int_eq(insert(MKT_TABLE_APP, r), 0);
	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(last, 1);

	/* A rolled back write leaves neither the row nor a log entry. */
	r.oid = 1;
	r.name = "b";
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_INSERT, &r), 0);
	mkt_store_rollback(st);
	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(last, 1);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_APP, 1, collect, &(collected){ .n = 0 }),
			 MKT_ENOTFOUND);
}
END_TEST

/* ---- federation -------------------------------------------------------- */

typedef struct {
	long long idx[16];
	int oid[16];
	mkt_store_op op[16];
	char name[16][16];
	size_t n;
} changes;

static int collect_change(const mkt_store_change *c, void *payload)
{
	changes *l = payload;

	ck_assert_uint_lt(l->n, 16);
	l->idx[l->n] = c->idx;
	l->oid[l->n] = c->row.oid;
	l->op[l->n] = c->op;
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", c->row.name ? c->row.name : "");
	l->n++;
	return 0;
}

START_TEST(test_changelog_read_trim)
{
	mkt_store_row r = make_row(0, "a", 0, 0, 1, 0, 0, 100);
	changes l = { .n = 0 };
	long long first, last;

	ck_assert_int_eq(mkt_store_changelog_first(st, &first), 0);
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(insert(MKT_TABLE_APP, r), 0);
	r.oid = 1;
	r.name = "b";
	ck_assert_int_eq(insert(MKT_TABLE_APP, r), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_DELETE, &r), 0);
	/* Zone-local tables are not logged. */
	ck_assert_int_eq(insert(MKT_TABLE_IMAGE, r), 0);

	ck_assert_int_eq(mkt_store_changelog_read(st, 1, 10, collect_change, &l), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.idx[0], 2);
	/* App entries read the app as it is now: "b" is gone. */
	ck_assert_int_eq(l.op[0], MKT_STORE_DELETE);
	ck_assert_int_eq(l.oid[0], 1);
	ck_assert_int_eq(l.op[1], MKT_STORE_DELETE);
	ck_assert_int_eq(l.oid[1], 1);

	/* Trimming keeps counting: the next entry is 4, the first is 3. */
	ck_assert_int_eq(mkt_store_changelog_trim(st, 3), 0);
	ck_assert_int_eq(mkt_store_changelog_first(st, &first), 0);
	ck_assert_int_eq(first, 3);
	ck_assert_int_eq(mkt_store_changelog_trim(st, 4), 0);
	ck_assert_int_eq(mkt_store_changelog_first(st, &first), 0);
	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(first, 4);
	ck_assert_int_eq(last, 3);
}
END_TEST

/* The log keeps to its retention whether its writes are transactions or
 * writes of their own (the object fuzzer's in-memory store once grew by
 * 2 KB a write: only commits trimmed). */
START_TEST(test_retention_without_transaction)
{
	mkt_store_row r = make_row(7, "u", 0, 0, 1, 0, 0, 100);
	long long first, last;
	int i;

	mkt_store_set_log_retention(st, 16);
	ck_assert_int_eq(insert(MKT_TABLE_USER, r), 0);
	for (i = 0; i < 200; i++) {
		r.body = i % 2 ? "<USER><ID>7</ID></USER>" : "<USER><ID>7</ID><X/></USER>";
		ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_USER, MKT_STORE_UPDATE, &r), 0);
		ck_assert_int_eq(mkt_store_changelog_first(st, &first), 0);
		ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
		/* Trimmed in steps of retention / 2 + 1. */
		ck_assert_int_le(last - first + 1, 16 + 9);
	}
	ck_assert_int_eq(last, 201);
}
END_TEST

/* An app's insert and update are logged without its body, and read with
 * the app's row as it is when read; other tables' entries are copies. */
START_TEST(test_changelog_by_reference)
{
	mkt_store_row r = make_row(0, "first", 0, 0, 1, 0, 0, 100);
	mkt_store_row m = make_row(7, "market", 0, 0, 1, 0, 0, -1);
	changes l = { .n = 0 };

	ck_assert_int_eq(insert(MKT_TABLE_APP, r), 0);
	ck_assert_int_eq(insert(MKT_TABLE_MARKET, m), 0);
	r.name = "second";
	m.name = "renamed";
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_UPDATE, &r), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_MARKET, MKT_STORE_UPDATE, &m), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);

	ck_assert_int_eq(mkt_store_changelog_read(st, 0, 10, collect_change, &l), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_int_eq(l.op[0], MKT_STORE_INSERT);
	ck_assert_str_eq(l.name[0], "second");          /* the app now */
	ck_assert_int_eq(l.op[1], MKT_STORE_INSERT);
	ck_assert_str_eq(l.name[1], "market");          /* the market then */
	ck_assert_int_eq(l.op[2], MKT_STORE_UPDATE);
	ck_assert_str_eq(l.name[2], "second");
	ck_assert_str_eq(l.name[3], "renamed");
}
END_TEST

START_TEST(test_apply_upserts)
{
	mkt_store_change c = { .idx = 1, .table = MKT_TABLE_MARKET, .op = MKT_STORE_INSERT,
			       .row = make_row(5, "m", 0, 0, 1, 0, 0, -1) };
	collected got = { .n = 0 };
	long long last, v;

	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_apply(st, &c), 0);
	ck_assert_int_eq(mkt_store_apply(st, &c), 0);      /* again: same row */
	c.row.oid = 6;                                      /* a name moved away */
	ck_assert_int_eq(mkt_store_apply(st, &c), 0);
	ck_assert_int_eq(mkt_store_state_set(st, "applied", 42), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_MARKET, 5, collect, &got), MKT_ENOTFOUND);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_MARKET, 6, collect, &got), 0);
	c.op = MKT_STORE_DELETE;
	ck_assert_int_eq(mkt_store_apply(st, &c), 0);
	ck_assert_int_eq(mkt_store_apply(st, &c), 0);      /* absent: fine */
	/* Applied entries are not logged again. */
	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(last, 0);
	ck_assert_int_eq(mkt_store_state_get(st, "applied", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(mkt_store_state_get(st, "unset", &v), 0);
	ck_assert_int_eq(v, 0);
}
END_TEST

typedef struct {
	int calls;
	size_t n;
	int refuse;
	char first_name[16];
} fwd_log;

static int fwd_commit(void *arg, const mkt_store_change *c, size_t n)
{
	fwd_log *f = arg;

	f->calls++;
	f->n = n;
	snprintf(f->first_name, sizeof(f->first_name), "%s", n ? c[0].row.name : "");
	return f->refuse ? mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "master said no") : 0;
}

static int fwd_next_oid(void *arg, mkt_table t, int floor, int *out)
{
	(void)arg;
	(void)t;
	*out = floor + 1000;
	return 0;
}

START_TEST(test_forwarder)
{
	fwd_log f = { 0 };
	mkt_store_forwarder fw = { fwd_next_oid, fwd_commit, &f };
	mkt_store_row r = make_row(7, "fwd", 0, 0, 1, 0, 0, 100);
	collected got = { .n = 0 };
	long long last;
	int oid;

	mkt_store_set_forwarder(st, &fw);
	ck_assert_int_eq(mkt_store_next_oid(st, MKT_TABLE_APP, 0, &oid), 0);
	ck_assert_int_eq(oid, 1000);
	ck_assert_int_eq(mkt_store_next_oid(st, MKT_TABLE_IMAGE, 0, &oid), 0);
	ck_assert_int_eq(oid, 0);                          /* local tables: here */

	/* Accepted: the replica has the row, the local log does not. */
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_INSERT, &r), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_IMAGE, MKT_STORE_INSERT, &r), 0);
	ck_assert_int_eq(f.calls, 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	ck_assert_int_eq(f.calls, 1);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.first_name, "fwd");
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_APP, 7, collect, &got), 0);
	ck_assert_int_eq(mkt_store_changelog_last(st, &last), 0);
	ck_assert_int_eq(last, 0);

	/* Refused: nothing of the transaction stays, local rows included. */
	f.refuse = 1;
	r.oid = 8;
	r.name = "fwd2";
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_IMAGE, MKT_STORE_INSERT, &r), 0);
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_INSERT, &r), 0);
	ck_assert_int_eq(mkt_store_commit(st), MKT_ERROR);
	ck_assert_str_eq(mkt_error_message(), "master said no");
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_APP, 8, collect, &got), MKT_ENOTFOUND);
	ck_assert_int_eq(mkt_store_load(st, MKT_TABLE_IMAGE, 8, collect, &got), MKT_ENOTFOUND);

	/* A write outside a transaction is forwarded as one of its own. */
	ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_INSERT, &r), MKT_ERROR);
	ck_assert_int_eq(f.calls, 3);
	mkt_store_set_forwarder(st, NULL);
}
END_TEST

START_TEST(test_unique_names)
{
	ck_assert_int_eq(insert(MKT_TABLE_MARKET, make_row(100, "m", 0, 0, 1, 0, 0, -1)), 0);
	ck_assert_int_eq(insert(MKT_TABLE_MARKET, make_row(101, "m", 1, 1, 1, 0, 0, -1)),
			 MKT_EEXISTS);
	/* Apps: unique per owner only. */
	ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(0, "a", 0, 0, 1, 0, 0, 100)), 0);
	ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(1, "a", 1, 1, 1, 0, 0, 100)), 0);
	ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(2, "a", 1, 1, 1, 0, 0, 100)), MKT_EEXISTS);
}
END_TEST

START_TEST(test_lookup_name)
{
	int oid = -1;

	ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(7, "x", 3, 1, 1, 0, 0, 100)), 0);
	ck_assert_int_eq(mkt_store_lookup_name(st, MKT_TABLE_APP, "x", 3, &oid), 0);
	ck_assert_int_eq(oid, 7);
	ck_assert_int_eq(mkt_store_lookup_name(st, MKT_TABLE_APP, "x", 4, &oid), MKT_ENOTFOUND);
	ck_assert_int_eq(mkt_store_lookup_name(st, MKT_TABLE_APP, "x", -1, &oid), 0);
}
END_TEST

START_TEST(test_next_oid_never_reuses)
{
	int a = -1, b = -1, c = -1;

	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_next_oid(st, MKT_TABLE_MARKET, 100, &a), 0);
	ck_assert_int_eq(mkt_store_next_oid(st, MKT_TABLE_MARKET, 100, &b), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	ck_assert_int_eq(a, 100);
	ck_assert_int_eq(b, 101);
	/* Ids survive a reopen. */
	mkt_store_close(st);
	ck_assert_int_eq(mkt_store_open(&st, "sqlite", path), 0);
	ck_assert_int_eq(mkt_store_begin(st), 0);
	ck_assert_int_eq(mkt_store_next_oid(st, MKT_TABLE_MARKET, 100, &c), 0);
	ck_assert_int_eq(mkt_store_commit(st), 0);
	ck_assert_int_eq(c, 102);
}
END_TEST

/* Rows: oid, uid, gid, owner_u, group_u, other_u. */
static const int pool_rows[][6] = {
	{ 0, 5, 10, 1, 0, 0 },   /* mine, owner may use */
	{ 1, 5, 10, 0, 0, 0 },   /* mine, nobody may use */
	{ 2, 6, 10, 1, 1, 0 },   /* my group's, group may use */
	{ 3, 6, 11, 1, 1, 0 },   /* other group, group bit only */
	{ 4, 7, 12, 1, 0, 1 },   /* other, world-usable */
};

static void fill_pool(void)
{
	static char names[5][8];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "o%zu", i);
		ck_assert_int_eq(insert(MKT_TABLE_APP,
					make_row(pool_rows[i][0], names[i], pool_rows[i][1],
						 pool_rows[i][2], pool_rows[i][3], pool_rows[i][4],
						 pool_rows[i][5], i < 3 ? 100 : 101)), 0);
	}
}

static const struct {
	int all, filter, start, end, parent;
	const char *expect;
} pool_cases[] = {
	{ 1, -2, -1, -1, -1, "0 1 2 3 4" },   /* admin sees all */
	{ 0, -2, -1, -1, -1, "0 2 4" },       /* permission bits */
	{ 0, -3, -1, -1, -1, "0" },           /* mine (and usable) */
	{ 0, -4, -1, -1, -1, "0 2" },         /* my group's */
	{ 0, -1, -1, -1, -1, "0 2" },         /* mine + group */
	{ 0, 7, -1, -1, -1, "4" },            /* that user */
	{ 1, -2, 1, 3, -1, "1 2 3" },         /* id range */
	{ 1, -2, -1, -1, 101, "3 4" },        /* market */
	{ 0, -2, 2, -1, 100, "2" },
};

START_TEST(test_pool_filters)
{
	int gids[] = { 10 };
	mkt_store_query q;
	collected c = { .n = 0 };
	char got[64] = "";
	int i;

	fill_pool();
	mkt_store_query_init(&q);
	q.all = pool_cases[_i].all;
	q.uid = 5;
	q.gids = gids;
	q.ngids = 1;
	q.filter = pool_cases[_i].filter;
	q.start_id = pool_cases[_i].start;
	q.end_id = pool_cases[_i].end;
	q.parent = pool_cases[_i].parent;
	ck_assert_int_eq(mkt_store_list(st, MKT_TABLE_APP, &q, collect, &c), 0);
	for (i = 0; i < c.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d", i ? " " : "", c.ids[i]);
	ck_assert_msg(!strcmp(got, pool_cases[_i].expect), "case %d: got '%s', want '%s'",
		      _i, got, pool_cases[_i].expect);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	sqlite3 *db;
	mkt_store *other = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO db_versioning(version, timestamp, comment)"
				      " VALUES (999, 0, 'future')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(mkt_store_open(&other, "sqlite", path), MKT_ERROR);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "newer than this marketd"));
	ck_assert_int_eq(mkt_store_open(&other, "nosuch", path), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "unknown DB BACKEND"));
}
END_TEST

/* A new database has 16 KiB pages: an app's ~2 KiB row left a 4 KiB page
 * half empty, and a catalog pass wrote twice the pages. */
START_TEST(test_new_database_page_size)
{
	sqlite3 *db;
	sqlite3_stmt *q;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 16384);
	sqlite3_finalize(q);
	sqlite3_close(db);
}
END_TEST

/* A cursor reads the rows as they were when it opened, in oid order,
 * whatever is written meanwhile; with the rows a listing would give. */
START_TEST(test_cursor_snapshot)
{
	mkt_store_cursor *c = NULL;
	mkt_store_query q;
	mkt_store_row row;
	int i, seen = 0;

	for (i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "a%d", i);
		ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(i, name, i % 2, 0, 1, 0, 0, -1)), 0);
	}
	mkt_store_query_init(&q);
	q.all = 0;
	q.uid = 1;                      /* sees its own rows only */
	ck_assert_int_eq(mkt_store_cursor_open(st, MKT_TABLE_APP, &q, &c), 0);
	ck_assert_int_eq(insert(MKT_TABLE_APP, make_row(7, "late", 1, 0, 1, 0, 0, -1)), 0);
	while (mkt_store_cursor_next(c, &row) == 1) {
		ck_assert_int_eq(row.uid, 1);
		ck_assert_int_eq(row.oid, 2 * seen + 1);
		ck_assert_str_eq(row.body, "<X/>");
		seen++;
	}
	ck_assert_int_eq(seen, 2);
	ck_assert_int_eq(mkt_store_cursor_next(c, &row), 0);
	mkt_store_cursor_close(c);
}
END_TEST

/* A large commit is copied back into the database file by the store's
 * checkpoint thread, not left in the WAL (nor copied by the commit). */
START_TEST(test_checkpoint_thread)
{
	char *body = mkt_malloc(4096), name[32];
	struct stat sb = { 0 };
	int i, tries;

	memset(body, 'x', 4095);
	body[4095] = '\0';
	ck_assert_int_eq(mkt_store_begin(st), 0);
	for (i = 0; i < 3000; i++) {
		mkt_store_row r = make_row(i, name, 0, 0, 1, 0, 0, -1);

		snprintf(name, sizeof(name), "app-%d", i);
		r.body = body;
		ck_assert_int_eq(mkt_store_write(st, MKT_TABLE_APP, MKT_STORE_INSERT, &r), 0);
	}
	ck_assert_int_eq(mkt_store_commit(st), 0);
	/* 3 000 rows of 4 KiB are over 12 MB: in the database file once
	 * checkpointed. */
	for (tries = 0; tries < 500; tries++) {
		ck_assert_int_eq(stat(path, &sb), 0);
		if (sb.st_size > 12 * 1024 * 1024)
			break;
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	ck_assert_msg(sb.st_size > 12 * 1024 * 1024, "database file still %lld bytes after 10 s",
		      (long long)sb.st_size);
	free(body);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("sqlite");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_insert_load_update_delete);
	tcase_add_test(tc, test_changelog_in_same_transaction);
	tcase_add_test(tc, test_unique_names);
	tcase_add_test(tc, test_changelog_read_trim);
	tcase_add_test(tc, test_changelog_by_reference);
	tcase_add_test(tc, test_retention_without_transaction);
	tcase_add_test(tc, test_apply_upserts);
	tcase_add_test(tc, test_forwarder);
	tcase_add_test(tc, test_lookup_name);
	tcase_add_test(tc, test_next_oid_never_reuses);
	tcase_add_loop_test(tc, test_pool_filters, 0,
			    (int)(sizeof(pool_cases) / sizeof(pool_cases[0])));
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_checkpoint_thread);
	tcase_add_test(tc, test_cursor_snapshot);
	tcase_add_test(tc, test_new_database_page_size);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
