/*
 * monitorflow.h: market monitor passes through the drivers, and the loop
 * that starts them.
 *
 * Every MONITORING_INTERVAL_MARKET seconds (the first pass a few seconds
 * after start, as oned) every enabled market of this zone whose driver
 * lists monitor in APP_ACTIONS is monitored: its driver's monitor action
 * runs on the driver pool and its answer is applied by the catalog module
 * (core/catalog.h).  Two passes of one market never overlap: a pass asked
 * for while one runs is that pass.
 */
#ifndef MKT_MONITORFLOW_H
#define MKT_MONITORFLOW_H

#include "core/core.h"
#include "driver.h"

typedef struct mkt_monitor_loop mkt_monitor_loop;

/*
 * Start a monitor pass of market @market_id now (one.market.monitor,
 * one.market.enable).  Called with the core lock held.  0 when a pass was
 * started or one is already running; MKT_EACTION / MKT_ENOTFOUND when the
 * market cannot be monitored (disabled, no monitor in its driver).
 */
int mkt_monitorflow_run(mkt_driver *drv, mkt_core *core, int market_id);

/* Start the periodic loop (a thread); every pass takes the core lock. */
int mkt_monitor_loop_start(mkt_monitor_loop **out, mkt_core *core, mkt_driver *drv,
			   int interval);
/* Stop it and wait for its thread (passes in flight end with the driver
 * pool).  Accepts NULL. */
void mkt_monitor_loop_stop(mkt_monitor_loop *loop);

#endif
