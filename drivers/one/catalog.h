/*
 * catalog.h: the OpenNebula public marketplace catalog, turned into the
 * APP lines of a monitor result.
 *
 * The catalog is the JSON document served at <ENDPOINT>/appliance:
 *
 *     {"appliances": [ {"_id": {"$oid": "…"}, "name": "…", "type": "IMAGE",
 *                       "files": [{"size": "2361393152", "md5": "…"}],
 *                       "opennebula_template": "{\"CPU\":\"1\",…}", …}, … ]}
 *
 * Each appliance becomes one app template (reference section 1.6; the
 * attribute list is in drivers/one/README.md), printed as
 * APP="<base64 of the template text>" with mkt_drv_result(), in catalog
 * order.  The output depends on nothing but the catalog and the URL, so an
 * unchanged catalog gives byte-identical APP lines (marketd skips
 * rewriting unchanged apps on that).
 *
 * One malformed appliance (no _id.$oid, no name, a field of the wrong
 * type, an unknown type) is skipped with a WARN: line naming it; the rest
 * of the catalog still comes out.
 *
 * The catalog is read appliance by appliance and its APP lines are
 * flushed (mkt_drv_results_flush()) about every MiB, so that neither the
 * parsed catalog nor the whole result is ever held in memory, and marketd
 * gets the first lines while the rest is converted.
 */
#ifndef ONE_CATALOG_H
#define ONE_CATALOG_H

#include <stddef.h>

typedef struct {
	size_t apps;       /* APP lines added */
	size_t skipped;    /* appliances skipped, each with a WARN: line */
} one_catalog_stats;

/*
 * Convert the catalog @body (@len bytes, need not be NUL terminated)
 * fetched from @url: the endpoint, ending with exactly one '/', which
 * LINK and SOURCE are built on (<url>appliance/<id>[/download/0]).
 * @where names the document in messages (the catalog's URL).
 *
 * MKT_DRV_OK with @out (may be NULL) filled, or MKT_DRV_EFAIL after an
 * ERROR: line when the body is not JSON, not {"appliances": [...]}, or
 * has "appliances" more than once; then the APP lines it added are
 * dropped (mkt_drv_results_rewind()), but those already flushed, when
 * the driver runs under mkt_drv_main(), stay written: the action fails by
 * its exit status.  A failure may come after WARN: lines of appliances
 * before the point where the document breaks.
 */
int one_catalog_convert(const char *url, const char *where, const char *body, size_t len,
			one_catalog_stats *out);

#endif
