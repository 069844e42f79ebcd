/*
 * serviceflow.h: service instances and bindings meet their broker's driver.
 *
 * The core (src/core/service.h) keeps each object's state and operation;
 * this module runs the driver actions that operation needs, one at a
 * time per object, and reports each outcome back to the core, which says
 * what comes next: nothing, a poll (last_operation, after the broker's
 * Retry-After or a backoff), or another call (orphan mitigation retries,
 * an instance's deprovision once its bindings are gone).  A thread of its
 * own runs what is due later and the bindings' expiry.
 *
 * A driver with a batch action gets its calls in batches: while two
 * batches of that driver run, new calls wait, and go together in the
 * next (at most 16).  Each call's outcome is the same as in a run of
 * its own; only the processes are fewer (one for 16 broker calls).
 *
 * Functions other than new/free are called with the core lock held.
 */
#ifndef MKT_SERVICEFLOW_H
#define MKT_SERVICEFLOW_H

#include "core/core.h"
#include "driver.h"

typedef struct mkt_serviceflow mkt_serviceflow;

/* Start the scheduler, and resume every operation that was under way
 * when marketd stopped (re-sending the call, or polling after a 202). */
int mkt_serviceflow_new(mkt_serviceflow **out, mkt_core *core, mkt_driver *drv);
/* Stop the scheduler thread and start no more calls: calls in flight end
 * with the driver pool, which must be freed after this and before
 * mkt_serviceflow_free().  Calls still waiting for a batch stay pending
 * in the store, for the next start.  Both accept NULL. */
void mkt_serviceflow_stop(mkt_serviceflow *sf);
void mkt_serviceflow_free(mkt_serviceflow *sf);

/* Make the call that object @id of @table (MKT_TABLE_INSTANCE or
 * MKT_TABLE_BINDING) has under way, on behalf of @who (NULL: oneadmin). */
int mkt_serviceflow_run(mkt_serviceflow *sf, int table, int id, const mkt_principal *who);

/* one.serviceinstance.delete's second half: unbind its bindings, then
 * deprovision (or drop it). */
int mkt_serviceflow_delete_instance(mkt_serviceflow *sf, const mkt_principal *who, int id);

#endif
