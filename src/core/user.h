/*
 * user.h: users, groups and authentication.
 *
 * Passwords are stored only as salted yescrypt hashes.  Verifying one costs
 * tens of milliseconds by design, so a verified session is remembered in an
 * in-memory cache keyed by a cheap keyed digest (BLAKE2b with a key made
 * per process): the cache never holds a password, and a password
 * change invalidates it because the entry also records the stored hash.
 * Failed logins are throttled (throttle.h); cached sessions never are.
 */
#ifndef MKT_USER_H
#define MKT_USER_H

#include "core.h"

/* A login in progress.  Verifying a password must not hold the core lock
 * (it is slow on purpose), so a login takes up to three steps:
 *
 *	mkt_login_init(&l, core, session, addr);             no lock
 *	lock; ret = mkt_user_authenticate(core, &l, &who);
 *	if (ret == 1) {                                      not in the cache
 *		unlock; mkt_user_verify(core, &l);           yescrypt, throttled
 *		lock; ret = mkt_user_authenticate(core, &l, &who);
 *	}
 *	... unlock; mkt_login_clear(&l);
 *
 * Failures are throttled per user and per client address (throttle.h). */
typedef struct {
	char *name;
	char *password;
	char *digest;             /* the session cache's key for the password */
	char *client_addr;
	char *stored_hash;        /* what mkt_user_verify() checks against */
	/* "user:secret:target": the federation's server user acting for user
	 * @on_behalf (passwords hold no ':', so this reads unambiguously). */
	char *on_behalf;
	int verified;             /* 0 not yet, 1 matches, -1 wrong or turned down */
} mkt_login;

void mkt_login_init(mkt_login *l, mkt_core *core, const char *session, const char *client_addr);
void mkt_login_clear(mkt_login *l);

/* With core->lock held: 0 with @out filled (caller clears it), 1 when the
 * password must first be verified by mkt_user_verify(), or MKT_EAUTH with
 * oned's message on any failure, without saying which part was wrong (nor
 * whether the back-off turned the login down).  A password changed since
 * it was verified fails.  On a federation master, the server user
 * (FEDERATION/SERVER_AUTH) may sign in as "serveradmin:secret:user" and
 * then is that user, with out->server set; anyone else naming a user so
 * fails. */
int mkt_user_authenticate(mkt_core *core, mkt_login *l, mkt_principal *out);
/* Without the core lock: verify the password mkt_user_authenticate()
 * asked for, unless the back-off turns the login down; counts failures. */
void mkt_user_verify(mkt_core *core, mkt_login *l);

/* Names for ids (caller frees); MKT_ENOTFOUND "Error getting user [n]." */
int mkt_user_name(mkt_core *core, int uid, char **out);
int mkt_group_name(mkt_core *core, int gid, char **out);

/* Hash a password for storage (caller frees). */
int mkt_user_hash_password(const char *password, char **out);

int mkt_user_allocate(mkt_core *core, const mkt_principal *who, const char *name,
		      const char *password, const char *driver, const int *gids,
		      size_t ngids, int *out_uid);
int mkt_user_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml);
int mkt_user_passwd(mkt_core *core, const mkt_principal *who, int id, const char *password);
int mkt_user_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_user_chgrp(mkt_core *core, const mkt_principal *who, int id, int gid);
int mkt_user_pool(mkt_core *core, const mkt_principal *who, char **out_xml);

int mkt_group_allocate(mkt_core *core, const mkt_principal *who, const char *name, int *out_gid);
int mkt_group_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml);
int mkt_group_delete(mkt_core *core, const mkt_principal *who, int id);
int mkt_group_pool(mkt_core *core, const mkt_principal *who, char **out_xml);

/* Make user @name (group oneadmin) exist with @password: the server user
 * of a federation master. */
int mkt_user_ensure(mkt_core *core, const char *name, const char *password);

/* Ids of the users whose groups include @gid (caller frees). */
int mkt_user_members(mkt_core *core, int gid, int **out_ids, size_t *out_n);

/* Insert a group inside the caller's transaction; @fixed_id >= 0 for the
 * built-in groups, else the next id from MKT_FIRST_USER_GROUP. */
int mkt_group_insert(mkt_core *core, const char *name, int fixed_id, int *out_gid);

/* Create the built-in groups and the oneadmin user (see core.h): 1 when
 * it did (a first start), 0 when they were there. */
int mkt_user_bootstrap(mkt_core *core, const char *auth_file);

mkt_auth_cache *mkt_auth_cache_new(void);
void mkt_auth_cache_free(mkt_auth_cache *c);

#endif
