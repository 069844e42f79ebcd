/*
 * user.c: users and authentication (see user.h; groups are in group.c).
 */
#include <config.h>

#include <crypt.h>
#include <sodium.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xml.h"
#include "object.h"
#include "throttle.h"
#include "user.h"

#define AUTH_CACHE_SIZE 256
#define AUTH_CACHE_TTL 300
#define MAX_GROUPS 64

typedef struct {
	int id;
	int gid;
	int gids[MAX_GROUPS];
	size_t ngids;
	char *name;
	char *password;     /* the stored hash */
	char *driver;
	int enabled;
	mkt_template *tmpl;
} user;

typedef struct {
	int uid;
	char *stored_hash;
	char *digest;
	time_t expires;
} cache_entry;

struct mkt_auth_cache {
	/* The sessions' digests are keyed BLAKE2b with a key that lives only
	 * in this process: the cache holds no password, and a digest costs
	 * ~1 us where sha256-crypt's 1000 rounds cost ~200 us a call (71% of
	 * the daemon's CPU at 4 000 calls/s).  Stored passwords keep their
	 * slow hash; a cached digest only ever matches within its TTL. */
	unsigned char key[crypto_generichash_KEYBYTES];   /* read-only once made */
	cache_entry entries[AUTH_CACHE_SIZE];   /* under the core lock */
	mkt_throttle *throttle;      /* its own lock */
};

static const char auth_failed[] = "User couldn't be authenticated, aborting call.";

/* ---- records ---------------------------------------------------------- */

static void user_clear(user *u)
{
	free(u->name);
	free(u->password);
	free(u->driver);
	mkt_template_free(u->tmpl);
	memset(u, 0, sizeof(*u));
}

/* oned answers the password hash here; marketd never lets it out of the
 * store, but OpenNebula's schema requires the element. */
#define PASSWORD_PLACEHOLDER "****"

/* user.xsd's order: ID GID GROUPS GNAME NAME PASSWORD AUTH_DRIVER ENABLED
 * (LOGIN_TOKEN: marketd has none) TEMPLATE, then for one.user.info only
 * the quota sets and DEFAULT_USER_QUOTAS (a pool lists its QUOTAS apart).
 * Only the store gets the real hash. */
static void user_format(const user *u, mkt_format_mode mode, const char *gname, mkt_buf *b)
{
	size_t i;

	mkt_buf_add(b, "<USER>");
	mkt_buf_add_elem_int(b, "ID", u->id);
	mkt_buf_add_elem_int(b, "GID", u->gid);
	mkt_buf_add(b, "<GROUPS>");
	for (i = 0; i < u->ngids; i++)
		mkt_buf_add_elem_int(b, "ID", u->gids[i]);
	mkt_buf_add(b, "</GROUPS>");
	mkt_buf_add_elem(b, "GNAME", gname);
	mkt_buf_add_elem(b, "NAME", u->name);
	mkt_buf_add_elem(b, "PASSWORD",
			 mode == MKT_FORMAT_STORE ? u->password : PASSWORD_PLACEHOLDER);
	mkt_buf_add_elem(b, "AUTH_DRIVER", u->driver);
	mkt_buf_add_elem_int(b, "ENABLED", u->enabled);
	mkt_template_format_xml(u->tmpl, b, NULL);
	if (mode == MKT_FORMAT_VIEW) {
		mkt_object_format_quotas(b);
		mkt_object_format_default_quotas(b, "DEFAULT_USER_QUOTAS");
	}
	mkt_buf_add(b, "</USER>");
}

static int user_parse_row(const mkt_store_row *row, void *payload)
{
	user *u = payload;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, groups, c;
	long long v;
	int ret;

	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		return ret;
	root = xmlDocGetRootElement(doc);
	u->id = row->oid;
	u->gid = row->gid;
	u->name = mkt_strdup(row->name);
	u->password = mkt_xml_child_text(root, "PASSWORD");
	u->driver = mkt_xml_child_text(root, "AUTH_DRIVER");
	u->enabled = mkt_xml_child_long(root, "ENABLED", &v) == 0 ? (int)v : 1;
	if ((groups = mkt_xml_child(root, "GROUPS"))) {
		for (c = groups->children; c && u->ngids < MAX_GROUPS; c = c->next) {
			xmlChar *t = xmlNodeGetContent(c);

			if (t && mkt_util_parse_long((const char *)t, &v) == 0)
				u->gids[u->ngids++] = (int)v;
			xmlFree(t);
		}
	}
	if (u->ngids == 0)
		u->gids[u->ngids++] = u->gid;
	if ((c = mkt_xml_child(root, "TEMPLATE")))
		ret = mkt_template_parse_xml_node(&u->tmpl, c);
	else
		u->tmpl = mkt_template_new();
	if (!u->password || !u->driver)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "stored user %d is corrupt", row->oid);
	xmlFreeDoc(doc);
	return ret;
}

static int user_load(mkt_core *core, int id, user *u)
{
	int ret = mkt_store_load(core->store, MKT_TABLE_USER, id, user_parse_row, u);

	/* A corrupt row leaves @u half filled: nothing for the caller. */
	if (ret < 0)
		user_clear(u);
	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE, "Error getting user [%d].", id);
	return ret;
}

static int user_save(mkt_core *core, const user *u, mkt_store_op op)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_store_row row = { .oid = u->id, .name = u->name, .uid = u->id, .gid = u->gid,
			      .parent = -1 };
	int ret;

	user_format(u, MKT_FORMAT_STORE, "", &b);
	row.body = mkt_buf_cstr(&b);
	ret = mkt_store_write(core->store, MKT_TABLE_USER, op, &row);
	mkt_buf_free(&b);
	return ret;
}

int mkt_user_name(mkt_core *core, int uid, char **out)
{
	user u = { 0 };
	int ret = user_load(core, uid, &u);

	if (ret == 0)
		*out = MKT_STEAL(u.name);
	user_clear(&u);
	return ret;
}

/* ---- passwords and the session cache --------------------------------- */

int mkt_user_hash_password(const char *password, char **out)
{
	struct crypt_data *cd = mkt_calloc(1, sizeof(*cd));
	char *salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	char *hash;
	int ret = 0;

	if (!salt) {
		ret = mkt_error_set_os(errno, "cannot generate a password salt");
		goto cleanup;
	}
	hash = crypt_r(password, salt, cd);
	if (!hash || hash[0] == '*') {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_AUTH, "cannot hash the password");
		goto cleanup;
	}
	*out = mkt_strdup(hash);

 cleanup:
	free(salt);
	free(cd);
	return ret;
}

static int password_matches(const char *password, const char *stored)
{
	struct crypt_data *cd = mkt_calloc(1, sizeof(*cd));
	const char *hash = crypt_r(password, stored, cd);
	int ok = hash && hash[0] != '*' && mkt_util_streq_ct(hash, stored);

	free(cd);
	return ok;
}

mkt_auth_cache *mkt_auth_cache_new(void)
{
	mkt_auth_cache *c;

	if (sodium_init() < 0)
		return NULL;
	c = mkt_calloc(1, sizeof(*c));
	randombytes_buf(c->key, sizeof(c->key));
	c->throttle = mkt_throttle_new();
	return c;
}

void mkt_auth_cache_free(mkt_auth_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < AUTH_CACHE_SIZE; i++) {
		free(c->entries[i].stored_hash);
		free(c->entries[i].digest);
	}
	sodium_memzero(c->key, sizeof(c->key));
	mkt_throttle_free(c->throttle);
	free(c);
}

static char *session_digest(mkt_auth_cache *c, const char *password)
{
	unsigned char md[32];
	char *out = mkt_malloc(2 * sizeof(md) + 1);

	crypto_generichash(md, sizeof(md), (const unsigned char *)password, strlen(password),
			   c->key, sizeof(c->key));
	mkt_util_hex(md, sizeof(md), out);
	return out;
}

static int cache_check(mkt_auth_cache *c, const user *u, const char *digest, time_t now)
{
	size_t i;

	for (i = 0; i < AUTH_CACHE_SIZE; i++) {
		cache_entry *e = &c->entries[i];

		if (e->digest && e->uid == u->id && e->expires > now &&
		    !strcmp(e->stored_hash, u->password) &&
		    mkt_util_streq_ct(e->digest, digest))
			return 1;
	}
	return 0;
}

static void cache_put(mkt_auth_cache *c, const user *u, const char *digest, time_t now)
{
	cache_entry *victim = &c->entries[0];
	size_t i;

	for (i = 0; i < AUTH_CACHE_SIZE; i++) {
		cache_entry *e = &c->entries[i];

		if (!e->digest || e->uid == u->id) {
			victim = e;
			break;
		}
		if (e->expires < victim->expires)
			victim = e;
	}
	free(victim->stored_hash);
	free(victim->digest);
	victim->uid = u->id;
	victim->stored_hash = mkt_strdup(u->password);
	victim->digest = mkt_strdup(digest);
	victim->expires = now + AUTH_CACHE_TTL;
}

static int principal_fill(mkt_core *core, const user *u, mkt_principal *out)
{
	size_t i;
	int ret;

	out->uid = u->id;
	out->gid = u->gid;
	out->uname = mkt_strdup(u->name);
	if ((ret = mkt_group_name(core, u->gid, &out->gname)) < 0)
		return ret;
	out->gids = mkt_calloc(u->ngids, sizeof(int));
	out->ngids = u->ngids;
	memcpy(out->gids, u->gids, u->ngids * sizeof(int));
	out->admin = u->id == MKT_ONEADMIN_UID;
	for (i = 0; i < u->ngids; i++) {
		if (u->gids[i] == MKT_ONEADMIN_GID)
			out->admin = 1;
	}
	return 0;
}

void mkt_login_init(mkt_login *l, mkt_core *core, const char *session, const char *client_addr)
{
	const char *colon = session ? strchr(session, ':') : NULL;

	memset(l, 0, sizeof(*l));
	l->client_addr = mkt_strdup(client_addr ? client_addr : "?");
	if (!colon)
		return;
	l->name = mkt_strndup(session, (size_t)(colon - session));
	l->password = mkt_strdup(colon + 1);
	/* "serveradmin:<secret>:<user>": the federation's server user acting
	 * for a user (federation.h).  Only that user's session is split, so
	 * other passwords may hold ':'. */
	if (core->conf->fed_server_user && !strcmp(l->name, core->conf->fed_server_user) &&
	    (colon = strchr(l->password, ':'))) {
		l->on_behalf = mkt_strdup(colon + 1);
		l->password[colon - l->password] = '\0';
	}
	/* The key never changes: the digest needs no lock. */
	l->digest = session_digest(core->auth_cache, l->password);
}

void mkt_login_clear(mkt_login *l)
{
	free(l->name);
	if (l->password)
		explicit_bzero(l->password, strlen(l->password));
	free(l->password);
	free(l->digest);
	free(l->client_addr);
	free(l->stored_hash);
	free(l->on_behalf);
	memset(l, 0, sizeof(*l));
}

static int login_failed(mkt_core *core, mkt_login *l)
{
	mkt_throttle_fail(core->auth_cache->throttle, l->name ? l->name : "", l->client_addr, 0);
	return mkt_error_set(MKT_EAUTH, MKT_ERR_AUTH, "%s", auth_failed);
}

/* Who a verified login is: its own user, or the user the federation's
 * server user acts for. */
static int login_principal(mkt_core *core, const mkt_login *l, const user *u,
			   mkt_principal *out)
{
	const mkt_config *c = core->conf;
	int server = c->fed_mode == MKT_FED_MASTER && c->fed_server_user &&
		     !strcmp(u->name, c->fed_server_user);
	user target = { 0 };
	int uid, ret;

	if (!l->on_behalf) {
		ret = principal_fill(core, u, out);
		out->server = server;
		return ret;
	}
	if (!server) {
		mkt_log(MKT_LOG_WARN, "auth", "user %s named a user to act for, but this zone "
			"is not the master: refused", u->name);
		return mkt_error_set(MKT_EAUTH, MKT_ERR_AUTH, "%s", auth_failed);
	}
	/* "<user>:<uid>": the uid as the asking zone knows it, so that a user
	 * deleted and made again under the same name on the master is not
	 * acted for on the word of a zone that has not seen it yet. */
	{
		char *name = mkt_strdup(l->on_behalf), *colon = strrchr(name, ':');
		long long want = -1;

		if (colon) {
			*colon = '\0';
			if (mkt_util_parse_long(colon + 1, &want) < 0)
				want = -2;
		}
		ret = mkt_store_lookup_name(core->store, MKT_TABLE_USER, name, -1, &uid);
		free(name);
		if (ret < 0 || want == -2 || (want >= 0 && want != uid) ||
		    user_load(core, uid, &target) < 0 || !target.enabled) {
			user_clear(&target);
			return mkt_error_set(MKT_EAUTH, MKT_ERR_AUTH, "%s", auth_failed);
		}
	}
	ret = principal_fill(core, &target, out);
	out->server = 1;
	user_clear(&target);
	return ret;
}

int mkt_user_authenticate(mkt_core *core, mkt_login *l, mkt_principal *out)
{
	time_t now = time(NULL);
	user u = { 0 };
	int uid, ret;

	if (!l->name)
		return login_failed(core, l);
	if (mkt_store_lookup_name(core->store, MKT_TABLE_USER, l->name, -1, &uid) < 0 ||
	    user_load(core, uid, &u) < 0 || !u.enabled) {
		ret = l->verified ? mkt_error_set(MKT_EAUTH, MKT_ERR_AUTH, "%s", auth_failed) :
				    login_failed(core, l);
		goto cleanup;
	}
	if (l->verified == 0 && l->digest && cache_check(core->auth_cache, &u, l->digest, now)) {
		ret = login_principal(core, l, &u, out);
		goto cleanup;
	}
	if (l->verified == 0) {
		free(l->stored_hash);
		l->stored_hash = mkt_strdup(u.password);
		ret = 1;
		goto cleanup;
	}
	/* mkt_user_verify() counted a failure already. */
	if (l->verified < 0 || strcmp(l->stored_hash, u.password) != 0) {
		ret = mkt_error_set(MKT_EAUTH, MKT_ERR_AUTH, "%s", auth_failed);
		goto cleanup;
	}
	if (l->digest)
		cache_put(core->auth_cache, &u, l->digest, now);
	ret = login_principal(core, l, &u, out);

 cleanup:
	user_clear(&u);
	return ret;
}

void mkt_user_verify(mkt_core *core, mkt_login *l)
{
	mkt_throttle *t = core->auth_cache->throttle;
	const char *server = core->conf->fed_server_user;
	/* Guesses at the server user's secret are throttled by address
	 * only: throttling its name would let anyone stop the zones. */
	const char *name = server && l->name && !strcmp(l->name, server) ? NULL : l->name;

	if (mkt_throttle_check(t, name, l->client_addr) < 0) {
		l->verified = -1;
		mkt_throttle_fail(t, name, l->client_addr, 1);
		return;
	}
	if (!password_matches(l->password, l->stored_hash)) {
		l->verified = -1;
		mkt_throttle_fail(t, name, l->client_addr, 0);
		return;
	}
	l->verified = 1;
	if (name)
		mkt_throttle_success(t, name);
}

/* ---- user operations ------------------------------------------------- */

static int check_password(const char *password)
{
	if (!password || !*password)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "Invalid password, it cannot be empty");
	if (strchr(password, ':') || strpbrk(password, " \t\r\n"))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "Invalid password, it cannot contain ':' or white space");
	return 0;
}

static int user_insert(mkt_core *core, const char *name, const char *password,
		       const char *driver, const int *gids, size_t ngids, int fixed_id,
		       int *out_uid)
{
	user u = { 0 };
	size_t i;
	int ret, other;

	if ((ret = check_password(password)) < 0)
		return ret;
	if (mkt_store_lookup_name(core->store, MKT_TABLE_USER, name, -1, &other) == 0)
		return mkt_error_set(MKT_EEXISTS, MKT_ERR_CORE, "NAME is already taken by USER %d",
				     other);
	if (ngids > MAX_GROUPS)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "a user can be in at most %d groups",
				     MAX_GROUPS);
	for (i = 0; i < ngids; i++) {
		char *gname = NULL;

		ret = mkt_group_name(core, gids[i], &gname);
		free(gname);
		if (ret < 0)
			return ret;
	}
	u.name = mkt_strdup(name);
	u.driver = mkt_strdup(driver && *driver ? driver : "core");
	u.enabled = 1;
	u.tmpl = mkt_template_new();
	if (ngids == 0) {
		u.gids[u.ngids++] = MKT_USERS_GID;
	} else {
		memcpy(u.gids, gids, ngids * sizeof(int));
		u.ngids = ngids;
	}
	u.gid = u.gids[0];
	if ((ret = mkt_user_hash_password(password, &u.password)) < 0)
		goto cleanup;
	if (fixed_id >= 0)
		u.id = fixed_id;
	else if ((ret = mkt_store_next_oid(core->store, MKT_TABLE_USER, 1, &u.id)) < 0)
		goto cleanup;
	if ((ret = user_save(core, &u, MKT_STORE_INSERT)) < 0)
		goto cleanup;
	*out_uid = u.id;

 cleanup:
	user_clear(&u);
	return ret;
}

int mkt_user_allocate(mkt_core *core, const mkt_principal *who, const char *name,
		      const char *password, const char *driver, const int *gids,
		      size_t ngids, int *out_uid)
{
	int ret;

	if ((ret = mkt_principal_require_admin(who, "CREATE", "USER", -1)) < 0 ||
	    (ret = mkt_object_validate_name(name)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	ret = user_insert(core, name, password, driver, gids, ngids, -1, out_uid);
	return mkt_core_end(core, ret);
}

static int may_see_user(const mkt_principal *who, int id)
{
	return who->admin || who->uid == id;
}

int mkt_user_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	char *gname = NULL;
	user u = { 0 };
	int ret;

	if (id == -1)
		id = who->uid;
	if ((ret = user_load(core, id, &u)) < 0)
		return ret;
	if (!may_see_user(who, id)) {
		ret = mkt_principal_require_admin(who, "USE", "USER", id);
		goto cleanup;
	}
	if ((ret = mkt_group_name(core, u.gid, &gname)) < 0)
		goto cleanup;
	user_format(&u, MKT_FORMAT_VIEW, gname, &b);
	*out_xml = mkt_buf_steal(&b);

 cleanup:
	free(gname);
	user_clear(&u);
	return ret;
}

int mkt_user_passwd(mkt_core *core, const mkt_principal *who, int id, const char *password)
{
	user u = { 0 };
	int ret;

	if ((ret = check_password(password)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = user_load(core, id, &u)) < 0)
		goto cleanup;
	if (!may_see_user(who, id)) {
		ret = mkt_principal_require_admin(who, "MANAGE", "USER", id);
		goto cleanup;
	}
	free(u.password);
	u.password = NULL;
	if ((ret = mkt_user_hash_password(password, &u.password)) < 0)
		goto cleanup;
	ret = user_save(core, &u, MKT_STORE_UPDATE);

 cleanup:
	user_clear(&u);
	return mkt_core_end(core, ret);
}

int mkt_user_delete(mkt_core *core, const mkt_principal *who, int id)
{
	user u = { 0 };
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = user_load(core, id, &u)) < 0)
		goto cleanup;
	if ((ret = mkt_principal_require_admin(who, "ADMIN", "USER", id)) < 0)
		goto cleanup;
	if (id == MKT_ONEADMIN_UID) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "The oneadmin user cannot be deleted");
		goto cleanup;
	}
	ret = user_save(core, &u, MKT_STORE_DELETE);

 cleanup:
	user_clear(&u);
	return mkt_core_end(core, ret);
}

int mkt_user_chgrp(mkt_core *core, const mkt_principal *who, int id, int gid)
{
	char *gname = NULL;
	user u = { 0 };
	size_t i;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = user_load(core, id, &u)) < 0 || (ret = mkt_group_name(core, gid, &gname)) < 0)
		goto cleanup;
	if ((ret = mkt_principal_require_admin(who, "MANAGE", "USER", id)) < 0)
		goto cleanup;
	/* The new primary group replaces the old one in the group list. */
	for (i = 0; i < u.ngids; i++) {
		if (u.gids[i] == u.gid || u.gids[i] == gid) {
			memmove(&u.gids[i], &u.gids[i + 1], (u.ngids - i - 1) * sizeof(int));
			u.ngids--;
			i--;
		}
	}
	memmove(&u.gids[1], &u.gids[0], u.ngids * sizeof(int));
	u.gids[0] = gid;
	u.ngids++;
	u.gid = gid;
	ret = user_save(core, &u, MKT_STORE_UPDATE);

 cleanup:
	user_clear(&u);
	free(gname);
	return mkt_core_end(core, ret);
}

static int user_pool_row(mkt_core *core, const mkt_store_row *row, mkt_buf *b, void *payload)
{
	const mkt_principal *who = payload;
	char *gname = NULL;
	user u = { 0 };
	int ret;

	if (!may_see_user(who, row->oid))
		return 0;
	if ((ret = user_parse_row(row, &u)) == 0 &&
	    (ret = mkt_group_name(core, u.gid, &gname)) == 0) {
		user_format(&u, MKT_FORMAT_POOL, gname, b);
		mkt_object_format_pool_quotas(b, u.id);
	}
	free(gname);
	user_clear(&u);
	return ret;
}

int mkt_user_pool(mkt_core *core, const mkt_principal *who, char **out_xml)
{
	char *defaults = mkt_object_default_quotas("DEFAULT_USER_QUOTAS");
	mkt_store_query q;
	int ret;

	/* user_pool.xsd: each USER followed by its QUOTAS, then the defaults once. */
	mkt_store_query_init(&q);
	ret = mkt_core_pool(core, MKT_TABLE_USER, &q, "USER_POOL", defaults, user_pool_row, (void *)who,
			    out_xml);
	free(defaults);
	return ret;
}

typedef struct {
	int gid;
	int *ids;
	size_t n;
} members_ctx;

static int member_row(const mkt_store_row *row, void *payload)
{
	members_ctx *mc = payload;
	user u = { 0 };
	size_t i;
	int ret = user_parse_row(row, &u);

	for (i = 0; ret == 0 && i < u.ngids; i++) {
		if (u.gids[i] == mc->gid) {
			mc->ids = mkt_realloc(mc->ids, (mc->n + 1) * sizeof(int));
			mc->ids[mc->n++] = u.id;
			break;
		}
	}
	user_clear(&u);
	return ret;
}

int mkt_user_members(mkt_core *core, int gid, int **out_ids, size_t *out_n)
{
	members_ctx mc = { gid, NULL, 0 };
	mkt_store_query q;
	int ret;

	mkt_store_query_init(&q);
	if ((ret = mkt_store_list(core->store, MKT_TABLE_USER, &q, member_row, &mc)) < 0) {
		free(mc.ids);
		return ret;
	}
	*out_ids = mc.ids;
	*out_n = mc.n;
	return 0;
}

/* ---- first start ----------------------------------------------------- */

static int row_exists(const mkt_store_row *row, void *payload)
{
	return 0;
}

static int read_or_make_credentials(const char *auth_file, char **out_user, char **out_pw)
{
	char *text = NULL, *colon, *dir = NULL, *slash;
	unsigned char rnd[18];
	int ret;

	ret = mkt_util_read_file(&text, auth_file, 4096);
	if (ret == 0) {
		mkt_util_trim(text);
		if (!(colon = strchr(text, ':')) || colon == text || !colon[1]) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
					    "'%s' must hold 'oneadmin:<password>'", auth_file);
			goto cleanup;
		}
		*colon = '\0';
		*out_user = mkt_strdup(text);
		*out_pw = mkt_strdup(colon + 1);
		mkt_log(MKT_LOG_INFO, "core", "oneadmin credentials taken from %s", auth_file);
		goto cleanup;
	}
	if (ret != MKT_ENOTFOUND)
		goto cleanup;

	/* No file: generate 144 random bits, written where clients look. */
	if ((ret = mkt_util_random(rnd, sizeof(rnd))) < 0)
		goto cleanup;
	*out_pw = mkt_util_base64_encode(rnd, sizeof(rnd));
	for (char *p = *out_pw; *p; p++) {
		if (*p == '/')
			*p = '_';
		else if (*p == '+')
			*p = '-';
	}
	*out_user = mkt_strdup("oneadmin");
	dir = mkt_strdup(auth_file);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if ((ret = mkt_util_mkdir_p(dir, 0700)) < 0)
			goto cleanup;
	}
	free(text);
	text = mkt_asprintf("%s:%s\n", *out_user, *out_pw);
	if ((ret = mkt_util_write_file(auth_file, text, strlen(text), 0600)) < 0)
		goto cleanup;
	mkt_log(MKT_LOG_INFO, "core", "generated a password for oneadmin and wrote it to %s",
		auth_file);

 cleanup:
	free(text);
	free(dir);
	return ret;
}

int mkt_user_bootstrap(mkt_core *core, const char *auth_file)
{
	char *name = NULL, *pw = NULL;
	int ret, id, gid0 = MKT_ONEADMIN_GID;

	if (mkt_store_load(core->store, MKT_TABLE_USER, MKT_ONEADMIN_UID, row_exists, NULL) == 0)
		return 0;
	if ((ret = read_or_make_credentials(auth_file, &name, &pw)) < 0)
		goto out;
	if ((ret = mkt_object_validate_name(name)) < 0)
		goto out;
	if ((ret = mkt_core_begin(core)) < 0)
		goto out;
	if ((ret = mkt_group_insert(core, "oneadmin", MKT_ONEADMIN_GID, &id)) < 0 ||
	    (ret = mkt_group_insert(core, "users", MKT_USERS_GID, &id)) < 0 ||
	    (ret = user_insert(core, name, pw, "core", &gid0, 1, MKT_ONEADMIN_UID, &id)) < 0)
		goto end;
	mkt_log(MKT_LOG_INFO, "core", "created user %s (uid 0) and groups oneadmin, users",
			name);
 end:
	if ((ret = mkt_core_end(core, ret)) == 0)
		ret = 1;
 out:
	free(name);
	free(pw);
	return ret;
}

int mkt_user_ensure(mkt_core *core, const char *name, const char *password)
{
	int ret, id, gid0 = MKT_ONEADMIN_GID;
	user u = { 0 };

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if (mkt_store_lookup_name(core->store, MKT_TABLE_USER, name, -1, &id) < 0) {
		mkt_error_clear();
		if ((ret = user_insert(core, name, password, "server_cipher", &gid0, 1, -1, &id)) == 0)
			mkt_log(MKT_LOG_INFO, "core", "created user %s (uid %d) for the zones of "
				"the federation", name, id);
		goto cleanup;
	}
	if ((ret = user_load(core, id, &u)) < 0 || password_matches(password, u.password))
		goto cleanup;
	free(u.password);
	u.password = NULL;
	if ((ret = mkt_user_hash_password(password, &u.password)) == 0 &&
	    (ret = user_save(core, &u, MKT_STORE_UPDATE)) == 0)
		mkt_log(MKT_LOG_INFO, "core", "user %s: password set from SERVER_AUTH", name);

 cleanup:
	user_clear(&u);
	return mkt_core_end(core, ret);
}
