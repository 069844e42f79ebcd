/*
 * federation.c: the federation's life cycle (federation.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "core/user.h"
#include "federation_priv.h"

/* The store's commit hook on the master: wake the zones' long polls. */
static void log_grew(void *arg, long long last)
{
	mkt_fed *f = arg;

	pthread_mutex_lock(&f->mu);
	if (last > f->last)
		f->last = last;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

int mkt_fed_new(mkt_fed **out, mkt_core *core)
{
	const mkt_config *conf = core->conf;
	pthread_condattr_t ca;
	mkt_fed *f;

	*out = NULL;
	if (conf->fed_mode == MKT_FED_STANDALONE)
		return 0;
	f = mkt_calloc(1, sizeof(*f));
	f->core = core;
	f->conf = conf;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	f->master_zone = conf->fed_mode == MKT_FED_MASTER ? conf->zone_id : 0;
	f->session = mkt_asprintf("%s:%s", conf->fed_server_user, conf->fed_server_secret);
	f->master_url = mkt_strdup(conf->fed_master);
	*out = f;
	return 0;
}

int mkt_fed_start(mkt_fed *f)
{
	int ret;

	if (!f)
		return 0;
	if (f->conf->fed_mode == MKT_FED_SLAVE)
		return fed_slave_start(f);
	if ((ret = mkt_user_ensure(f->core, f->conf->fed_server_user,
				   f->conf->fed_server_secret)) < 0)
		return mkt_error_set(ret, MKT_ERR_CONFIG, "cannot set up the server user '%s': %s",
				     f->conf->fed_server_user, mkt_error_message());
	pthread_mutex_lock(&f->core->lock);
	ret = mkt_store_changelog_last(f->core->store, &f->last);
	mkt_store_set_commit_hook(f->core->store, log_grew, f);
	pthread_mutex_unlock(&f->core->lock);
	mkt_log(MKT_LOG_INFO, "federation", "master of zone %d, log at index %lld",
		f->conf->zone_id, f->last);
	return ret;
}

void mkt_fed_quiesce(mkt_fed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->quiesced = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

void mkt_fed_stop(mkt_fed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
	if (f->conf->fed_mode == MKT_FED_SLAVE)
		fed_slave_stop(f);
}

void mkt_fed_free(mkt_fed *f)
{
	if (!f)
		return;
	mkt_fed_stop(f);
	mkt_store_set_forwarder(f->core->store, NULL);
	mkt_store_set_commit_hook(f->core->store, NULL, NULL);
	curl_easy_cleanup(f->fwd_curl);
	explicit_bzero(f->session, strlen(f->session));
	free(f->session);
	free(f->master_url);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int mkt_fed_is_slave(const mkt_fed *f)
{
	return f && f->conf->fed_mode == MKT_FED_SLAVE;
}

int mkt_fed_is_master(const mkt_fed *f)
{
	return f && f->conf->fed_mode == MKT_FED_MASTER;
}

int mkt_fed_master_zone(const mkt_fed *f)
{
	return f ? f->master_zone : 0;
}

int mkt_fed_log_index(const mkt_fed *f, mkt_core *core, long long *out)
{
	if (!mkt_fed_is_slave(f))
		return mkt_store_changelog_last(core->store, out);
	pthread_mutex_lock((pthread_mutex_t *)&f->mu);
	*out = f->applied;
	pthread_mutex_unlock((pthread_mutex_t *)&f->mu);
	return 0;
}
