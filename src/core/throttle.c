/*
 * throttle.c: back-off after failed logins (see throttle.h).
 */
#include <config.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "throttle.h"

#define SLOTS 4096          /* per kind; a power of two */
#define PROBE 8             /* slots looked at for a key */
#define LOG_INTERVAL_MS 5000

typedef enum {
	KIND_USER = 0,
	KIND_ADDR,
	KIND_LAST
} kind;

/* One row per kind: how many failures are free, the first delay, its cap,
 * and how long a quiet key keeps its count.  An address gets more free
 * failures than a user: many users may share one address (a NAT, a proxy). */
static const struct {
	const char *name;
	unsigned free_failures;
	int64_t base_ms;
	int64_t max_ms;
	int64_t forget_ms;
} policy[KIND_LAST] = {
	[KIND_USER] = { "user", 5, 1000, 60000, 15 * 60000 },
	[KIND_ADDR] = { "address", 50, 1000, 60000, 15 * 60000 },
};

typedef struct {
	uint64_t key;           /* 0: free slot */
	unsigned failures;
	int64_t last_ms;        /* last failure */
	int64_t until_ms;       /* no check before this */
} entry;

struct mkt_throttle {
	pthread_mutex_t lock;
	uint64_t seed;               /* so that no one can pick colliding names */
	entry table[KIND_LAST][SLOTS];
	mkt_log_limiter log;         /* failures since the last log line */
	unsigned long unlogged_refused;
};

/* FNV-1a from a random start; 0 is kept for free slots. */
static uint64_t key_of(const mkt_throttle *t, const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ t->seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* The entry of @s, or NULL when it has none and @make is 0.  A key's
 * entry is among PROBE slots from its hash; a new one takes a free slot
 * there, else the one whose last failure is oldest. */
static entry *lookup(mkt_throttle *t, kind k, const char *s, int64_t now, int make)
{
	uint64_t key = key_of(t, s);
	entry *slots = t->table[k], *victim = NULL;
	size_t i, at = (size_t)key & (SLOTS - 1);

	for (i = 0; i < PROBE; i++) {
		entry *e = &slots[(at + i) & (SLOTS - 1)];

		if (e->key == key) {
			if (now - e->last_ms > policy[k].forget_ms)
				memset(e, 0, sizeof(*e));
			e->key = key;
			return e;
		}
		if (!victim || (victim->key != 0 && (e->key == 0 || e->last_ms < victim->last_ms)))
			victim = e;
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	return victim;
}

static int blocked(mkt_throttle *t, kind k, const char *s, int64_t now)
{
	entry *e = lookup(t, k, s, now, 0);

	return e && now < e->until_ms;
}

int mkt_throttle_check(mkt_throttle *t, const char *user, const char *addr)
{
	int64_t now = mkt_util_now_ms();
	int busy;

	pthread_mutex_lock(&t->lock);
	busy = (user && blocked(t, KIND_USER, user, now)) || blocked(t, KIND_ADDR, addr, now);
	pthread_mutex_unlock(&t->lock);
	return busy ? MKT_EBUSY : 0;
}

static void count(mkt_throttle *t, kind k, const char *s, int64_t now)
{
	entry *e = lookup(t, k, s, now, 1);
	unsigned over;

	e->failures++;
	e->last_ms = now;
	if (e->failures <= policy[k].free_failures)
		return;
	/* Doubling from the first delay; the shift stops well before the cap
	 * could overflow. */
	over = e->failures - policy[k].free_failures - 1;
	e->until_ms = now + (over >= 16 ? policy[k].max_ms :
			     (policy[k].base_ms << over < policy[k].max_ms ?
			      policy[k].base_ms << over : policy[k].max_ms));
}

void mkt_throttle_fail(mkt_throttle *t, const char *user, const char *addr, int refused)
{
	int64_t now = mkt_util_now_ms();
	unsigned long n = 0, nrefused = 0;
	char name[65];

	pthread_mutex_lock(&t->lock);
	if (user)
		count(t, KIND_USER, user, now);
	count(t, KIND_ADDR, addr, now);
	t->unlogged_refused += refused ? 1 : 0;
	/* A storm of guesses must not become a storm of log lines. */
	if (mkt_log_limit(&t->log, now, LOG_INTERVAL_MS, &n)) {
		nrefused = t->unlogged_refused;
		t->unlogged_refused = 0;
	}
	pthread_mutex_unlock(&t->lock);
	if (n == 0)
		return;
	/* A user name from a session string, fit for one log line. */
	mkt_util_printable(name, sizeof(name), user ? user : "(the federation's server user)");
	mkt_log(MKT_LOG_WARN, "auth",
		"%lu failed login(s) (%lu turned down by the back-off) since the last report; "
		"the last for user '%s' from %s", n, nrefused, name, addr);
}

void mkt_throttle_success(mkt_throttle *t, const char *user)
{
	entry *e;

	pthread_mutex_lock(&t->lock);
	if ((e = lookup(t, KIND_USER, user, mkt_util_now_ms(), 0)))
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&t->lock);
}

mkt_throttle *mkt_throttle_new(void)
{
	mkt_throttle *t = mkt_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	/* Without randomness the keys are only more predictable: evicting a
	 * user's entry then takes a few chosen names, which the address's
	 * own count still catches. */
	if (mkt_util_random(&t->seed, sizeof(t->seed)) < 0) {
		t->seed = (uint64_t)mkt_util_now_ms();
		mkt_error_clear();
	}
	return t;
}

void mkt_throttle_free(mkt_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}
