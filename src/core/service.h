/*
 * service.h: service instances and bindings of Open Service Brokers.
 *
 * A broker is a market (MARKET_MAD "osb") whose plans are SERVICE apps.  A
 * service instance is what a user provisions from a plan, into a project
 * (a group); a binding is a set of credentials for one instance.  Both are
 * zone-local objects with the owner/group/permission model of every other
 * object.  The core keeps their state and decides what may happen; the
 * broker calls themselves are made by the market's driver through
 * src/driver/serviceflow.c, which reports each outcome back here.  Nothing
 * here calls a driver.
 *
 * An operation under way is recorded in the object (OPERATION: its kind,
 * the broker's token, when it started, whether the broker answered 202),
 * so a restart resumes it: it re-sends the call (broker calls are
 * idempotent) or polls last_operation.
 */
#ifndef MKT_SERVICE_H
#define MKT_SERVICE_H

#include "common/template.h"
#include "object.h"

typedef enum {
	MKT_INSTANCE_PROVISIONING = 0,
	MKT_INSTANCE_READY = 1,
	MKT_INSTANCE_UPDATING = 2,
	MKT_INSTANCE_DEPROVISIONING = 3,
	MKT_INSTANCE_FAILED = 4,
	MKT_INSTANCE_STATE_LAST
} mkt_instance_state;

typedef enum {
	MKT_BINDING_BINDING = 0,
	MKT_BINDING_READY = 1,
	MKT_BINDING_UNBINDING = 2,
	MKT_BINDING_FAILED = 3,
	MKT_BINDING_STATE_LAST
} mkt_binding_state;

/* What is under way, in the order the driver's actions name them. */
typedef enum {
	MKT_OP_NONE = 0,
	MKT_OP_PROVISION,
	MKT_OP_UPDATE,
	MKT_OP_DEPROVISION,
	MKT_OP_BIND,
	MKT_OP_UNBIND,
	MKT_OP_LAST
} mkt_op_kind;

typedef struct {
	int kind;                /* mkt_op_kind */
	char *token;             /* the broker's operation, or NULL */
	long long start;         /* when the call was first made */
	int async;               /* the broker answered 202: poll */
	int orphan;              /* deleting what a failed create may have made */
	int attempts;            /* calls made for it (orphan mitigation retries) */
} mkt_op;

typedef struct {
	mkt_object obj;          /* first: an instance is an object */
	int state;
	int app_id;              /* the plan's SERVICE app */
	int market_id;
	int project;             /* a group id */
	char *uuid;              /* the broker's instance_id */
	char *service_id;
	char *plan_id;
	long long regtime;
	char *dashboard_url;
	char *description;       /* the broker's, from last_operation */
	char *parameters;        /* JSON object text, or NULL */
	char *error;             /* why the last operation failed */
	char *next_plan_id;      /* an update's plan until it succeeds */
	char *next_parameters;
	mkt_op op;
} mkt_instance;

typedef struct {
	mkt_object obj;
	int state;
	int instance_id;
	char *uuid;              /* the broker's binding_id */
	long long regtime;
	long long expires;       /* epoch seconds, 0 for never */
	char *expires_at;        /* as the broker wrote it */
	char *parameters;
	char *sealed;            /* credentials, mkt_seal_encrypt()ed */
	int sensitive;           /* shown once, never stored */
	char *error;
	mkt_op op;
} mkt_binding;

extern const mkt_class mkt_instance_class;
extern const mkt_class mkt_binding_class;

const char *mkt_instance_state_name(int state);
const char *mkt_binding_state_name(int state);
const char *mkt_op_kind_name(int kind);

/* one.serviceinstance.allocate: @text names APP (a SERVICE app), NAME,
 * PROJECT (a group of the caller; default its primary group) and
 * PARAMETERS (a JSON object, checked against the plan's schema before
 * anything reaches the broker).  The instance is PROVISIONING. */
int mkt_instance_allocate(mkt_core *core, const mkt_principal *who, const char *text,
			  int *out_id);
/* one.serviceinstance.update: PLAN (another SERVICE app of the same
 * service, plan_updateable) and/or PARAMETERS.  READY → UPDATING. */
int mkt_instance_update(mkt_core *core, const mkt_principal *who, int id, const char *text);
/* one.serviceinstance.delete: → DEPROVISIONING.  *out_bindings (caller
 * frees) are the bindings to unbind first; the flow deprovisions once
 * they are gone.  An instance that never reached the broker is dropped at
 * once (*out_dropped). */
int mkt_instance_delete(mkt_core *core, const mkt_principal *who, int id, int **out_bindings,
			size_t *out_n, int *out_dropped);
int mkt_instance_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		      int end_id, char **out_xml);

/* one.servicebinding.allocate(instance, text): NAME and PARAMETERS;
 * needs MANAGE on a READY instance of a bindable plan.  BINDING. */
int mkt_binding_allocate(mkt_core *core, const mkt_principal *who, int instance_id,
			 const char *text, int *out_id);
/* one.servicebinding.delete: → UNBINDING. */
int mkt_binding_delete(mkt_core *core, const mkt_principal *who, int id);
/* one.servicebinding.info: with CREDENTIALS (JSON text) for the
 * instance's owner and the oneadmin group; a sensitive service's only the
 * first time. */
int mkt_binding_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml);
/* An instance's delete unbinds each of @ids (those not unbinding yet). */
int mkt_binding_unbind_all(mkt_core *core, const int *ids, size_t n);
int mkt_binding_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		     int end_id, char **out_xml);

/* ---- what the flows report (core lock held) ------------------------- */

/* How a broker call or poll ended. */
typedef enum {
	MKT_OUTCOME_DONE = 0,      /* succeeded */
	MKT_OUTCOME_PENDING,       /* in progress: poll */
	MKT_OUTCOME_FAILED,        /* failed; nothing to undo */
	MKT_OUTCOME_ORPHAN,        /* failed; the broker may hold something */
	MKT_OUTCOME_RETRY          /* no answer worth recording (marketd stopping) */
} mkt_outcome;

/* The result of an instance operation.  @result is the driver's result
 * template (may be NULL), @message the failure.  Returns the operation
 * still under way afterwards (MKT_OP_NONE when none), so the flow knows
 * whether to poll or to call again (orphan mitigation, queued delete). */
int mkt_instance_op_done(mkt_core *core, int id, int kind, mkt_outcome outcome,
			 const mkt_template *result, const char *message, int *out_next);
int mkt_binding_op_done(mkt_core *core, int id, int kind, mkt_outcome outcome,
			const mkt_template *result, const char *message, int *out_next);

/* An instance whose bindings are all gone may now be deprovisioned:
 * returns 1 when its deprovision is waiting for that. */
int mkt_instance_ready_to_deprovision(mkt_core *core, int id);

/* Seconds an operation may keep polling: the plan's
 * MAXIMUM_POLLING_DURATION, else the market's MAX_POLLING_DURATION, else
 * a day. */
long long mkt_service_max_polling(mkt_core *core, int instance_id);

/* Start-up: every instance and binding with an operation under way, for
 * the flow to resume; and bindings whose EXPIRES has passed. */
typedef struct {
	int table;               /* MKT_TABLE_INSTANCE or MKT_TABLE_BINDING */
	int id;
	int kind;                /* mkt_op_kind */
	int async;
} mkt_service_pending;
int mkt_service_list_pending(mkt_core *core, mkt_service_pending **out, size_t *out_n);
/* Bindings READY whose EXPIRES is at or before @now; the earliest later
 * expiry goes to *out_next (0 when none). */
int mkt_binding_list_expired(mkt_core *core, long long now, int **out, size_t *out_n,
			     long long *out_next);
/* The expiry job's delete (as oneadmin), logged. */
int mkt_binding_expire(mkt_core *core, int id);

/* Credentials of a READY binding for @who: the instance's owner and the
 * oneadmin group only.  JSON text (caller frees with mkt_seal_wipe_free). */
int mkt_binding_credentials(mkt_core *core, const mkt_principal *who, int id, char **out);

/* Drop every held credential of a sensitive service (core_free). */
void mkt_binding_forget_once(mkt_core *core);

#endif
