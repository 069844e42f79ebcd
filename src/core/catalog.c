/*
 * catalog.c: monitor passes applied to a market's apps.
 */
#include <config.h>

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/util.h"
#include "catalog.h"
#include "market.h"
#include "marketapp.h"
#include "user.h"

/* What a pass did (shown in <MONITORING>). */
typedef struct {
	int added;
	int updated;
	int removed;
	int unchanged;
	int skipped;           /* malformed entries */
	int missing;           /* apps not in this pass, not yet removed */
	long long rows;        /* rows written: apps, catalog state, market */
	long long apply_ms;    /* writing the answer, under the lock */
	long long pass_ms;     /* the whole pass, driver included */
} mkt_catalog_stats;

/* What an answer said of the catalog as a whole (drivers.md, "Catalog
 * digests"), and whether applying it again would write nothing. */
typedef struct {
	char *digest;          /* CATALOG_DIGEST, or NULL */
	char *unchanged;       /* CATALOG_UNCHANGED, or NULL */
	int entries;           /* APP entries it held */
	int settled;           /* the same answer again would write nothing */
} answer_summary;

/* A pass's answer being applied (below). */
typedef struct feed feed;

static void feed_free(feed *f);

/* ---- status of each market's last pass ------------------------------- */

typedef enum { PASS_NONE = 0, PASS_RUNNING, PASS_DONE, PASS_FAILED } pass_state;

typedef struct {
	int market_id;
	pass_state state;
	int running;             /* a pass is in flight (state may show the last) */
	long long last_end;
	long long passes;        /* ended passes since marketd started */
	struct timespec started;
	char *message;
	mkt_catalog_stats stats;
	/* The digest of the last answer that left the market settled, and
	 * the signature of the market then: while both still hold, the
	 * driver may answer "unchanged" instead of the whole catalog.  In
	 * memory only: after a restart the first pass is a whole one. */
	char *digest;
	unsigned char signature[32];
	int settled_apps;        /* apps the catalog had then */
	int digest_sent;         /* this pass's document carried it */
	feed *feed;              /* the answer being applied as it comes */
} market_status;

struct mkt_catalog_status {
	market_status *v;
	size_t n;
};

static const char *const pass_state_names[] = {
	[PASS_NONE] = "", [PASS_RUNNING] = "RUNNING", [PASS_DONE] = "DONE",
	[PASS_FAILED] = "FAILED",
};

static market_status *status_of(mkt_core *core, int market_id, int create)
{
	mkt_catalog_status *cs;
	size_t i;

	if (!core->catalog) {
		if (!create)
			return NULL;
		core->catalog = mkt_calloc(1, sizeof(*core->catalog));
	}
	cs = core->catalog;
	for (i = 0; i < cs->n; i++) {
		if (cs->v[i].market_id == market_id)
			return &cs->v[i];
	}
	if (!create)
		return NULL;
	cs->v = mkt_realloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	memset(&cs->v[cs->n], 0, sizeof(cs->v[cs->n]));
	cs->v[cs->n].market_id = market_id;
	return &cs->v[cs->n++];
}

static void forget_status(mkt_core *core, int market_id)
{
	mkt_catalog_status *cs = core->catalog;
	size_t i;

	for (i = 0; cs && i < cs->n; i++) {
		if (cs->v[i].market_id != market_id)
			continue;
		free(cs->v[i].message);
		free(cs->v[i].digest);
		feed_free(cs->v[i].feed);
		cs->v[i] = cs->v[--cs->n];
		return;
	}
}

void mkt_catalog_free_status(mkt_core *core)
{
	size_t i;

	if (!core->catalog)
		return;
	for (i = 0; i < core->catalog->n; i++) {
		free(core->catalog->v[i].message);
		free(core->catalog->v[i].digest);
		feed_free(core->catalog->v[i].feed);
	}
	free(core->catalog->v);
	free(core->catalog);
	core->catalog = NULL;
}

void mkt_catalog_format_status(mkt_core *core, int market_id, mkt_buf *b)
{
	const market_status *s = status_of(core, market_id, 0);
	pass_state st;

	if (!s || (s->state == PASS_NONE && !s->running))
		return;
	st = s->running ? PASS_RUNNING : s->state;
	mkt_buf_add(b, "<MONITORING>");
	mkt_buf_add_elem(b, "STATE", pass_state_names[st]);
	mkt_buf_add_elem_int(b, "LAST_MONITOR", s->last_end);
	mkt_buf_add_elem_int(b, "PASSES", s->passes);
	mkt_buf_add_elem(b, "MESSAGE", s->message ? s->message : "");
	mkt_buf_add_elem_int(b, "APPS_ADDED", s->stats.added);
	mkt_buf_add_elem_int(b, "APPS_UPDATED", s->stats.updated);
	mkt_buf_add_elem_int(b, "APPS_REMOVED", s->stats.removed);
	mkt_buf_add_elem_int(b, "APPS_UNCHANGED", s->stats.unchanged);
	mkt_buf_add_elem_int(b, "APPS_SKIPPED", s->stats.skipped);
	mkt_buf_add_elem_int(b, "APPS_MISSING", s->stats.missing);
	mkt_buf_add_elem_int(b, "ROWS_WRITTEN", s->stats.rows);
	mkt_buf_add_elem_int(b, "PASS_MS", s->stats.pass_ms);
	mkt_buf_add_elem_int(b, "APPLY_MS", s->stats.apply_ms);
	mkt_buf_add(b, "</MONITORING>");
}

/* ---- signatures ---------------------------------------------------------- */

typedef struct {
	EVP_MD_CTX *ctx;
	int rows;
} signing;

static int sign_row(const mkt_store_catalog_row *row, void *payload)
{
	signing *sg = payload;
	char head[48];

	snprintf(head, sizeof(head), "%d %d ", row->oid, row->missing);
	EVP_DigestUpdate(sg->ctx, head, strlen(head));
	EVP_DigestUpdate(sg->ctx, row->key, strlen(row->key) + 1);
	EVP_DigestUpdate(sg->ctx, row->digest, strlen(row->digest) + 1);
	sg->rows++;
	return 0;
}

/*
 * What a pass's outcome depends on besides the driver's answer: the
 * market's attributes (the driver's input) and the catalog rows of its
 * apps (what each entry is matched with).  A user deleting an app, or
 * changing the market, changes it.
 */
static int market_signature(mkt_core *core, const mkt_object *market, unsigned char out[32],
			    int *rows)
{
	signing sg = { EVP_MD_CTX_new(), 0 };
	mkt_buf text = MKT_BUF_INIT;
	unsigned int len = 0;
	int ret;

	if (!sg.ctx)
		return mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "cannot sign the catalog state: out of memory");
	mkt_template_format_text(market->tmpl, &text);
	EVP_DigestInit_ex(sg.ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(sg.ctx, text.ptr ? text.ptr : "", text.len + 1);
	if ((ret = mkt_store_catalog_list(core->store, market->id, sign_row, &sg)) == 0) {
		EVP_DigestFinal_ex(sg.ctx, out, &len);
		*rows = sg.rows;
	}
	EVP_MD_CTX_free(sg.ctx);
	mkt_buf_free(&text);
	return ret;
}

/* drivers.md: a digest is up to 128 letters, digits and "+/=_.:-"; any
 * other is not kept (every pass is then a whole one). */
static int digest_token(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.:-") == n;
}

static void forget_digest(market_status *s)
{
	free(s->digest);
	s->digest = NULL;
}

void mkt_catalog_pass_clear(mkt_catalog_pass *p)
{
	free(p->mad);
	free(p->digest);
	memset(p, 0, sizeof(*p));
}

int mkt_catalog_begin_pass(mkt_core *core, int market_id, mkt_catalog_pass *out)
{
	const mkt_market_mad_conf *conf;
	mkt_object *obj = NULL;
	mkt_market *m;
	market_status *s;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = mkt_object_load(core, &mkt_market_class, market_id, &obj)) < 0)
		return ret;
	m = (mkt_market *)obj;
	if ((ret = mkt_market_get_mad_conf(core, m, &conf)) < 0)
		goto cleanup;
	if (!(conf->app_actions & MKT_APP_ACTION_MONITOR))
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Monitor disabled for market: %s (its driver %s does not list monitor in APP_ACTIONS)",
				    obj->name, m->mad);
	else if (m->state != MKT_MARKET_ENABLED)
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "Marketplace %s is disabled",
				    obj->name);
	else if (m->zone_id != core->conf->zone_id)
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Marketplace %d is in zone %d, not in this zone (%d): only its "
				    "own zone monitors it", market_id, m->zone_id, core->conf->zone_id);
	if (ret < 0)
		goto cleanup;
	s = status_of(core, market_id, 1);
	if (s->running) {
		ret = 1;
		goto cleanup;
	}
	s->digest_sent = 0;
	if (s->digest) {
		unsigned char now[32];
		int rows;

		if ((ret = market_signature(core, obj, now, &rows)) < 0)
			goto cleanup;
		if (memcmp(now, s->signature, sizeof(now)) == 0) {
			out->digest = mkt_strdup(s->digest);
			s->digest_sent = 1;
		} else {
			forget_digest(s);
		}
	}
	s->running = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	out->mad = mkt_strdup(m->mad);
	out->imports = (conf->app_actions & MKT_APP_ACTION_CREATE) != 0;

 cleanup:
	mkt_object_free(&mkt_market_class, obj);
	return ret;
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* ---- reconciling ------------------------------------------------------ */

/* An app the market's catalog made, as the store remembers it, or an
 * entry this pass added (oid -1, no digest). */
typedef struct {
	int oid;
	char *key;
	char *digest;
	int missing;
	int seen;
} known_app;

typedef struct {
	mkt_core *core;
	int market_id;
	char *market_name;
	char *uname;             /* oneadmin's current names */
	char *gname;
	/* The market's catalog apps, then the keys this pass added: an app
	 * is seen once an entry listed its key.  The maps borrow the apps'
	 * strings (a 100 000-app pass holds ~15 MiB, not ~50). */
	known_app *apps;
	size_t n, cap;
	mkt_strmap *by_digest;   /* digest -> index in apps */
	mkt_strmap *by_key;      /* key -> index in apps */
	mkt_catalog_stats *stats;
	int unstable;            /* the same answer again would write again */
} pass;

/* Append an app to the pass, known by its key (and by its digest, when
 * given). */
static known_app *add_known(pass *p, int oid, const char *key, const char *digest, int missing,
			    int seen)
{
	known_app *k;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->apps = mkt_realloc(p->apps, p->cap * sizeof(*p->apps));
	}
	k = &p->apps[p->n];
	k->oid = oid;
	k->key = mkt_strdup(key);
	k->digest = mkt_strdup(digest);
	k->missing = missing;
	k->seen = seen;
	if (k->digest)
		mkt_strmap_put(p->by_digest, k->digest, (int)p->n);
	mkt_strmap_put(p->by_key, k->key, (int)p->n);
	p->n++;
	return k;
}

static int collect_known(const mkt_store_catalog_row *row, void *payload)
{
	pass *p = payload;

	if (p->n >= INT_MAX)
		return mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "market %d has too many apps",
				     p->market_id);
	add_known(p, row->oid, row->key, row->digest, row->missing, 0);
	return 0;
}

static void pass_clear(pass *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->apps[i].key);
		free(p->apps[i].digest);
	}
	free(p->apps);
	free(p->market_name);
	free(p->uname);
	free(p->gname);
	mkt_strmap_free(p->by_digest);
	mkt_strmap_free(p->by_key);
}

/* The digest of an entry is that of its text as the driver printed it:
 * equal text, equal app, nothing to write. */
static void entry_digest(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
	mkt_util_hex(md, len < 32 ? len : 32, out);
}

/* The catalog key of an entry: its IMPORT_ID, else its NAME. */
static char *entry_key(const mkt_template *t)
{
	const char *id = mkt_template_get(t, "IMPORT_ID");

	if (id && *id && strcmp(id, "-1") != 0)
		return mkt_asprintf("id:%s", id);
	return mkt_asprintf("name:%s", mkt_template_get(t, "NAME") ? mkt_template_get(t, "NAME") : "");
}

/* A name for a new app: the entry's, or when oneadmin already has an app
 * of that name (another market's, or one of its own uploads), the name
 * qualified with the market's. */
static int pick_name(pass *p, mkt_app *a, int self)
{
	char *alt;
	int ret;

	if ((ret = mkt_object_check_name(p->core, &mkt_app_class, a->obj.name,
					 a->obj.uid, self)) != MKT_EEXISTS)
		return ret;
	mkt_error_clear();
	alt = mkt_asprintf("%s (%s)", a->obj.name, p->market_name);
	if ((ret = mkt_object_check_name(p->core, &mkt_app_class, alt, a->obj.uid, self)) == 0) {
		free(a->obj.name);
		a->obj.name = alt;
		return 0;
	}
	free(alt);
	return ret;
}

static int write_catalog_row(pass *p, mkt_store_op op, int oid, const char *key,
			     const char *digest, int missing)
{
	mkt_store_catalog_row row = { .oid = oid, .market = p->market_id, .key = key,
				      .digest = digest, .missing = missing };

	p->stats->rows++;
	return mkt_store_catalog_write(p->core->store, op, &row);
}

static int add_app(pass *p, mkt_template *t, const char *key, const char *digest)
{
	/* oned's umask 133 for discovered apps: everyone may use them. */
	static const unsigned char perms[MKT_PERM_BITS] = { 1, 1, 0, 1, 0, 0, 1, 0, 0 };
	mkt_app *a = mkt_calloc(1, sizeof(*a));
	int ret;

	a->obj.tmpl = mkt_template_new();
	a->obj.uid = MKT_ONEADMIN_UID;
	if ((ret = mkt_app_set_catalog_entry(a, t)) < 0 ||
	    (ret = pick_name(p, a, -1)) < 0)
		goto cleanup;
	a->obj.gid = MKT_ONEADMIN_GID;
	a->obj.uname = mkt_strdup(p->uname);
	a->obj.gname = mkt_strdup(p->gname);
	memcpy(a->obj.perms, perms, sizeof(perms));
	a->zone_id = p->core->conf->zone_id;
	a->market_id = p->market_id;
	a->market_name = mkt_strdup(p->market_name);
	if ((ret = mkt_store_next_oid(p->core->store, MKT_TABLE_APP, 0, &a->obj.id)) < 0 ||
	    (ret = mkt_object_save(p->core, &mkt_app_class, &a->obj, MKT_STORE_INSERT)) < 0 ||
	    (ret = write_catalog_row(p, MKT_STORE_INSERT, a->obj.id, key, digest, 0)) < 0)
		goto cleanup;
	p->stats->rows++;
	p->stats->added++;

 cleanup:
	mkt_object_free(&mkt_app_class, &a->obj);
	return ret;
}

static int update_app(pass *p, int oid, mkt_template *t, const char *key, const char *digest)
{
	mkt_object *obj = NULL;
	char *old_name = NULL;
	int ret;

	if ((ret = mkt_object_load(p->core, &mkt_app_class, oid, &obj)) < 0) {
		mkt_template_free(t);
		return ret;
	}
	old_name = mkt_strdup(obj->name);
	if ((ret = mkt_app_set_catalog_entry((mkt_app *)obj, t)) < 0)
		goto cleanup;
	/* A renamed entry keeps the app's name while the new one is taken;
	 * no digest is kept then, so the next pass tries again. */
	if (strcmp(old_name, obj->name) != 0 && pick_name(p, (mkt_app *)obj, oid) < 0) {
		mkt_error_clear();
		free(obj->name);
		obj->name = old_name;
		old_name = NULL;
		digest = "";
		p->unstable = 1;
	}
	if ((ret = mkt_object_save(p->core, &mkt_app_class, obj, MKT_STORE_UPDATE)) < 0 ||
	    (ret = write_catalog_row(p, MKT_STORE_UPDATE, oid, key, digest, 0)) < 0)
		goto cleanup;
	p->stats->rows++;
	p->stats->updated++;

 cleanup:
	free(old_name);
	mkt_object_free(&mkt_app_class, obj);
	return ret;
}

/* An entry waiting for its batch: a new app, a changed one, or an unchanged
 * one whose app was counted missing. */
typedef enum { ENTRY_ADD, ENTRY_UPDATE, ENTRY_FOUND } entry_op;

typedef struct {
	entry_op op;
	int oid;                 /* its app (-1: a new one) */
	const char *key;         /* its key (borrowed from pass.apps) */
	size_t nth;              /* its place in the answer, for messages */
	mkt_template *t;         /* ENTRY_ADD, ENTRY_UPDATE (owned) */
	char digest[65];
} pending;

static int skip_entry(pass *p, size_t nth)
{
	mkt_log(MKT_LOG_WARN, "monitor", "market %d: APP entry %zu skipped: %s",
		p->market_id, nth, mkt_error_message());
	mkt_error_clear();
	p->stats->skipped++;
	return 1;
}

/*
 * One APP entry of the answer, told apart from what the market already
 * has: its digest and key are matched in memory only (no lock needed),
 * what must be written goes to @out (returns 0).  1 when there is nothing
 * to write: the entry is unchanged (*usable set), or it is bad (logged and
 * skipped).
 */
static int classify_entry(pass *p, size_t nth, const char *b64, pending *out, int *usable)
{
	mkt_template *t = NULL;
	char *key = NULL;
	int idx, known;

	out->nth = nth;
	entry_digest(b64, out->digest);
	if (mkt_strmap_get(p->by_digest, out->digest, &idx) && !p->apps[idx].seen) {
		known_app *k = &p->apps[idx];

		k->seen = 1;
		p->stats->unchanged++;
		*usable = 1;
		if (k->missing == 0)
			return 1;
		k->missing = 0;
		out->op = ENTRY_FOUND;
		out->oid = k->oid;
		out->key = k->key;
		snprintf(out->digest, sizeof(out->digest), "%s", k->digest);
		out->t = NULL;
		return 0;
	}
	if (mkt_template_parse_base64(&t, b64) < 0)
		return skip_entry(p, nth);
	key = entry_key(t);
	/* The first entry of a key wins, so the answer means the same thing
	 * every pass (and an unchanged one writes nothing). */
	known = mkt_strmap_get(p->by_key, key, &idx);
	if (known && p->apps[idx].seen) {
		mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "%s %s was already listed",
			      strncmp(key, "id:", 3) ? "NAME" : "IMPORT_ID", key + (key[0] == 'i' ? 3 : 5));
		goto skip;
	}
	if (!known) {
		/* Seen from now on, whether or not it can be added. */
		if (p->n >= INT_MAX) {
			mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "too many entries");
			goto skip;
		}
		out->op = ENTRY_ADD;
		out->oid = -1;
		out->key = add_known(p, -1, key, NULL, 0, 1)->key;
	} else {
		p->apps[idx].seen = 1;
		out->op = ENTRY_UPDATE;
		out->oid = p->apps[idx].oid;
		out->key = p->apps[idx].key;
	}
	out->t = t;
	free(key);
	return 0;

 skip:
	mkt_template_free(t);
	free(key);
	return skip_entry(p, nth);
}

/* Write one entry (in the batch's transaction).  0 when it landed, 1 when
 * it was skipped (a bad entry, a name taken, its app deleted meanwhile);
 * only store failures fail the pass.  Uses only @e and @p's names, never
 * its apps: the next batch is matched meanwhile. */
static int apply_entry(pass *p, pending *e)
{
	mkt_template *t = MKT_STEAL(e->t);
	int ret;

	switch (e->op) {
	case ENTRY_FOUND:
		return write_catalog_row(p, MKT_STORE_UPDATE, e->oid, e->key, e->digest, 0);
	case ENTRY_ADD:
		ret = add_app(p, t, e->key, e->digest);
		break;
	default:
		ret = update_app(p, e->oid, t, e->key, e->digest);
		break;
	}
	if (ret == MKT_EINVAL || ret == MKT_EEXISTS || ret == MKT_ENOTFOUND)
		return skip_entry(p, e->nth);
	return ret;
}

/* A broker's plan that left the catalog while instances of it remain is
 * kept, DISABLED (no new instance), until they are gone: their updates and
 * deprovisions need it.  1 when kept. */
static int keep_inactive(pass *p, known_app *k)
{
	mkt_object *obj = NULL;
	int n = 0, ret;

	if ((ret = mkt_object_count_children(p->core, MKT_TABLE_INSTANCE, k->oid, &n)) < 0 || n == 0)
		return ret;
	/* Looked at again every pass, until its instances are gone. */
	p->unstable = 1;
	if ((ret = mkt_object_load(p->core, &mkt_app_class, k->oid, &obj)) < 0)
		return ret;
	if (((mkt_app *)obj)->state != MKT_APP_DISABLED) {
		((mkt_app *)obj)->state = MKT_APP_DISABLED;
		mkt_template_set(obj->tmpl, "INACTIVE", "YES");
		/* No entry's digest: when the plan comes back it is an update,
		 * which makes the app READY again. */
		if ((ret = mkt_object_save(p->core, &mkt_app_class, obj, MKT_STORE_UPDATE)) == 0 &&
		    (ret = write_catalog_row(p, MKT_STORE_UPDATE, k->oid, k->key, "inactive",
					     k->missing)) == 0) {
			p->stats->rows++;
			mkt_log(MKT_LOG_INFO, "monitor", "market %d: app %d (%s) left the catalog but "
				"%d service instance(s) of it remain: kept, DISABLED", p->market_id,
				k->oid, k->key, n);
		}
	}
	mkt_object_free(&mkt_app_class, obj);
	return ret < 0 ? ret : 1;
}

/* Apps of earlier passes that this one did not list. */
static int age_missing(pass *p)
{
	mkt_store_row row = { 0 };
	size_t i;
	int ret = 0;

	for (i = 0; i < p->n && ret == 0; i++) {
		known_app *k = &p->apps[i];

		if (k->seen)
			continue;
		if (++k->missing < MKT_CATALOG_MAX_MISSING) {
			p->stats->missing++;
			ret = write_catalog_row(p, MKT_STORE_UPDATE, k->oid, k->key, k->digest,
						k->missing);
			continue;
		}
		if ((ret = keep_inactive(p, k)) == 0) {
			row.oid = k->oid;
			ret = mkt_store_write(p->core->store, MKT_TABLE_APP, MKT_STORE_DELETE, &row);
			if (ret == 0) {
				p->stats->rows++;
				p->stats->removed++;
				mkt_log(MKT_LOG_INFO, "monitor", "market %d: app %d (%s) left the catalog %d passes ago: removed",
					p->market_id, k->oid, k->key, MKT_CATALOG_MAX_MISSING);
			}
		}
		/* Kept, or deleted by a user while the pass ran. */
		if (ret > 0 || ret == MKT_ENOTFOUND) {
			mkt_error_clear();
			ret = 0;
		}
	}
	return ret;
}

/* TOTAL_MB, FREE_MB and USED_MB, when given, written only when changed. */
static int update_capacity(pass *p, mkt_market *m, const mkt_template *result)
{
	static const struct { const char *attr; size_t off; } sizes[] = {
		{ "TOTAL_MB", offsetof(mkt_market, total_mb) },
		{ "FREE_MB", offsetof(mkt_market, free_mb) },
		{ "USED_MB", offsetof(mkt_market, used_mb) },
	};
	int changed = 0;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long long *field = (long long *)((char *)m + sizes[i].off), v;

		if (!mkt_template_get(result, sizes[i].attr))
			continue;
		if (mkt_template_get_long(result, sizes[i].attr, &v) < 0 || v < 0) {
			mkt_log(MKT_LOG_WARN, "monitor", "market %d: %s '%s' is not a size in MB: ignored",
				p->market_id, sizes[i].attr, mkt_template_get(result, sizes[i].attr));
			mkt_error_clear();
			continue;
		}
		if (*field != v) {
			*field = v;
			changed = 1;
		}
	}
	if (!changed)
		return 0;
	p->stats->rows++;
	return mkt_object_save(p->core, &mkt_market_class, &m->obj, MKT_STORE_UPDATE);
}

static int load_owner_names(pass *p)
{
	int ret;

	if ((ret = mkt_user_name(p->core, MKT_ONEADMIN_UID, &p->uname)) < 0)
		return ret;
	return mkt_group_name(p->core, MKT_ONEADMIN_GID, &p->gname);
}

/* ---- feeding a pass its answer ------------------------------------------ */

/* Entries written per transaction, under the core lock: a batch of new
 * apps holds it for ~15 ms, so nobody waits long for a large catalog (256
 * made a 100 000-app first pass 40 % slower).  A batch's pending entries
 * are ~1 MiB; two are in memory (one matched while one is written). */
#define BATCH_ENTRIES 512

/* Each attribute entry of a stream may be this long (a base64 APP). */
#define ENTRY_MAX ((size_t)4 << 20)

/* A pass over this many entries gives its memory back when it ends. */
#define TRIM_ENTRIES 10000

/*
 * The application of one pass's answer, as it comes: entries are matched
 * without the core lock and written in batches of their own transaction
 * (a failed pass keeps what it wrote, and removes nothing: only a whole
 * answer can tell that an app is gone).  The rest of the answer (capacity,
 * digests) is applied when the pass ends.
 *
 * A feed of a driver's output matches on its thread and writes on another
 * (the writer), a batch at a time: the two halves of the work overlap.
 * The matching side owns p (the market's apps, the maps); the writer owns
 * w (the names, its counts) and the batch handed to it.
 */
struct feed {
	pass p;                       /* matching */
	pass w;                       /* writing: no apps, names of its own */
	mkt_catalog_stats stats;      /* p's counts */
	mkt_catalog_stats wstats;     /* w's counts, added to stats at the end */
	answer_summary sum;
	mkt_template *rest;           /* the answer's other attributes */
	pthread_mutex_t *lock;        /* taken per batch; NULL: the caller holds it */
	int ready;                    /* the market's apps are known */
	int usable;                   /* an entry landed or was unchanged */
	size_t nth;                   /* APP entries so far */
	pending batch[2][BATCH_ENTRIES];
	int cur;                      /* the batch being filled */
	size_t nbatch;
	/* The newest change log entry after our last write: another one
	 * means someone changed something while the pass ran, and the same
	 * answer again might write again. */
	long long log_mark;
	int ret;                      /* the first failure (nothing applied after it) */
	char *error;
	/* The writer thread, and the batch handed to it (under hand). */
	int writer_on;
	pthread_t writer;
	pthread_mutex_t hand;
	pthread_cond_t handed_cv;
	pending *handed;
	size_t nhanded;
	int stop;
	int wret;                     /* the writer's failure */
	char *werror;
	int wusable;
};

static feed *feed_new(mkt_core *core, int market_id, pthread_mutex_t *lock)
{
	feed *f = mkt_calloc(1, sizeof(*f));

	f->p.core = f->w.core = core;
	f->p.market_id = f->w.market_id = market_id;
	f->p.stats = &f->stats;
	f->w.stats = &f->wstats;
	f->rest = mkt_template_new();
	f->lock = lock;
	pthread_mutex_init(&f->hand, NULL);
	pthread_cond_init(&f->handed_cv, NULL);
	return f;
}

static void feed_free(feed *f)
{
	size_t i;
	int b;

	if (!f)
		return;
	for (b = 0; b < 2; b++) {
		for (i = 0; i < BATCH_ENTRIES; i++)
			mkt_template_free(f->batch[b][i].t);
	}
	pass_clear(&f->p);
	pass_clear(&f->w);
	mkt_template_free(f->rest);
	free(f->sum.digest);
	free(f->sum.unchanged);
	free(f->error);
	free(f->werror);
	pthread_cond_destroy(&f->handed_cv);
	pthread_mutex_destroy(&f->hand);
	/* A large catalog's maps are tens of MiB, freed in pieces glibc keeps. */
	if (f->nth >= TRIM_ENTRIES)
		mkt_alloc_trim();
	free(f);
}

static void feed_lock(feed *f)
{
	if (f->lock)
		pthread_mutex_lock(f->lock);
}

static void feed_unlock(feed *f)
{
	if (f->lock)
		pthread_mutex_unlock(f->lock);
}

static int feed_fail(feed *f, int ret)
{
	if (f->ret == 0) {
		f->ret = ret;
		f->error = mkt_strdup(mkt_error_message());
	}
	return ret;
}

/* The market, as it is now: still there and enabled. */
static int load_market(feed *f, mkt_object **out)
{
	int ret;

	if ((ret = mkt_object_load(f->w.core, &mkt_market_class, f->w.market_id, out)) < 0)
		return ret;
	/* Disabled meanwhile: its catalog apps are gone and stay gone. */
	if (((mkt_market *)*out)->state != MKT_MARKET_ENABLED)
		return mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				     "marketplace %d was disabled during the pass: its answer was not applied",
				     f->w.market_id);
	free(f->w.market_name);
	f->w.market_name = mkt_strdup((*out)->name);
	return 0;
}

/* Writes by others since our last one (the lock is held). */
static void check_log(feed *f)
{
	long long last = 0;

	if (mkt_store_changelog_last(f->w.core->store, &last) < 0)
		mkt_error_clear();
	if (last != f->log_mark)
		f->w.unstable = 1;
}

static void mark_log(feed *f)
{
	if (mkt_store_changelog_last(f->w.core->store, &f->log_mark) < 0)
		mkt_error_clear();
}

/* Before the first entry: the market's apps, as the store has them. */
static int feed_load(feed *f)
{
	mkt_object *obj = NULL;
	int ret;

	feed_lock(f);
	f->p.by_digest = mkt_strmap_new_borrowing();
	f->p.by_key = mkt_strmap_new_borrowing();
	if ((ret = load_market(f, &obj)) == 0 &&
	    (ret = load_owner_names(&f->w)) == 0 &&
	    (ret = mkt_store_catalog_list(f->p.core->store, f->p.market_id, collect_known,
					  &f->p)) == 0) {
		mark_log(f);
		f->ready = 1;
	}
	mkt_object_free(&mkt_market_class, obj);
	feed_unlock(f);
	return ret;
}

/* Write @n entries of @v in one transaction (and free their templates);
 * 1 when one of them landed. */
static int write_batch(feed *f, pending *v, size_t n)
{
	mkt_catalog_stats before = f->wstats;
	mkt_object *obj = NULL;
	struct timespec t0;
	size_t i;
	int ret, usable = 0;

	feed_lock(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_log(f);
	/* A pass is hundreds of batches: one sync at its end (feed_finish's
	 * commit) instead of one per batch.  A crash loses a few batches at
	 * most, which the next pass writes again. */
	if ((ret = mkt_store_set_durable(f->w.core->store, 0)) == 0 &&
	    (ret = mkt_core_begin(f->w.core)) == 0) {
		ret = load_market(f, &obj);
		for (i = 0; ret >= 0 && i < n; i++) {
			if ((ret = apply_entry(&f->w, &v[i])) == 0)
				usable = 1;
		}
		ret = mkt_core_end(f->w.core, ret < 0 ? ret : 0);
	}
	if (mkt_store_set_durable(f->w.core->store, 1) < 0 && ret == 0)
		ret = MKT_ERROR;
	if (ret == 0)
		mark_log(f);
	else
		f->wstats = before;     /* rolled back */
	f->wstats.apply_ms += elapsed_ms(&t0);
	feed_unlock(f);
	mkt_object_free(&mkt_market_class, obj);
	for (i = 0; i < n; i++) {
		mkt_template_free(v[i].t);
		v[i].t = NULL;
	}
	return ret < 0 ? ret : usable;
}

static void *writer_main(void *arg)
{
	feed *f = arg;

	pthread_mutex_lock(&f->hand);
	for (;;) {
		pending *v;
		size_t n;
		int ret;

		while (!f->handed && !f->stop)
			pthread_cond_wait(&f->handed_cv, &f->hand);
		if (!f->handed)
			break;
		v = f->handed;
		n = f->nhanded;
		pthread_mutex_unlock(&f->hand);
		ret = write_batch(f, v, n);
		pthread_mutex_lock(&f->hand);
		if (ret < 0 && f->wret == 0) {
			f->wret = ret;
			f->werror = mkt_strdup(mkt_error_message());
		}
		f->wusable |= ret > 0;
		f->handed = NULL;
		pthread_cond_broadcast(&f->handed_cv);
	}
	pthread_mutex_unlock(&f->hand);
	return NULL;
}

/* The entries matched so far go to be written: to the writer (once it
 * wrote the batch before) or, without one, here. */
static void writer_stop(feed *f);

static int feed_flush(feed *f)
{
	size_t i;
	int ret, failed;

	if (f->nbatch == 0 || f->ret < 0)
		return f->ret;
	if (!f->writer_on) {
		if ((ret = write_batch(f, f->batch[f->cur], f->nbatch)) < 0)
			feed_fail(f, ret);
		f->usable |= ret > 0;
		f->nbatch = 0;
		return f->ret;
	}
	pthread_mutex_lock(&f->hand);
	while (f->handed)
		pthread_cond_wait(&f->handed_cv, &f->hand);
	failed = f->wret < 0;
	if (!failed) {
		f->handed = f->batch[f->cur];
		f->nhanded = f->nbatch;
		pthread_cond_broadcast(&f->handed_cv);
		f->cur ^= 1;
	}
	pthread_mutex_unlock(&f->hand);
	if (failed) {
		/* Nothing after the writer's failure is written. */
		for (i = 0; i < f->nbatch; i++) {
			mkt_template_free(f->batch[f->cur][i].t);
			f->batch[f->cur][i].t = NULL;
		}
		writer_stop(f);
	}
	f->nbatch = 0;
	return f->ret;
}

/* The writer wrote all it was given: its outcome joins the feed's. */
static void writer_stop(feed *f)
{
	if (!f->writer_on)
		return;
	pthread_mutex_lock(&f->hand);
	f->stop = 1;
	pthread_cond_broadcast(&f->handed_cv);
	pthread_mutex_unlock(&f->hand);
	pthread_join(f->writer, NULL);
	f->writer_on = 0;
	f->usable |= f->wusable;
	if (f->wret < 0 && f->ret == 0) {
		f->ret = f->wret;
		f->error = MKT_STEAL(f->werror);
	}
}

/* The writer's counts join the feed's (once it wrote its last batch). */
static void feed_merge(feed *f)
{
	f->stats.added += f->wstats.added;
	f->stats.updated += f->wstats.updated;
	f->stats.skipped += f->wstats.skipped;
	f->stats.rows += f->wstats.rows;
	f->stats.apply_ms += f->wstats.apply_ms;
	memset(&f->wstats, 0, sizeof(f->wstats));
	f->p.unstable |= f->w.unstable;
	f->w.unstable = 0;
}

/* One attribute of the answer: an APP entry is matched and may wait for
 * its batch; the others are kept for the end of the pass. */
static int feed_attr(feed *f, const char *name, const char *value, int vector)
{
	int ret, usable = 0;

	if (strcmp(name, "APP") != 0) {
		if (!vector)
			mkt_template_set(f->rest, name, value);
		return 0;
	}
	f->nth++;
	f->sum.entries++;
	if (!f->ready && (ret = feed_load(f)) < 0)
		return feed_fail(f, ret);
	if (vector) {
		mkt_log(MKT_LOG_WARN, "monitor", "market %d: APP entry %zu skipped: "
			"a vector, not a base64 template", f->p.market_id, f->nth);
		f->stats.skipped++;
		return 0;
	}
	ret = classify_entry(&f->p, f->nth, value, &f->batch[f->cur][f->nbatch], &usable);
	f->usable |= usable;
	if (ret == 0 && ++f->nbatch == BATCH_ENTRIES)
		return feed_flush(f);
	return 0;
}

static int feed_tattr(feed *f, const mkt_tattr *a)
{
	return feed_attr(f, mkt_tattr_name(a), mkt_tattr_value(a), mkt_tattr_is_vector(a));
}

/* The template text of a driver's stdout, one attribute at a time (a
 * catalog of 100 000 apps is ~110 MB of APP lines: only one entry is in
 * memory at a time, and an APP line goes to its entry unparsed). */
static void feed_stream(feed *f, mkt_template_read_fn read, void *src)
{
	mkt_template_reader *r = mkt_template_reader_new(read, src, ENTRY_MAX);
	mkt_template *chunk = NULL;
	const char *name, *value;
	size_t i, nth = 0;
	int ret;

	while (f->ret == 0) {
		nth++;
		if ((ret = mkt_template_reader_next(r, &name, &value, &chunk)) == 0)
			break;
		/* Noise on stdout fails the pass, as a whole answer that does
		 * not parse does: nothing after it is applied. */
		if (ret == MKT_EINVAL) {
			mkt_error_set(MKT_EDRIVER, MKT_ERR_DRIVER, "driver printed something that is "
				      "neither template text nor XML on stdout (entry %zu): %s",
				      nth, mkt_error_message());
			ret = MKT_EDRIVER;
		}
		if (ret < 0) {
			feed_fail(f, ret);
			break;
		}
		if (!chunk) {
			feed_attr(f, name, value, 0);
			continue;
		}
		for (i = 0; f->ret == 0 && i < mkt_template_size(chunk); i++)
			feed_tattr(f, mkt_template_at(chunk, i));
		mkt_template_free(chunk);
		chunk = NULL;
	}
	mkt_template_reader_free(r);
	feed_flush(f);
	writer_stop(f);
}

/* The answer is whole: what only a whole answer tells (apps gone from the
 * catalog), and the rest of it (capacity, digests), in one transaction. */
static int feed_finish(feed *f)
{
	mkt_object *obj = NULL;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_log(f);
	if ((ret = mkt_core_begin(f->p.core)) < 0)
		return ret;
	if ((ret = load_market(f, &obj)) < 0)
		goto cleanup;
	/* Only a pass that listed apps can tell that one is gone. */
	if (f->usable && (ret = age_missing(&f->p)) < 0)
		goto cleanup;
	if ((ret = update_capacity(&f->p, (mkt_market *)obj, f->rest)) < 0)
		goto cleanup;
	if (mkt_template_get(f->rest, "CATALOG_DIGEST"))
		f->sum.digest = mkt_strdup(mkt_template_get(f->rest, "CATALOG_DIGEST"));
	if (mkt_template_get(f->rest, "CATALOG_UNCHANGED"))
		f->sum.unchanged = mkt_strdup(mkt_template_get(f->rest, "CATALOG_UNCHANGED"));
	f->sum.settled = f->stats.missing == 0 && !f->p.unstable && !f->w.unstable;

 cleanup:
	ret = mkt_core_end(f->p.core, ret < 0 ? ret : 0);
	f->stats.apply_ms += elapsed_ms(&t0);
	if (ret == 0 && (f->stats.added || f->stats.updated || f->stats.removed || f->stats.skipped))
		mkt_log(MKT_LOG_INFO, "monitor", "market %d: %d app(s) added, %d updated, %d removed, "
			"%d unchanged, %d skipped, %d missing; %lld row(s) written in %lld ms",
			f->p.market_id, f->stats.added, f->stats.updated, f->stats.removed,
			f->stats.unchanged, f->stats.skipped, f->stats.missing, f->stats.rows,
			f->stats.apply_ms);
	mkt_object_free(&mkt_market_class, obj);
	return ret;
}

/* ---- the end of a pass ---------------------------------------------------- */

void mkt_catalog_feed(mkt_core *core, int market_id, mkt_template_read_fn read, void *src)
{
	market_status *s;
	feed *f;

	pthread_mutex_lock(&core->lock);
	s = status_of(core, market_id, 0);
	if (!s || !s->running || s->feed) {
		pthread_mutex_unlock(&core->lock);
		return;
	}
	f = s->feed = feed_new(core, market_id, &core->lock);
	pthread_mutex_unlock(&core->lock);
	/* Without a writer thread the batches are written here, in turn. */
	f->writer_on = pthread_create(&f->writer, NULL, writer_main, f) == 0;
	/* Nothing else touches the feed until the pass ends: end_pass runs
	 * after this returned. */
	feed_stream(f, read, src);
}

void mkt_catalog_feed_idle(mkt_core *core, int market_id)
{
	market_status *s;
	feed *f;

	pthread_mutex_lock(&core->lock);
	s = status_of(core, market_id, 0);
	f = s ? s->feed : NULL;
	pthread_mutex_unlock(&core->lock);
	/* Only the feeding thread (this one) uses it until the pass ends. */
	if (f)
		feed_flush(f);
}

int mkt_catalog_end_pass(mkt_core *core, int market_id, const mkt_template *result,
			 const char *error)
{
	market_status *s = status_of(core, market_id, 1);
	feed *f = s->feed;
	char bad[160];
	size_t i;
	int ret = 0;

	s->feed = NULL;
	if (!f)
		f = feed_new(core, market_id, NULL);
	f->lock = NULL;             /* the caller holds it now */
	/* A parsed answer (XML) is applied here, under the caller's lock. */
	for (i = 0; !error && result && f->ret == 0 && i < mkt_template_size(result); i++)
		feed_tattr(f, mkt_template_at(result, i));
	if (!error && result && f->ret == 0)
		feed_flush(f);
	feed_merge(f);
	/* The driver's own failure says more than what it made of the
	 * answer. */
	if (!error && (ret = f->ret) < 0) {
		/* It failed on the feeding thread: its error is told here. */
		mkt_error_set(ret, MKT_ERR_CORE, "%s", f->error);
		error = f->error;
	}
	else if (!error && (ret = feed_finish(f)) < 0)
		error = mkt_error_message();
	/* Deleted during the pass: nothing to report on. */
	if (ret == MKT_ENOTFOUND) {
		feed_free(f);
		forget_status(core, market_id);
		return ret;
	}
	if (!error && f->sum.unchanged) {
		/* The catalog is the one that left the market settled: the
		 * pass is done, with nothing to write. */
		if (!s->digest_sent || !s->digest || strcmp(f->sum.unchanged, s->digest) != 0 ||
		    f->sum.entries) {
			snprintf(bad, sizeof(bad), "driver answered CATALOG_UNCHANGED=\"%.80s\"%s",
				 f->sum.unchanged, f->sum.entries ? " with APP entries" :
				 " for a digest marketd did not send");
			error = bad;
			forget_digest(s);
		} else {
			f->stats.unchanged = s->settled_apps;
		}
	} else if (!error && f->sum.digest && f->sum.settled && digest_token(f->sum.digest)) {
		mkt_object *obj = NULL;

		if (mkt_object_load(core, &mkt_market_class, market_id, &obj) == 0 &&
		    market_signature(core, obj, s->signature, &s->settled_apps) == 0) {
			free(s->digest);
			s->digest = MKT_STEAL(f->sum.digest);
		} else {
			mkt_error_clear();
			forget_digest(s);
		}
		mkt_object_free(&mkt_market_class, obj);
	} else {
		forget_digest(s);
	}
	f->stats.pass_ms = elapsed_ms(&s->started);
	s->running = 0;
	s->passes++;
	s->last_end = (long long)time(NULL);
	/* What a failed pass applied before it failed stays, and is shown. */
	s->stats = f->stats;
	free(s->message);
	s->message = mkt_strdup(error ? error : "");
	s->state = error ? PASS_FAILED : PASS_DONE;
	feed_free(f);
	return ret;
}
