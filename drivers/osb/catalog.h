/*
 * catalog.h: a broker's catalog (GET /v2/catalog), turned into the APP
 * lines of a monitor result: one app of TYPE SERVICE per plan.
 *
 *     {"services": [ {"id", "name", "description", "bindable", "tags",
 *                     "requires", "instances_retrievable",
 *                     "bindings_retrievable", "plan_updateable", "metadata",
 *                     "plans": [ {"id", "name", "description", "metadata",
 *                                 "free", "bindable", "binding_rotatable",
 *                                 "plan_updateable", "schemas",
 *                                 "maximum_polling_duration",
 *                                 "maintenance_info"} ]} ]}
 *
 * The template's attributes, their order and their defaults are in
 * share/doc/drivers.md ("Service actions") and drivers/osb/README.md.
 * The output depends on the catalog's content alone, not on the order of
 * keys inside its objects (JSON attributes are written with sorted keys),
 * so an unchanged catalog gives byte-identical APP lines.
 *
 * A service or plan without an id or a name, with a field of the wrong
 * type, or a plan whose id an earlier plan has, is skipped with a WARN:
 * line naming it; the rest of the catalog still comes out.
 */
#ifndef OSB_CATALOG_H
#define OSB_CATALOG_H

#include <stddef.h>
#include <jansson.h>

typedef struct {
	size_t apps;       /* APP lines added (plans) */
	size_t skipped;    /* services and plans skipped, each with a WARN: line */
} osb_catalog_stats;

/*
 * Convert the catalog @root (the reply's JSON, borrowed) into APP
 * results; @where names it in messages.  MKT_DRV_OK with @out (may be
 * NULL) filled, or MKT_DRV_EFAIL after an ERROR: line when it is not
 * {"services": [...]}; then no APP line has been added.
 */
int osb_catalog_convert(const char *where, json_t *root, osb_catalog_stats *out);

/* osb_catalog_convert_text(): the body is not a JSON object. */
#define OSB_CATALOG_MALFORMED (-1)

/*
 * The same from the reply's body @body (@len bytes), which a large
 * catalog is read from one service at a time: the same results, the same
 * ERROR: line, or OSB_CATALOG_MALFORMED (nothing printed) when the body
 * is not a JSON object (an empty one counts as {}).
 */
int osb_catalog_convert_text(const char *where, const char *body, size_t len,
			     osb_catalog_stats *out);

#endif
