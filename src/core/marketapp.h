/*
 * marketapp.h: MarketPlaceApp objects (an appliance held by a market).
 */
#ifndef MKT_MARKETAPP_H
#define MKT_MARKETAPP_H

#include "object.h"

typedef enum {
	MKT_APP_INIT = 0,
	MKT_APP_READY = 1,
	MKT_APP_LOCKED = 2,
	MKT_APP_ERROR = 3,
	MKT_APP_DISABLED = 4,
	MKT_APP_STATE_LAST
} mkt_app_state;

typedef enum {
	MKT_APP_UNKNOWN = 0,
	MKT_APP_IMAGE = 1,
	MKT_APP_VMTEMPLATE = 2,
	MKT_APP_SERVICE_TEMPLATE = 3,
	MKT_APP_SERVICE = 4,         /* an Open Service Broker plan */
	MKT_APP_TYPE_LAST
} mkt_app_type;

typedef struct {
	mkt_object obj;          /* first: an app is an object */
	long long regtime;
	int zone_id;
	char *origin_id;
	char *source;
	char *md5;
	long long size_mb;
	char *description;
	char *version;
	char *format;
	char *apptemplate64;
	int market_id;
	char *market_name;
	int state;
	int type;
} mkt_app;

/* Type names (IMAGE, VMTEMPLATE, SERVICE_TEMPLATE), case-insensitive. */
int mkt_app_type_parse(const char *s, int *out);
const char *mkt_app_type_name(int type);
/* READY, LOCKED, ERROR...: oned's names of app states, for messages. */
const char *mkt_app_state_name(int state);

/* Where an IMAGE app's content comes from: its IMPORT_SOURCE, else its
 * PATH (empty values count as absent), or NULL when it is the image named
 * by ORIGIN_ID.  The one rule that both the permission checks of
 * mkt_app_allocate() and the upload follow. */
const char *mkt_app_import_source(const mkt_app *a);

/* one.marketapp.allocate; an IMAGE app is created LOCKED for its upload
 * (mkt_appflow_import()), refused (MKT_EBUSY) while @who has TRANSFER
 * MAX_PER_USER transfers running. */
int mkt_app_allocate(mkt_core *core, const mkt_principal *who, const char *text,
		     int market_id, int *out_id);
/* one.marketapp.delete, first half: checks, then either drops the app
 * (*out_mad NULL) or, when its market's driver must remove the content,
 * locks it and returns that driver's name in *out_mad (caller frees);
 * mkt_app_drop() then finishes once the driver answered. */
int mkt_app_delete(mkt_core *core, const mkt_principal *who, int id, char **out_mad);
int mkt_app_drop(mkt_core *core, int id);
/* The driver's import ended: READY with its SOURCE/MD5/SIZE/FORMAT, or
 * ERROR with @error (or with what the result lacks). */
int mkt_app_import_done(mkt_core *core, int id, const mkt_template *result, const char *error);
/* Start-up: apps left LOCKED by a stop mid-upload go to ERROR. */
int mkt_app_recover(mkt_core *core);
int mkt_app_enable(mkt_core *core, const mkt_principal *who, int id, int enable);

/* A catalog entry found by a market's monitor (oned's from_template64):
 * sets @a's name, type, SOURCE, MD5, FORMAT, SIZE, REGTIME and template
 * from @tmpl (taken over, freed on failure), state READY, ORIGIN_ID -1.
 * MKT_EINVAL saying what is wrong with the entry. */
int mkt_app_set_catalog_entry(mkt_app *a, mkt_template *tmpl);

/* Markets call these inside their own transaction. */
int mkt_app_rename_market(mkt_core *core, int market_id, const char *market_name);
int mkt_app_drop_market(mkt_core *core, int market_id);

#endif
