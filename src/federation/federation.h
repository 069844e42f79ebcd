/*
 * federation.h: zones that share users, groups, markets, apps and zones.
 *
 * One zone, the master, owns the replicated tables (store.h's
 * mkt_store_table_replicated): it alone writes them, and every write it
 * commits is an entry of its change log.  The other zones, slaves, keep a
 * replica of those tables and never make a change of their own to them:
 *
 *  - Replication (slave.c): a thread of each slave asks the master for the
 *    entries after the last one it applied (one.zone.fedlog, a long poll
 *    that answers as soon as there is one), applies each batch in one
 *    transaction that also records the batch's last index, so a restart
 *    resumes exactly there.  A slave that fell behind what the master
 *    still keeps copies the tables whole (one.zone.fedsnapshot) and
 *    follows the log again from the copy's index.
 *
 *  - Writes: the API calls that only change replicated objects (chmod,
 *    update, user and group calls...: MKT_RPC_FED_PROXY in the method
 *    table) are proxied whole: the slave authenticates its user, sends the
 *    same call to the master signed with the server credential and naming
 *    that user ("serveradmin:<secret>:<user>:<uid>"), so the master checks the
 *    user's own permissions; the master's reply is the client's, once the
 *    replica has applied the master's log up to that call.  The calls that
 *    also act in the slave's zone (uploading an app into a market of the
 *    zone, deleting one, monitoring the zone's markets) run on the slave,
 *    and their writes to replicated tables are committed by the master
 *    first (one.zone.fedwrite, one transaction; oids from
 *    one.zone.fednextoid), as oned's allocatedb/updatedb/dropdb: the
 *    store's forwarder (store.h) rolls the slave's transaction back when
 *    the master refuses or cannot be reached.  Nothing is queued: with
 *    the master down, such writes fail at once with "master zone <id>
 *    unreachable: <reason>", reads are served from the replica.
 *
 *  - The master trims its log below the index every zone of its zone pool
 *    has applied, and keeps at most FEDERATION/LOG_RETENTION entries
 *    whatever a zone that stopped asking has applied.
 *
 * The master's side of the replication methods is server.c; every call
 * of them must be signed with the server credential (principal.server).
 */
#ifndef MKT_FEDERATION_H
#define MKT_FEDERATION_H

#include <xmlrpc-c/base.h>

#include "core/core.h"

typedef struct mkt_fed mkt_fed;

/* The federation of @core's configuration; NULL in *out for STANDALONE. */
int mkt_fed_new(mkt_fed **out, mkt_core *core);
/* Master: the server user exists with SERVER_AUTH's secret, and log
 * readers are woken by commits.  Slave: the store forwards replicated
 * writes, the replica catches up (waiting at most a few seconds for an
 * unreachable master) and the replication thread starts. */
int mkt_fed_start(mkt_fed *f);
/* Wake the long polls in flight and stop the replication thread; calls
 * to the master fail from now on ("marketd is stopping"), so a write of
 * a stopping slave rolls back.  Accepts NULL. */
void mkt_fed_stop(mkt_fed *f);
/* The server is stopping: the master's long polls answer at once, now
 * and from now on (the front end waits for them).  Accepts NULL. */
void mkt_fed_quiesce(mkt_fed *f);
/* Once nothing writes the store any more; accepts NULL. */
void mkt_fed_free(mkt_fed *f);

int mkt_fed_is_slave(const mkt_fed *f);    /* accepts NULL */
int mkt_fed_is_master(const mkt_fed *f);   /* accepts NULL */

/*
 * Slave: make the call @method(@params) (params[0], the session, is
 * replaced) on the master as user @uname, then wait (a few seconds at
 * most) until the replica has the master's changes up to its reply.
 * 0 with the master's reply array in *out (caller decrefs), or
 * MKT_ERROR "master zone <id> unreachable: <reason>".
 */
int mkt_fed_proxy(mkt_fed *f, const char *method, xmlrpc_value *params, const char *uname,
		  int uid, xmlrpc_value **out);

/* ---- the master's side, for one.zone.fed* (rpc/methods.c) ------------ */

/*
 * one.zone.fedlog: the entries after @after (at most @max, and a few MB),
 * as <FEDLOG FIRST= LAST= ZONE= RESYNC=>...</FEDLOG>; waits up to
 * @wait_ms for one when there is none.  Called WITHOUT the core lock: it
 * takes it only to read.  @zone is the asking zone: what it has applied
 * lets the log be trimmed.  RESYNC="1" when the entries after @after are
 * gone (trimmed) or @after is ahead of the log (another master).
 */
int mkt_fed_log(mkt_fed *f, int zone, long long after, int wait_ms, int max, char **out_xml);

/* one.zone.fedsnapshot: rows of table @table with oid > @after_oid (at
 * most @max), as <FEDSNAPSHOT LAST= ZONE= MORE=>...; core lock held. */
int mkt_fed_snapshot(mkt_fed *f, const char *table, int after_oid, int max, char **out_xml);

/* one.zone.fedwrite: commit the writes of <CHANGES> @xml in one
 * transaction; *out_last is the log's newest index then.  Core lock held. */
int mkt_fed_write(mkt_fed *f, const char *who, const char *xml, long long *out_last);

/* one.zone.fednextoid: a fresh oid of @table.  Core lock held. */
int mkt_fed_next_oid(mkt_fed *f, const char *table, int floor, int *out);

/* FEDLOG_INDEX of one.zone.raftstatus: the replica's applied index on a
 * slave, the newest entry of the log elsewhere (@f NULL: standalone).
 * Core lock held. */
int mkt_fed_log_index(const mkt_fed *f, mkt_core *core, long long *out);

/* The master's zone id as this zone knows it (a slave learns it from the
 * master's replies; its FEDERATION/ZONE_ID for the master itself). */
int mkt_fed_master_zone(const mkt_fed *f);

#endif
