/*
 * federation_priv.h: what the federation's files share.
 */
#ifndef MKT_FEDERATION_PRIV_H
#define MKT_FEDERATION_PRIV_H

#include <curl/curl.h>
#include <pthread.h>

#include "common/buf.h"
#include "federation.h"
#include "store/store.h"

enum { FED_MAX_ZONES = 64 };

/* What a zone of the zone pool last said it has applied (master). */
typedef struct {
	int zone;
	long long applied;
} fed_zone_applied;

struct mkt_fed {
	mkt_core *core;
	const mkt_config *conf;
	pthread_mutex_t mu;           /* the fields below; never held with the
				       * core lock taken after it */
	pthread_cond_t cond;          /* master: the log grew; slave: applied grew */
	/* master */
	long long last;               /* newest index of the log */
	fed_zone_applied zones[FED_MAX_ZONES];
	size_t nzones;
	long long trimmed_below;
	int quiesced;                 /* the server stops: polls do not wait */
	/* slave */
	char *session;                /* "serveradmin:<secret>" */
	char *master_url;
	int master_zone;
	long long applied;            /* what the replica holds */
	int copied;                   /* the tables were copied whole since start */
	pthread_t thread;
	int thread_started;
	int stop;
	int reachable;                /* last poll of the master got through */
	CURL *fwd_curl;               /* the forwarder's, used under the core lock */
};

/* ---- change lists between zones (changes.c) ----------------------------
 * <C I="idx" T="table" P="insert|update|delete" O="oid" N="name" U= G=
 *    OU= GU= OO= PA= ST=>escaped body</C>, inside a root element. */
void fed_change_format(mkt_buf *b, const mkt_store_change *c);

typedef struct {
	mkt_store_change *v;
	size_t n;
	long long first;              /* the root's FIRST, LAST, ZONE, RESYNC, MORE */
	long long last;
	int zone;
	int resync;
	int more;
	void *doc;                    /* the parsed document the strings live in */
} fed_batch;

/* Parse @xml, whose root must be @root; MKT_EINVAL naming what is wrong. */
int fed_batch_parse(fed_batch *out, const char *xml, size_t len, const char *root);
void fed_batch_clear(fed_batch *b);

/* ---- calls to the master (client.c) ----------------------------------- */

/* Call @method(@session (NULL: the server's own), @params...) on the
 * master.  0 with the value of
 * a successful reply in *out (caller decrefs; NULL to ignore), or
 * MKT_ERROR: "master zone N unreachable: <curl's reason>" when no reply
 * came, or the master's own "[method] message" when it said no.
 * @curl: a handle to reuse (created when *curl is NULL), or NULL for a
 * handle of this call only.  @raw: return the whole reply array instead
 * of its value, whatever it says. */
int fed_call(mkt_fed *f, CURL **curl, const char *method, const char *session,
	     xmlrpc_value *params, long timeout_ms, int raw, xmlrpc_value **out);

/* ---- the slave's parts (slave.c) -------------------------------------- */

/* The time limit of a call to the master for a write: @normal_ms, or
 * a short one while the replication thread cannot reach the master (a
 * write must not wait on a dead master under the core lock; one that
 * came back answers at once, and the replication thread is woken to
 * notice it). */
long fed_write_timeout(mkt_fed *f, long normal_ms);
int fed_slave_start(mkt_fed *f);
void fed_slave_stop(mkt_fed *f);

#endif
