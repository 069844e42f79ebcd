/*
 * object.h: what every pool object shares, and the generic operations.
 *
 * An object type (market, app) embeds mkt_object as its first member and
 * describes itself with an mkt_class row: XML names, store table, how to
 * parse and format its body.  The operations that are the same for every
 * type (info, chmod, chown, rename, lock, update) are written once here and
 * parameterised by the class, so one.market.chown and one.marketapp.chown
 * share one function.
 */
#ifndef MKT_OBJECT_H
#define MKT_OBJECT_H

#include <libxml/tree.h>

#include "common/buf.h"
#include "common/template.h"
#include "core.h"

typedef enum {
	MKT_AUTH_USE = 0,
	MKT_AUTH_MANAGE = 1,
	MKT_AUTH_ADMIN = 2,
	MKT_AUTH_LAST
} mkt_auth_op;

/* Permission bits, in oned's order OWNER_U..OTHER_A. */
enum { MKT_PERM_BITS = 9 };

/* Lock levels of one.*.lock. */
enum { MKT_LOCK_NONE = 0, MKT_LOCK_USE = 1, MKT_LOCK_MANAGE = 2,
       MKT_LOCK_ADMIN = 3, MKT_LOCK_ALL = 4 };

typedef struct {
	int id;
	int uid;
	int gid;
	char *uname;
	char *gname;
	char *name;
	unsigned char perms[MKT_PERM_BITS];
	mkt_template *tmpl;
	int lock_level;
	int lock_owner;
	long long lock_time;
	int lock_req;
} mkt_object;

/* What an object's XML is for: the API (with what is derived at read
 * time: child ids, progress, monitor status), the store (without), or a
 * pool listing (derived parts, but only those in oned's schema). */
typedef enum {
	MKT_FORMAT_VIEW = 0,
	MKT_FORMAT_STORE = 1,
	MKT_FORMAT_POOL = 2
} mkt_format_mode;

typedef struct mkt_class mkt_class;

struct mkt_class {
	const char *xml_name;     /* root element: MARKETPLACE */
	const char *human_name;   /* in messages: marketplace */
	mkt_table table;
	int name_per_owner;       /* names unique per owner, not globally */
	int lockable;
	int body_is_view;         /* stored body is exactly the API XML */
	/* Build the object from its stored body (root element). */
	int (*parse)(mkt_object **out, xmlNodePtr root);
	/* Append the object's XML for @mode. */
	void (*format)(mkt_core *core, const mkt_object *obj, mkt_format_mode mode, mkt_buf *b);
	void (*free)(mkt_object *obj);
	/* Extra store columns (apps: market id, state). */
	void (*row)(const mkt_object *obj, mkt_store_row *row);
	/* After a rename is saved (markets rename their apps' MARKETPLACE). */
	int (*renamed)(mkt_core *core, mkt_object *obj);
	/* Apply an update of the user template (validation, derived fields). */
	int (*update)(mkt_core *core, mkt_object *obj, mkt_template *tmpl);
	/* Template attributes that info and pool answers show as "****" to
	 * anyone but the owner and the oneadmin group (oned keeps them
	 * encrypted and decrypts them for those only); NULL-terminated, or
	 * NULL for none.  Drivers get the real values. */
	const char *const *secrets;
};

extern const mkt_class mkt_market_class;
extern const mkt_class mkt_app_class;

/* Shared parse/format helpers for the common part of every object. */
int mkt_object_parse_common(mkt_object *obj, xmlNodePtr root);
void mkt_object_clear(mkt_object *obj);
void mkt_object_format_head(const mkt_object *obj, mkt_buf *b);  /* ID..GNAME */
void mkt_object_format_lock(const mkt_object *obj, mkt_buf *b);
void mkt_object_format_perms(const mkt_object *obj, mkt_buf *b);
void mkt_object_set_default_perms(mkt_object *obj);

/* Quotas as oned writes them when none are set: the four empty sets
 * (USER and GROUP info), the same inside <@root> (DEFAULT_USER_QUOTAS,
 * DEFAULT_GROUP_QUOTAS), and a pool's <QUOTAS> entry for object @id. */
void mkt_object_format_quotas(mkt_buf *b);
void mkt_object_format_default_quotas(mkt_buf *b, const char *root);
void mkt_object_format_pool_quotas(mkt_buf *b, int id);
/* The same <@root> as a string (caller frees): the trailer of USER_POOL
 * and GROUP_POOL. */
char *mkt_object_default_quotas(const char *root);

/* <PROGRESS><DONE/><TOTAL/></PROGRESS> while a transfer of the object runs. */
void mkt_object_format_progress(mkt_core *core, mkt_table t, int oid, mkt_buf *b);

/* Content may come from a URL, but a path on marketd's own host only for
 * the oneadmin group (it would read any file marketd can).  NULL is fine. */
int mkt_object_check_source(const mkt_principal *who, const char *source);

/* Validate an object name as oned does; MKT_EINVAL with its message. */
int mkt_object_validate_name(const char *name);
/* A valid name made from @text, still readable: quotes are dropped,
 * separators become '-', brackets parentheses, control characters spaces
 * (runs of spaces collapse), and it is cut to the longest length at a
 * UTF-8 character boundary.  NULL when nothing is left.  Caller frees. */
char *mkt_object_make_name(const char *text);

/* Load object @id; MKT_ENOTFOUND with "Error getting <human> [id].". */
int mkt_object_load(mkt_core *core, const mkt_class *cls, int id, mkt_object **out);

/* Insert (new id assigned by the caller) or update the object's row. */
int mkt_object_save(mkt_core *core, const mkt_class *cls, mkt_object *obj, mkt_store_op op);

void mkt_object_free(const mkt_class *cls, mkt_object *obj);

/* Is the name free for this owner?  MKT_EEXISTS "NAME is already taken by
 * MARKETPLACE 100" otherwise.  @self is the object's own id (-1 for new). */
int mkt_object_check_name(mkt_core *core, const mkt_class *cls, const char *name,
			  int uid, int self);

/* Authorization for @op: oneadmin group always; else the permission bits. */
int mkt_object_authorize(const mkt_principal *who, const mkt_class *cls,
			 const mkt_object *obj, mkt_auth_op op);

/* Load @id and authorize @op, refusing locked objects where the lock
 * covers @op (unless @ignore_lock). */
int mkt_object_get(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		   int id, mkt_auth_op op, int ignore_lock, mkt_object **out);

/* Generic operations behind the one.<obj>.* methods of the same name. */
int mkt_object_info(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    int id, char **out_xml);
int mkt_object_chmod(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		     int id, const int perms[MKT_PERM_BITS]);
int mkt_object_chown(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		     int id, int uid, int gid);
int mkt_object_rename(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id, const char *name);
/* Does @obj's template hold one of its class's secret attributes? */
int mkt_object_has_secrets(const mkt_class *cls, const mkt_object *obj);
/* Remove the attributes only marketd sets (EXPORT_GROUP, EXPORT_UNDONE)
 * from a template a user sent. */
void mkt_object_strip_daemon_attrs(mkt_template *tmpl);
int mkt_object_update(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id, const char *text, int merge);
int mkt_object_lock(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    int id, int level, int test);
int mkt_object_unlock(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id);

/* Pool listing: append the XML of every visible object matching @q's
 * filter (start/end/filter set by the caller) inside <@root>. */
int mkt_object_pool(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    mkt_store_query *q, const char *root, char **out_xml);
/* A pool call with oned's (filter, start_id, end_id) arguments, checked;
 * @parent >= 0 keeps only that parent's objects. */
int mkt_object_pool_filtered(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
			     int filter, int start_id, int end_id, int parent, const char *root,
			     char **out_xml);

/*
 * The same pool, for a class whose stored body is its XML (body_is_view),
 * made while it is sent: the rows are read from a store cursor (a read
 * snapshot of its own), outside the core lock and one at a time, so a pool
 * of 100 000 apps neither holds the lock nor sits whole in memory.  Opened
 * under the core lock; read and freed by one thread at a time, without it.
 */
typedef struct mkt_pool_stream mkt_pool_stream;

int mkt_object_pool_stream(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
			   int filter, int start_id, int end_id, int parent, const char *root,
			   mkt_pool_stream **out);
/* 1 with the next piece of XML (valid until the next call), 0 at the
 * end, < 0 when the store cannot be read. */
int mkt_pool_stream_next(mkt_pool_stream *s, const char **data, size_t *len);
void mkt_pool_stream_free(mkt_pool_stream *s);   /* accepts NULL */

/* Rows of @t whose parent is @parent (the apps of a market, the images
 * of a datastore): their ids (caller frees), how many, or <ID> elements. */
int mkt_object_child_ids(mkt_core *core, mkt_table t, int parent, int **ids, size_t *n);
int mkt_object_count_children(mkt_core *core, mkt_table t, int parent, int *out);
int mkt_object_format_child_ids(mkt_core *core, mkt_table t, int parent, mkt_buf *b);

/* Fill @q's permission part for @who. */
void mkt_object_query_for(const mkt_principal *who, mkt_store_query *q);

#endif
