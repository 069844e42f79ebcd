/*
 * market.h: MarketPlace objects (a repository of apps behind one driver).
 */
#ifndef MKT_MARKET_H
#define MKT_MARKET_H

#include "object.h"

#define MKT_MARKET_PUBLIC_NAME "OpenNebula Public"
#define MKT_MARKET_PUBLIC_MAD "one"

typedef enum { MKT_MARKET_ENABLED = 0, MKT_MARKET_DISABLED = 1 } mkt_market_state;

typedef struct {
	mkt_object obj;          /* first: a market is an object */
	int state;
	char *mad;
	int zone_id;
	long long total_mb;
	long long free_mb;
	long long used_mb;
} mkt_market;

/* one.market.allocate: only the oneadmin group may create markets. */
int mkt_market_allocate(mkt_core *core, const mkt_principal *who, const char *text, int *out_id);
int mkt_market_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_market_enable(mkt_core *core, const mkt_principal *who, int id, int enable);
int mkt_market_pool(mkt_core *core, const mkt_principal *who, char **out_xml);

/* First start: market 0 "OpenNebula Public" (MARKET_MAD one), owned by
 * oneadmin and usable by all, when marketd.conf has a "one" driver. */
int mkt_market_create_default(mkt_core *core);

/* The driver stanza of a market, or MKT_EINVAL naming the missing one. */
int mkt_market_get_mad_conf(mkt_core *core, const mkt_market *m, const mkt_market_mad_conf **out);

#endif
