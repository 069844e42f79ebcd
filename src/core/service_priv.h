/*
 * service_priv.h: what serviceinstance.c and servicebinding.c share.
 */
#ifndef MKT_SERVICE_PRIV_H
#define MKT_SERVICE_PRIV_H

#include <libxml/tree.h>

#include "marketapp.h"
#include "service.h"

/* <OPERATION> of an instance or binding. */
void mkt_service__op_format(const mkt_op *op, mkt_buf *b);
int mkt_service__op_parse(mkt_op *op, xmlNodePtr root);
void mkt_service__op_clear(mkt_op *op);
/* Start @kind now (token and flags cleared). */
void mkt_service__op_start(mkt_op *op, int kind);

/* Text fields of an object: one table serves its parse and its format. */
typedef struct {
	const char *elem;
	size_t off;              /* of the char * field in the object */
} mkt_service_text;

/* Each field from its child element (an empty one is NULL). */
void mkt_service__texts_parse(void *obj, const mkt_service_text *t, size_t n, xmlNodePtr root);
void mkt_service__texts_format(const void *obj, const mkt_service_text *t, size_t n, mkt_buf *b);
void mkt_service__texts_free(void *obj, const mkt_service_text *t, size_t n);

/* A fresh random (version 4) UUID, the broker's ids. */
char *mkt_service__uuid(void);

/* The SERVICE app @app_id and its market, usable by @who (NULL: no check),
 * with the market's driver able to run service actions. */
int mkt_service__plan(mkt_core *core, const mkt_principal *who, int app_id, mkt_app **out);

/* A driver result's YES/NO attribute. */
int mkt_service__yes(const mkt_template *t, const char *name);

/* Replace *@field with a copy of @value (NULL clears). */
void mkt_service__set(char **field, const char *value);

#endif
