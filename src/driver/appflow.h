/*
 * appflow.h: the asynchronous halves of the app operations, where the
 * core's objects meet the market drivers.  Called from the RPC handlers
 * with the core lock held; the drivers' answers come back on worker
 * threads, which take the lock themselves.
 */
#ifndef MKT_APPFLOW_H
#define MKT_APPFLOW_H

#include "core/core.h"
#include "driver.h"

/* What a flow's callbacks get as their @ud: the core and the object the
 * action is about.  They free it. */
typedef struct {
	mkt_core *core;
	int id;
} mkt_flow;

/* Queue @req (its action, document and callbacks set) for object @oid of a
 * market whose driver is @mad, with a new mkt_flow as its @ud. */
int mkt_appflow_submit(mkt_driver *drv, mkt_core *core, mkt_driver_request *req,
		       const char *mad, int oid);

/* After one.marketapp.allocate by @who: upload an IMAGE app's content
 * through its market's driver (templates have none), a URL only from the
 * networks marketd.conf allows @who (IMPORT_NETWORK_POLICY).  On a
 * failure to start, the app goes to ERROR and the error is returned. */
int mkt_appflow_import(mkt_driver *drv, mkt_core *core, const mkt_principal *who, int app_id);

/* one.marketapp.delete: the driver removes the content, then the app is
 * dropped; apps without stored content are dropped at once. */
int mkt_appflow_delete(mkt_driver *drv, mkt_core *core, const mkt_principal *who, int app_id);

/* marketd.conf's TRANSFER limits for a driver's import or export, as an
 * XML fragment (share/doc/drivers.md): <TRANSFER> with TIMEOUT, MIN_RATE
 * and MIN_RATE_WINDOW, each only when set; nothing when none is. */
void mkt_appflow_transfer_limits(const mkt_config *conf, mkt_buf *extra);

/* The action document, into req->document: <MARKET_DRIVER_ACTION_DATA>
 * with the action, the app (when @app_id >= 0), its market (without the
 * app list, which would make the document grow with the market) and
 * @extra, an XML fragment; req->document_secret says whether it holds a
 * secret (the market's SECRET_ACCESS_KEY...). */
int mkt_appflow_document(mkt_core *core, mkt_driver_action action, int app_id, int market_id,
			 const char *extra, mkt_driver_request *req);

#endif
