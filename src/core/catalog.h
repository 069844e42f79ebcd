/*
 * catalog.h: what a market's monitor found, applied to its apps.
 *
 * A monitor pass asks a market's driver for the market's capacity and,
 * for catalogs (the `one` market and the like), for the apps it offers:
 * one APP="<base64 template>" per entry.  This module turns that answer
 * into apps (oned's MarketPlaceAppPool::import, done better):
 *
 *   - an entry is matched to an app of the same market by its IMPORT_ID
 *     (its NAME when it has none), never across markets;
 *   - an entry whose text is unchanged since the last pass costs no write:
 *     each app remembers the digest of the entry it was made from;
 *   - a changed entry updates its app in place (same id), READY;
 *   - an app missing from MKT_CATALOG_MAX_MISSING successful passes in a
 *     row is removed; a pass that failed, or returned no usable entry,
 *     removes nothing;
 *   - a malformed entry is logged and skipped, the rest still lands.
 *
 * Discovered apps belong to oneadmin with permissions um-/u--/u-- (oned's
 * umask 133).
 *
 * Entries are applied as the driver prints them (mkt_catalog_feed), in
 * batches of their own transaction, so the first apps of a large catalog
 * land while the driver is still busy and nobody waits for the core lock
 * longer than a batch.  A pass that fails keeps what it applied before;
 * what only a whole answer tells (apps gone, capacity, digests) is applied
 * when the pass ends.
 *
 * The status of each market's last pass is kept in memory and shown by
 * one.market.info as <MONITORING>.  Everything here but mkt_catalog_feed
 * runs under the core lock.
 */
#ifndef MKT_CATALOG_H
#define MKT_CATALOG_H

#include <stdio.h>

#include "common/template.h"
#include "core.h"

#define MKT_CATALOG_MAX_MISSING 3

/* What the document of a pass needs to know. */
typedef struct {
	char *mad;          /* the market's driver */
	char *digest;       /* the CATALOG_DIGEST to send, or NULL */
	int imports;        /* its driver imports (APP_ACTIONS has create), so
			     * it may hold leftovers to sweep: send APPS */
} mkt_catalog_pass;

/*
 * A pass of market @market_id is about to start.  0 with *out filled
 * (mkt_catalog_pass_clear() frees it); 1 when a pass of that market is
 * already running (nothing to do); MKT_EACTION / MKT_ENOTFOUND saying why
 * the market cannot be monitored (disabled, another zone's, a driver
 * without monitor).
 *
 * Catalog digests (drivers.md): a driver that prints CATALOG_DIGEST with
 * its entries may, when the document carries that same digest, answer
 * CATALOG_UNCHANGED instead of the entries.  marketd sends a digest only
 * while applying that answer again would change nothing: the last pass
 * left no app missing or kept inactive, and neither the market's
 * attributes nor its apps' catalog rows changed since.
 */
int mkt_catalog_begin_pass(mkt_core *core, int market_id, mkt_catalog_pass *out);
void mkt_catalog_pass_clear(mkt_catalog_pass *p);

/*
 * The driver of the running pass of market @market_id prints template
 * text: apply its entries as they come, reading it with @read(@src, ...)
 * to its end (or to a failure, kept for mkt_catalog_end_pass).  Called WITHOUT the core lock,
 * from the driver's output thread; it takes the lock per batch.
 */
void mkt_catalog_feed(mkt_core *core, int market_id, mkt_template_read_fn read, void *src);

/* The same thread, while mkt_catalog_feed() reads: the driver printed
 * nothing more yet, so the entries read so far are written now (without
 * waiting for a whole batch). */
void mkt_catalog_feed_idle(mkt_core *core, int market_id);

/*
 * The pass ended: apply the rest of the answer fed so far, or the whole
 * parsed @result (an XML answer), or record @error (result NULL).  Ends
 * the pass whatever happens; MKT_ENOTFOUND when the market went
 * meanwhile, MKT_EACTION when it was disabled.
 */
int mkt_catalog_end_pass(mkt_core *core, int market_id, const mkt_template *result,
			 const char *error);

/* <MONITORING> of one.market.info: STATE (RUNNING, DONE, FAILED; nothing
 * before the first pass), LAST_MONITOR (end time), PASSES (passes ended
 * since start), MESSAGE, and of the last pass its counts, ROWS_WRITTEN,
 * PASS_MS (driver included) and APPLY_MS (writing, all batches). */
void mkt_catalog_format_status(mkt_core *core, int market_id, mkt_buf *b);

/* Release the status table (mkt_core_free). */
void mkt_catalog_free_status(mkt_core *core);

#endif
