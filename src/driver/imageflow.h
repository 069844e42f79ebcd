/*
 * imageflow.h: filling a new image with content, in the background.
 *
 * From PATH, marketd copies (and unpacks) the file or URL itself; from
 * FROM_APP, the app's market driver exports it (marketd downloads an
 * http(s) SOURCE itself when the driver has no export action).
 */
#ifndef MKT_IMAGEFLOW_H
#define MKT_IMAGEFLOW_H

#include "core/core.h"
#include "driver.h"

/* Called with the core lock held, right after mkt_image_allocate() by
 * @who, who asked for it.  A PATH that is a URL is fetched only from the
 * networks marketd.conf allows @who.  A failure to start sets the image
 * to ERROR and is returned. */
int mkt_imageflow_start(mkt_driver *drv, mkt_core *core, const mkt_principal *who,
			int image_id);

/* one.image.delete by @who, called with the core lock held: an image
 * still being copied (marketd's copy or a driver's export, running or
 * queued) is deleted too, and its copy cancelled; the copy's temporary
 * file goes with it. */
int mkt_imageflow_delete(mkt_driver *drv, mkt_core *core, const mkt_principal *who,
			 int image_id);

/* Remove from every datastore the temporary files of copies that were
 * killed (marketd's own, the drivers' exports), untouched for @min_age
 * seconds and not locked by a copy still running (mkt_transfer_sweep());
 * logs each file and the total.  Takes core->lock only to list the
 * datastores; call without it. */
void mkt_imageflow_sweep(mkt_core *core, long min_age);

#endif
