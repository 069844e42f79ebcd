/*
 * document.h: what a service action reads from its action document, and
 * the JSON bodies of the broker calls built from it (share/doc/drivers.md,
 * "Service actions": the elements REQUEST, MARKETPLACEAPP,
 * SERVICE_INSTANCE, SERVICE_BINDING, UPDATE, OPERATION_KIND).
 *
 * Every id that goes into a URL path is checked here (letters, digits,
 * '-', '_', '.'), so no document can point a call at another route; ids
 * that go into a query are escaped by the caller.
 */
#ifndef OSB_DOCUMENT_H
#define OSB_DOCUMENT_H

#include <jansson.h>

#include "driver.h"

typedef struct {
	const char *service_id;    /* MARKETPLACEAPP/TEMPLATE/SERVICE_ID */
	const char *plan_id;       /* MARKETPLACEAPP/TEMPLATE/PLAN_ID */
	const char *instance;      /* SERVICE_INSTANCE/UUID */
	const char *binding;       /* SERVICE_BINDING/UUID, or NULL when not asked for */
	const char *operation;     /* OPERATION of the binding (when asked for) or the instance; NULL when empty */
} osb_target;

/*
 * The ids every service action needs; with @binding, SERVICE_BINDING/UUID
 * too.  MKT_DRV_OK, or MKT_DRV_EINPUT after an ERROR: line naming the
 * missing or bad element.  Strings are borrowed from @d.
 */
int osb_doc_target(mkt_drv *d, int binding, osb_target *out);

/*
 * The request bodies (a new JSON object in *out; caller decrefs):
 *   provision  service_id, plan_id, context, organization_guid,
 *              space_guid, parameters?, maintenance_info?
 *   update     service_id, plan_id (UPDATE/PLAN_ID), previous_values,
 *              context, parameters?
 *   bind       service_id, plan_id, context, bind_resource, parameters?
 * MKT_DRV_OK, or MKT_DRV_EINPUT after an ERROR: line (a missing
 * PROJECT, PARAMETERS that are not a JSON object, …).
 */
typedef int (*osb_body_fn)(mkt_drv *d, const osb_target *t, const char *platform, json_t **out);

int osb_doc_provision_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out);
int osb_doc_update_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out);
int osb_doc_bind_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out);

#endif
