/*
 * export.h: exporting an app out of its market, with what it refers to.
 *
 * An IMAGE app becomes an image of the target datastore (FROM_APP, filled
 * in the background by its market's driver).  A VMTEMPLATE app becomes an
 * image for each of its DISK=[APP=<name>] apps plus a VM template (its
 * APPTEMPLATE64, DISKs naming the new images); a SERVICE_TEMPLATE app
 * becomes such a VM template for each ROLE=[NAME, APP] and a document of
 * TYPE 101 whose BODY is its JSON, each role's vm_template set to the new
 * template (what `onemarketapp export` leaves in oned).  Referenced apps
 * are looked up by name in the same market.
 *
 * All or nothing: everything is created in one transaction, so an export
 * that cannot start creates nothing; the objects of one export share an
 * EXPORT_GROUP attribute, and when one of its images fails to fill,
 * mkt_export_image_done() removes the rest of the group (the failed image
 * stays in ERROR, without a file, to tell why).
 */
#ifndef MKT_EXPORT_H
#define MKT_EXPORT_H

#include "core.h"
#include "image.h"

typedef struct {
	int id;             /* the image, VM template or document made */
	const char *kind;   /* "IMAGE", "VMTEMPLATE", "DOCUMENT" or
			     * "SERVICE_INSTANCE" (a SERVICE app: the instance
			     * is PROVISIONING, its provision is the caller's
			     * to start) */
	int *images;        /* the images to fill (mkt_imageflow_start) */
	size_t nimages;
} mkt_export_result;

/* Export app @app_id into datastore @ds_id as @name (NULL: the app's
 * name).  Caller frees out->images.  Refused (MKT_EBUSY) when the images
 * to fill would take @who past TRANSFER MAX_PER_USER transfers running
 * (mkt_core_transfer_admit()). */
int mkt_export_app(mkt_core *core, const mkt_principal *who, int app_id, int ds_id,
		   const char *name, mkt_export_result *out);

/* After mkt_image_fill_done() recorded the end of @im (as saved), @failed
 * or not, in a transaction of its own: undoes the rest of its export
 * group after a failure, and drops an image that finished after its group
 * was undone. */
int mkt_export_image_done(mkt_core *core, mkt_image *im, int failed);

#endif
