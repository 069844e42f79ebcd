/*
 * core.c: the object layer's context.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "common/alloc.h"
#include "common/seal.h"
#include "common/error.h"
#include "common/log.h"
#include "catalog.h"
#include "core.h"
#include "service.h"
#include "market.h"
#include "user.h"

/* Every transfer in flight has a slot, from its start to its end: its
 * progress for info, its user for MAX_PER_USER.  A few per worker, so a
 * linear search is fine; the array only grows. */
typedef struct {
	int used;
	mkt_table table;
	int oid;
	int uid;                /* whose transfer it is */
	unsigned long long done;
	unsigned long long total;
} progress_slot;

struct mkt_progress {
	pthread_mutex_t lock;
	progress_slot *slots;
	size_t nslots;
};

static progress_slot *progress_find(mkt_progress *p, mkt_table t, int oid)
{
	size_t i;

	for (i = 0; i < p->nslots; i++) {
		progress_slot *s = &p->slots[i];

		if (s->used && s->table == t && s->oid == oid)
			return s;
	}
	return NULL;
}

void mkt_core_transfer_begin(mkt_core *core, mkt_table t, int oid, int uid)
{
	mkt_progress *p = core->progress;
	progress_slot *s;
	size_t i;

	pthread_mutex_lock(&p->lock);
	if (!(s = progress_find(p, t, oid))) {
		for (i = 0; i < p->nslots && p->slots[i].used; i++)
			;
		if (i == p->nslots) {
			p->slots = mkt_realloc(p->slots, (p->nslots + 16) * sizeof(*p->slots));
			memset(p->slots + p->nslots, 0, 16 * sizeof(*p->slots));
			p->nslots += 16;
		}
		s = &p->slots[i];
	}
	s->used = 1;
	s->table = t;
	s->oid = oid;
	s->uid = uid;
	s->done = 0;
	s->total = 0;
	pthread_mutex_unlock(&p->lock);
}

int mkt_core_transfer_admit(mkt_core *core, const mkt_principal *who, size_t n)
{
	mkt_progress *p = core->progress;
	int max = core->conf->transfer_max_per_user;
	size_t i, running = 0;

	if (max <= 0 || n == 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nslots; i++)
		running += p->slots[i].used && p->slots[i].uid == who->uid;
	pthread_mutex_unlock(&p->lock);
	/* Alone, a request may exceed the cap (an export of a VM template
	 * with more disks than MAX_PER_USER), or it could never run. */
	if (running == 0 || running + n <= (size_t)max)
		return 0;
	return mkt_error_set(MKT_EBUSY, MKT_ERR_CORE,
			     "too many transfers: user %s has %zu running and this needs %zu more "
			     "(TRANSFER MAX_PER_USER = %d); retry when one ends",
			     who->uname, running, n, max);
}

void mkt_core_progress_set(mkt_core *core, mkt_table t, int oid,
			   unsigned long long done, unsigned long long total)
{
	progress_slot *s;

	pthread_mutex_lock(&core->progress->lock);
	if ((s = progress_find(core->progress, t, oid))) {
		s->done = done;
		s->total = total;
	}
	pthread_mutex_unlock(&core->progress->lock);
}

void mkt_core_progress_clear(mkt_core *core, mkt_table t, int oid)
{
	progress_slot *s;

	pthread_mutex_lock(&core->progress->lock);
	if ((s = progress_find(core->progress, t, oid)))
		s->used = 0;
	pthread_mutex_unlock(&core->progress->lock);
}

int mkt_core_progress_get(mkt_core *core, mkt_table t, int oid,
			  unsigned long long *done, unsigned long long *total)
{
	progress_slot *s;
	int found = 0;

	if (!core || !core->progress)
		return 0;
	pthread_mutex_lock(&core->progress->lock);
	if ((s = progress_find(core->progress, t, oid))) {
		*done = s->done;
		*total = s->total;
		found = 1;
	}
	pthread_mutex_unlock(&core->progress->lock);
	return found;
}

int mkt_core_new(mkt_core **out, const mkt_config *conf, mkt_store *store)
{
	mkt_core *core = mkt_calloc(1, sizeof(*core));

	core->conf = conf;
	core->store = store;
	pthread_mutex_init(&core->lock, NULL);
	core->progress = mkt_calloc(1, sizeof(*core->progress));
	pthread_mutex_init(&core->progress->lock, NULL);
	if (!(core->auth_cache = mkt_auth_cache_new())) {
		mkt_core_free(core);
		return mkt_error_set(MKT_ERROR, MKT_ERR_AUTH, "cannot create the session cache");
	}
	*out = core;
	return 0;
}

static void end_unlinks(mkt_core *core, int committed);

int mkt_core_seal_key(mkt_core *core, const mkt_seal_key **out)
{
	char *path;
	int ret = 0;

	if (!core->seal) {
		path = mkt_asprintf("%s/secrets.key", core->conf->data_dir);
		ret = mkt_seal_key_open(&core->seal, path);
		free(path);
	}
	*out = core->seal;
	return ret;
}

void mkt_core_free(mkt_core *core)
{
	if (!core)
		return;
	mkt_seal_key_free(core->seal);
	mkt_binding_forget_once(core);
	mkt_auth_cache_free(core->auth_cache);
	mkt_catalog_free_status(core);
	end_unlinks(core, 0);
	if (core->progress) {
		pthread_mutex_destroy(&core->progress->lock);
		free(core->progress->slots);
		free(core->progress);
	}
	pthread_mutex_destroy(&core->lock);
	free(core);
}

int mkt_core_bootstrap(mkt_core *core, const char *auth_file)
{
	int ret;

	if ((ret = mkt_user_bootstrap(core, auth_file)) <= 0)
		return ret;
	/* As oned: a new cloud starts with the public catalog. */
	return mkt_market_create_default(core);
}

void mkt_principal_clear(mkt_principal *p)
{
	free(p->uname);
	free(p->gname);
	free(p->gids);
	memset(p, 0, sizeof(*p));
}

int mkt_principal_in_group(const mkt_principal *p, int gid)
{
	size_t i;

	for (i = 0; i < p->ngids; i++) {
		if (p->gids[i] == gid)
			return 1;
	}
	return 0;
}

int mkt_principal_require_admin(const mkt_principal *p, const char *op, const char *what, int id)
{
	if (p->admin)
		return 0;
	return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH, "Not authorized to perform %s %s [%d].",
			     op, what, id);
}

int mkt_core_begin(mkt_core *core)
{
	return mkt_store_begin(core->store);
}

void mkt_core_unlink_on_commit(mkt_core *core, const char *path)
{
	core->unlink_on_commit = mkt_realloc(core->unlink_on_commit,
					     (core->n_unlink + 1) * sizeof(char *));
	core->unlink_on_commit[core->n_unlink++] = mkt_strdup(path);
}

/* The outermost transaction ended: remove the files it let go of, or
 * forget them if it rolled back. */
static void end_unlinks(mkt_core *core, int committed)
{
	size_t i;

	if (mkt_store_depth(core->store) > 0)
		return;
	for (i = 0; i < core->n_unlink; i++) {
		if (committed && unlink(core->unlink_on_commit[i]) < 0 && errno != ENOENT)
			mkt_log(MKT_LOG_WARN, "core", "cannot remove %s: %s",
				core->unlink_on_commit[i], strerror(errno));
		free(core->unlink_on_commit[i]);
	}
	free(core->unlink_on_commit);
	core->unlink_on_commit = NULL;
	core->n_unlink = 0;
}

int mkt_core_end(mkt_core *core, int ret)
{
	mkt_error saved;

	if (ret == 0) {
		ret = mkt_store_commit(core->store);
		end_unlinks(core, ret == 0);
		return ret;
	}
	mkt_error_preserve(&saved);
	mkt_store_rollback(core->store);
	end_unlinks(core, 0);
	mkt_error_restore(&saved);
	return ret;
}

typedef struct {
	mkt_core *core;
	mkt_core_pool_cb cb;
	void *payload;
	mkt_buf *b;
} pool_walk;

static int pool_row(const mkt_store_row *row, void *payload)
{
	pool_walk *w = payload;

	return w->cb(w->core, row, w->b, w->payload);
}

int mkt_core_pool(mkt_core *core, mkt_table t, const mkt_store_query *q, const char *root,
		  const char *trailer, mkt_core_pool_cb cb, void *payload, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	pool_walk w = { core, cb, payload, &b };
	int ret;

	mkt_buf_printf(&b, "<%s>", root);
	if ((ret = mkt_store_list(core->store, t, q, pool_row, &w)) < 0) {
		mkt_buf_free(&b);
		return ret;
	}
	if (trailer)
		mkt_buf_add(&b, trailer);
	mkt_buf_printf(&b, "</%s>", root);
	*out_xml = mkt_buf_steal(&b);
	return 0;
}
