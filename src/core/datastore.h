/*
 * datastore.h: local directory datastores, where images live.
 *
 * A minimal, OpenNebula-shaped Datastore so that apps have somewhere to
 * come from and go to: an IMAGE_DS whose images are files in BASE_PATH.
 */
#ifndef MKT_DATASTORE_H
#define MKT_DATASTORE_H

#include <stdint.h>

#include "object.h"

#define MKT_DEFAULT_DATASTORE 1
#define MKT_FIRST_USER_DATASTORE 100

typedef struct {
	mkt_object obj;          /* first: a datastore is an object */
	char *ds_mad;
	char *tm_mad;
	char *base_path;
	int state;
} mkt_datastore;

extern const mkt_class mkt_datastore_class;

int mkt_datastore_allocate(mkt_core *core, const mkt_principal *who, const char *text,
			   int *out_id);
int mkt_datastore_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_datastore_pool(mkt_core *core, const mkt_principal *who, char **out_xml);

/* First start: the "default" datastore (id 1) under DATA_DIR/datastores/1. */
int mkt_datastore_bootstrap(mkt_core *core);

/* Bytes a copy into @ds leaves free on its file system: the datastore's
 * RESERVED_MB, else marketd.conf DATASTORE_RESERVED_MB. */
uint64_t mkt_datastore_reserve(const mkt_core *core, const mkt_datastore *ds);

#endif
