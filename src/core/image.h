/*
 * image.h: images, files in a datastore that apps are made from and
 * exported to.  OpenNebula's element names and state numbers, so its
 * clients read them right.
 */
#ifndef MKT_IMAGE_H
#define MKT_IMAGE_H

#include "object.h"

typedef enum {
	MKT_IMAGE_INIT = 0,
	MKT_IMAGE_READY = 1,
	MKT_IMAGE_USED = 2,
	MKT_IMAGE_DISABLED = 3,
	MKT_IMAGE_LOCKED = 4,
	MKT_IMAGE_ERROR = 5
} mkt_image_state;

typedef struct {
	mkt_object obj;          /* first: an image is an object */
	int type;                /* 0 OS, 1 CDROM, 2 DATABLOCK, ... */
	int persistent;
	long long regtime;
	char *source;            /* the file in the datastore */
	char *path;              /* where its content came from */
	char *format;
	long long size_mb;
	int state;
	int datastore_id;
	char *datastore;
} mkt_image;

extern const mkt_class mkt_image_class;

/* READY, LOCKED, ERROR...: oned's names of image states, for messages. */
const char *mkt_image_state_name(int state);

/* one.image.allocate: the image is created LOCKED with its SOURCE chosen;
 * its content comes from PATH (a file or URL) or FROM_APP (an app, which
 * must be READY), and mkt_imageflow_start() fills it.  Refused (MKT_EBUSY)
 * while @who has TRANSFER MAX_PER_USER transfers running
 * (mkt_core_transfer_admit()). */
int mkt_image_allocate(mkt_core *core, const mkt_principal *who, const char *text,
		       int ds_id, int *out_id);
/* The copy ended: READY with the written size/format and the source's
 * digests, or ERROR with @error (the partial file is removed). */
int mkt_image_fill_done(mkt_core *core, int id, unsigned long long bytes, const char *format,
			const char *md5, const char *sha256, const char *error);
/* Also while its content is being copied: the caller stops the copy
 * (mkt_imageflow_delete()), whose end then finds the image gone. */
int mkt_image_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_image_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		   int end_id, char **out_xml);
/* Start-up: images left LOCKED by a stop mid-copy go to ERROR. */
int mkt_image_recover(mkt_core *core);

#endif
