/*
 * zone.h: zones, the members of a federation (share/doc/federation.md).
 *
 * A zone is a name and the ENDPOINT of its marketd's /RPC2; the zone pool
 * is a replicated table, so every zone lists every other one (oned's
 * ZONE_POOL).  Zones have no owner: the oneadmin group changes them, any
 * user reads them.  The master also bounds the trimming of its change log
 * by what the zones of its pool have applied.
 */
#ifndef MKT_ZONE_H
#define MKT_ZONE_H

#include "core.h"

/* The zone every standalone or master marketd starts with, as oned's
 * zone 0: @zone_id named "OpenNebula" (ENDPOINT @endpoint), unless it
 * exists.  Inside no transaction. */
int mkt_zone_bootstrap(mkt_core *core, int zone_id, const char *endpoint);

/* one.zone.allocate: @tmpl_text needs NAME and ENDPOINT. */
int mkt_zone_allocate(mkt_core *core, const mkt_principal *who, const char *tmpl_text,
		      int *out_id);
int mkt_zone_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml);
/* @merge: 0 replaces the template, 1 merges; ENDPOINT must stay. */
int mkt_zone_update(mkt_core *core, const mkt_principal *who, int id, const char *tmpl_text,
		    int merge);
int mkt_zone_rename(mkt_core *core, const mkt_principal *who, int id, const char *name);
/* The zone this marketd runs (ZONE_ID) cannot be deleted from itself. */
int mkt_zone_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_zone_pool(mkt_core *core, const mkt_principal *who, char **out_xml);

/* one.zone.raftstatus: oned's RAFT document for this zone (marketd runs
 * no Raft: one "solo" server) with @fedlog_index (mkt_fed_log_index). */
int mkt_zone_raft_status(mkt_core *core, long long fedlog_index, char **out_xml);

#endif
