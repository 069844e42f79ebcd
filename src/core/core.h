/*
 * core.h: the object layer's context and the principal making a request.
 *
 * mkt_core holds everything the object operations share: the store, the
 * configuration and the authentication cache.  Core functions are not
 * thread-safe: the RPC dispatcher serialises calls with core->lock.
 */
#ifndef MKT_CORE_H
#define MKT_CORE_H

#include <pthread.h>
#include <stddef.h>

#include "common/buf.h"
#include "config.h"
#include "store/store.h"

#define MKT_ONEADMIN_UID 0
#define MKT_ONEADMIN_GID 0
#define MKT_USERS_GID 1
#define MKT_FIRST_USER_MARKET 100
#define MKT_FIRST_USER_GROUP 100

typedef struct mkt_auth_cache mkt_auth_cache;
typedef struct mkt_progress mkt_progress;
typedef struct mkt_catalog_status mkt_catalog_status;
typedef struct mkt_seal_key mkt_seal_key;
typedef struct mkt_once_secret mkt_once_secret;

typedef struct {
	mkt_store *store;
	const mkt_config *conf;      /* borrowed from the daemon */
	pthread_mutex_t lock;        /* serialises every core call */
	mkt_auth_cache *auth_cache;
	mkt_progress *progress;      /* transfers in flight (own lock) */
	mkt_catalog_status *catalog; /* last monitor pass of each market */
	char **unlink_on_commit;     /* files to remove once the change commits */
	size_t n_unlink;
	int req_id;                  /* last request id handed out */
	mkt_seal_key *seal;          /* DATA_DIR's secrets key, read at first use */
	/* Credentials of sensitive services: held until their owner saw them
	 * once, never stored (servicebinding.c). */
	mkt_once_secret *once;
} mkt_core;

/* Who is asking: the authenticated user and its groups. */
typedef struct {
	int uid;
	int gid;
	char *uname;
	char *gname;
	int *gids;                   /* primary and secondary groups */
	size_t ngids;
	int admin;                   /* oneadmin or a member of group oneadmin */
	/* Signed in with the federation's server credential (a slave zone
	 * acting for the user above, or for itself): may call the master's
	 * replication methods (federation.h). */
	int server;
} mkt_principal;

int mkt_core_new(mkt_core **out, const mkt_config *conf, mkt_store *store);
void mkt_core_free(mkt_core *core);

/* First start: create groups oneadmin/users and user oneadmin, taking the
 * password from @auth_file ("oneadmin:pw") or generating one and writing
 * that file (mode 0600), and market 0, the public OpenNebula catalog (as
 * oned does).  Does nothing when oneadmin exists. */
int mkt_core_bootstrap(mkt_core *core, const char *auth_file);

/* The key that seals secrets at rest: DATA_DIR/secrets.key, created
 * (mode 0600) at first use. */
int mkt_core_seal_key(mkt_core *core, const mkt_seal_key **out);

void mkt_principal_clear(mkt_principal *p);
int mkt_principal_in_group(const mkt_principal *p, int gid);
/* 0 for the oneadmin group, else MKT_EPERM "Not authorized to perform
 * <op> <what> [<id>]." */
int mkt_principal_require_admin(const mkt_principal *p, const char *op, const char *what, int id);

/* A pool listing: <@root> + whatever @cb appends for each row matching @q
 * + @trailer (NULL for none) + </@root>.  @cb sees the requester through
 * @payload. */
typedef int (*mkt_core_pool_cb)(mkt_core *core, const mkt_store_row *row, mkt_buf *b,
				void *payload);
int mkt_core_pool(mkt_core *core, mkt_table t, const mkt_store_query *q, const char *root,
		  const char *trailer, mkt_core_pool_cb cb, void *payload, char **out_xml);

/* Transfers in flight (an image being filled, an app being uploaded),
 * with their progress, shown by one.*.info while they run.  These take
 * their own lock, so drivers can report without the core lock.
 * mkt_core_transfer_begin() marks object @oid of table @t as being
 * transferred for user @uid, with progress 0 of unknown;
 * mkt_core_progress_set() updates a transfer that began, and
 * mkt_core_progress_clear() ends it. */
void mkt_core_transfer_begin(mkt_core *core, mkt_table t, int oid, int uid);
void mkt_core_progress_set(mkt_core *core, mkt_table t, int oid,
			   unsigned long long done, unsigned long long total);
void mkt_core_progress_clear(mkt_core *core, mkt_table t, int oid);
/* 0 when @who may start @n transfers more: fewer than marketd.conf's
 * TRANSFER MAX_PER_USER of theirs would run (or none runs: one request
 * alone may exceed it); else MKT_EBUSY "too many transfers: ...".  The
 * oneadmin group too: its transfers share the workers as well.  Call
 * under the core lock, before creating what will be transferred, and
 * begin the transfers under the same lock. */
int mkt_core_transfer_admit(mkt_core *core, const mkt_principal *who, size_t n);
int mkt_core_progress_get(mkt_core *core, mkt_table t, int oid,
			  unsigned long long *done, unsigned long long *total);

/* Every object change is one transaction: mkt_core_begin() opens it and
 * mkt_core_end(core, ret) commits when ret is 0, otherwise rolls back
 * keeping the first error; it returns the final status. */
int mkt_core_begin(mkt_core *core);
int mkt_core_end(mkt_core *core, int ret);

/* Remove the file @path when the transaction in progress commits (a
 * deleted image's file); a rollback keeps it, so the database never
 * names a file that is gone. */
void mkt_core_unlink_on_commit(mkt_core *core, const char *path);

#endif
