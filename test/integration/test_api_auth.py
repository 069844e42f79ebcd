#!/usr/bin/env python3
"""Authentication, users, groups and permissions against a real marketd.

One daemon for the module; the first-start password tests use daemons of
their own."""

import sys
sys.dont_write_bytecode = True

import os
import stat

import harness
from harness import (AUTHENTICATION, AUTHORIZATION, NO_EXISTS,
                     octal_perms, perms, pool_ids, tmpl, xint, xml, xtext)

D = None
AUTH_MSG = "User couldn't be authenticated, aborting call."


def setUpModule():
    global D
    D = harness.module_daemon(name="auth")


def tearDownModule():
    harness.stop_module_daemon(D)


def auth_failure(method):
    return [False, "[%s] %s" % (method, AUTH_MSG), AUTHENTICATION, -1, -1]


def user_ids(session=None):
    return pool_ids(D.ok("one.userpool.info", session=session), "USER_POOL", "USER")


def group_ids():
    return pool_ids(D.ok("one.grouppool.info"), "GROUP_POOL", "GROUP")


def tag_index(elem, tag):
    for i, c in enumerate(elem):
        if c.tag == tag:
            return i
    raise AssertionError("<%s> has no <%s>" % (elem.tag, tag))


class BadSession(harness.TestCase):

    def test_bad_password(self):
        self.assertEqual(D.rpc("one.market.info", 100, session="oneadmin:wrong"),
                         auth_failure("one.market.info"))

    def test_unknown_user(self):
        self.assertEqual(D.rpc("one.market.info", 100, session="nobody:" + D.password),
                         auth_failure("one.market.info"))

    def test_malformed_sessions(self):
        for s in ["", "oneadmin", ":", "oneadmin:", ":" + D.password,
                  "oneadmin:%s:x" % D.password, "oneadmin:%s " % D.password,
                  "oneadmin:" + D.password.upper(),
                  "\u00e9:\u00e9", "oneadmin:" + "x" * 10000]:
            with self.subTest(session=s[:40]):
                self.assertEqual(D.rpc("one.market.info", 100, session=s),
                                 auth_failure("one.market.info"))

    def test_authentication_checked_first(self):
        # Even for a missing object or bad arguments the answer is 256.
        self.assertEqual(D.rpc("one.market.info", 99999, session="oneadmin:bad"),
                         auth_failure("one.market.info"))
        self.assertEqual(D.rpc("one.market.allocate", "NAME=x", session="oneadmin:bad"),
                         auth_failure("one.market.allocate"))

    def test_every_method_authenticates(self):
        calls = [("one.system.version", ()), ("one.system.config", ()),
                 ("one.marketpool.info", ()), ("one.marketapppool.info", (-2, -1, -1)),
                 ("one.market.allocate", (tmpl(NAME="evil", MARKET_MAD="one"),)),
                 ("one.market.delete", (100,)),
                 ("one.marketapp.info", (0,)), ("one.marketapp.lock", (0, 1, False)),
                 ("one.user.info", (-1,)), ("one.userpool.info", ()),
                 ("one.user.allocate", ("evil", "pw", "core", [])),
                 ("one.user.passwd", (0, "owned")),
                 ("one.group.allocate", ("evil",)), ("one.grouppool.info", ())]
        for method, args in calls:
            with self.subTest(method=method):
                self.assertEqual(D.rpc(method, *args, session="oneadmin:nope"),
                                 auth_failure(method))
        # Nothing was done.
        self.assertNotIn("evil", D.ok("one.marketpool.info"))
        self.assertNotIn("evil", D.ok("one.userpool.info"))
        self.assertNotIn("evil", D.ok("one.grouppool.info"))
        D.ok("one.user.info", -1)


class Users(harness.TestCase):

    def test_oneadmin_self_info(self):
        u = D.info("user", -1)
        self.assertEqual(u.tag, "USER")
        self.assertEqual(xint(u, "ID"), 0)
        self.assertEqual(xtext(u, "NAME"), "oneadmin")
        self.assertEqual(xint(u, "GID"), 0)
        self.assertEqual(xtext(u, "GNAME"), "oneadmin")
        self.assertIn(0, [int(e.text) for e in u.find("GROUPS").findall("ID")])
        self.assertEqual(xtext(u, "AUTH_DRIVER"), "core")
        self.assertEqual(xint(u, "ENABLED"), 1)
        self.assertNotIn(D.password, D.ok("one.user.info", -1))
        self.assertEqual(D.ok("one.user.info", 0), D.ok("one.user.info", -1))

    def test_allocate_and_info(self):
        pw = "Secret-Pw-123"
        uid = D.ok("one.user.allocate", "alice", pw, "core", [])
        self.assertGreater(uid, 0)
        raw = D.ok("one.user.info", uid)
        self.assertNotIn(pw, raw, "user.info must not show the password in clear")
        u = xml(raw)
        self.assertEqual(u.tag, "USER")
        order = [tag_index(u, t) for t in
                 ("ID", "GID", "GROUPS", "GNAME", "NAME", "AUTH_DRIVER", "ENABLED")]
        self.assertEqual(order, sorted(order), "USER children out of order: %r"
                         % [c.tag for c in u])
        self.assertEqual(xint(u, "ID"), uid)
        self.assertEqual(xint(u, "GID"), 1)
        self.assertEqual(xtext(u, "GNAME"), "users")
        self.assertEqual([int(e.text) for e in u.find("GROUPS").findall("ID")], [1])
        self.assertEqual(xtext(u, "NAME"), "alice")
        self.assertEqual(xtext(u, "AUTH_DRIVER"), "core")
        self.assertEqual(xint(u, "ENABLED"), 1)
        # The new user can log in and sees itself as -1.
        me = D.info("user", -1, session="alice:" + pw)
        self.assertEqual(xint(me, "ID"), uid)
        self.assertEqual(D.rpc("one.user.info", -1, session="alice:wrong"),
                         auth_failure("one.user.info"))

    def test_allocate_in_group(self):
        gid = D.group("team")
        uid, s = D.user("bob", groups=[gid])
        u = D.info("user", uid)
        self.assertEqual(xint(u, "GID"), gid)
        self.assertEqual(xtext(u, "GNAME"), "team")
        self.assertIn(gid, [int(e.text) for e in u.find("GROUPS").findall("ID")])

    def test_duplicate_user(self):
        D.user("dupuser")
        r = D.rpc("one.user.allocate", "dupuser", "x", "core", [])
        self.assertFailure(r, "one.user.allocate")

    def test_userpool(self):
        pw = "PoolPw-987"
        uid = D.ok("one.user.allocate", "carol", pw, "core", [])
        raw = D.ok("one.userpool.info")
        self.assertNotIn(pw, raw)
        self.assertNotIn(D.password, raw)
        pool = xml(raw)
        self.assertEqual(pool.tag, "USER_POOL")
        ids = [xint(u, "ID") for u in pool.findall("USER")]
        self.assertEqual(ids, sorted(ids))
        self.assertIn(0, ids)
        self.assertIn(uid, ids)
        names = {xint(u, "ID"): xtext(u, "NAME") for u in pool.findall("USER")}
        self.assertEqual(names[0], "oneadmin")
        self.assertEqual(names[uid], "carol")

    def test_change_own_password(self):
        uid, s = D.user("dave", password="old-pw")
        self.assertOk(D.rpc("one.user.passwd", uid, "new-pw", session=s), "one.user.passwd")
        self.assertEqual(D.rpc("one.user.info", -1, session="dave:old-pw"),
                         auth_failure("one.user.info"))
        self.assertEqual(xint(D.info("user", -1, session="dave:new-pw"), "ID"), uid)
        self.assertNotIn("new-pw", D.ok("one.user.info", uid))

    def test_admin_changes_password(self):
        uid, s = D.user("erin", password="e1")
        D.ok("one.user.passwd", uid, "e2")
        self.assertEqual(D.rpc("one.user.info", -1, session=s), auth_failure("one.user.info"))
        D.ok("one.user.info", -1, session="erin:e2")

    def test_user_cannot_change_other_password(self):
        victim, vs = D.user("victim", password="v1")
        _, s = D.user("mallory")
        r = D.rpc("one.user.passwd", victim, "pwned", session=s)
        self.assertFailure(r, "one.user.passwd")
        D.ok("one.user.info", -1, session=vs)
        self.assertEqual(D.rpc("one.user.info", -1, session="victim:pwned"),
                         auth_failure("one.user.info"))

    def test_delete_user(self):
        uid, s = D.user("frank")
        self.assertOk(D.rpc("one.user.delete", uid), "one.user.delete")
        self.assertEqual(D.rpc("one.user.info", -1, session=s), auth_failure("one.user.info"))
        self.assertFailure(D.rpc("one.user.info", uid), "one.user.info", NO_EXISTS, resp_id=uid)
        self.assertNotIn(uid, user_ids())

    def test_user_ids_not_reused(self):
        uid, _ = D.user("reuse-1")
        D.ok("one.user.delete", uid)
        uid2, _ = D.user("reuse-2")
        self.assertGreater(uid2, uid)

    def test_missing_user(self):
        self.assertFailure(D.rpc("one.user.info", 88888), "one.user.info", NO_EXISTS,
                           resp_id=88888)

    def test_chgrp(self):
        gid = D.group("chgrp-g")
        uid, s = D.user("gina")
        self.assertOk(D.rpc("one.user.chgrp", uid, gid), "one.user.chgrp")
        u = D.info("user", uid)
        self.assertEqual(xint(u, "GID"), gid)
        self.assertEqual(xtext(u, "GNAME"), "chgrp-g")
        self.assertIn(gid, [int(e.text) for e in u.find("GROUPS").findall("ID")])
        # Objects the user creates now belong to the new group.
        mid = D.market("chgrp-market")
        D.ok("one.market.chmod", mid, *harness.chmod_args("604"))
        aid = D.app("chgrp-app", mid, session=s)
        self.assertEqual(xint(D.info("marketapp", aid), "GID"), gid)

    def test_chgrp_missing_group(self):
        uid, _ = D.user("henry")
        self.assertFailure(D.rpc("one.user.chgrp", uid, 77777), "one.user.chgrp")
        self.assertEqual(xint(D.info("user", uid), "GID"), 1)

    def test_database_has_no_clear_password(self):
        pw = "Very-Distinctive-Password-4711"
        D.ok("one.user.allocate", "ivan", pw, "core", [])
        needles = [pw.encode(), D.password.encode()]
        for root, _, files in os.walk(D.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                for n in needles:
                    self.assertNotIn(n, data, "clear-text password stored in %s" % f)


class Groups(harness.TestCase):

    def test_builtin_groups(self):
        self.assertEqual(xtext(D.info("group", 0), "NAME"), "oneadmin")
        self.assertEqual(xtext(D.info("group", 1), "NAME"), "users")

    def test_allocate_info_delete(self):
        gid = D.group("grp")
        self.assertGreaterEqual(gid, 100)
        g = D.info("group", gid)
        self.assertEqual(g.tag, "GROUP")
        self.assertEqual(xint(g, "ID"), gid)
        self.assertEqual(xtext(g, "NAME"), "grp")
        self.assertOk(D.rpc("one.group.delete", gid), "one.group.delete")
        self.assertFailure(D.rpc("one.group.info", gid), "one.group.info", NO_EXISTS,
                           resp_id=gid)
        self.assertNotIn(gid, group_ids())

    def test_ids_increase(self):
        a = D.group("grp-a")
        b = D.group("grp-b")
        self.assertGreater(b, a)

    def test_grouppool(self):
        gid = D.group("grp-pool")
        pool = xml(D.ok("one.grouppool.info"))
        self.assertEqual(pool.tag, "GROUP_POOL")
        names = {xint(g, "ID"): xtext(g, "NAME") for g in pool.findall("GROUP")}
        self.assertEqual(names[0], "oneadmin")
        self.assertEqual(names[1], "users")
        self.assertEqual(names[gid], "grp-pool")
        ids = [xint(g, "ID") for g in pool.findall("GROUP")]
        self.assertEqual(ids, sorted(ids))

    def test_duplicate_group(self):
        D.group("grp-dup")
        self.assertFailure(D.rpc("one.group.allocate", "grp-dup"), "one.group.allocate")


class AdminOnly(harness.TestCase):
    """Only members of the oneadmin group create/delete users and groups
    and allocate markets."""

    @classmethod
    def setUpClass(cls):
        cls.uid, cls.s = D.user("plain")
        cls.victim, _ = D.user("admin-only-victim")
        cls.vgroup = D.group("admin-only-group")

    def denied(self, method, *args):
        r = D.rpc(method, *args, session=self.s)
        self.assertFailure(r, method, AUTHORIZATION, contains="Not authorized")

    def test_plain_user_cannot_allocate_user(self):
        self.denied("one.user.allocate", "sneaky", "pw", "core", [])
        self.assertNotIn("sneaky", D.ok("one.userpool.info"))

    def test_plain_user_cannot_allocate_admin_user(self):
        self.denied("one.user.allocate", "sneaky0", "pw", "core", [0])
        self.assertNotIn("sneaky0", D.ok("one.userpool.info"))

    def test_plain_user_cannot_delete_user(self):
        self.denied("one.user.delete", self.victim)
        D.info("user", self.victim)

    def test_plain_user_cannot_allocate_group(self):
        self.denied("one.group.allocate", "sneaky-g")
        self.assertNotIn("sneaky-g", D.ok("one.grouppool.info"))

    def test_plain_user_cannot_delete_group(self):
        self.denied("one.group.delete", self.vgroup)
        D.info("group", self.vgroup)

    def test_plain_user_cannot_allocate_market(self):
        self.denied("one.market.allocate",
                    tmpl(NAME="sneaky-m", MARKET_MAD="http", BASE_URL="http://x/",
                         PUBLIC_DIR=D.public_dir))
        self.assertNotIn("sneaky-m", D.ok("one.marketpool.info"))

    def test_plain_user_cannot_chgrp_self_to_oneadmin(self):
        r = D.rpc("one.user.chgrp", self.uid, 0, session=self.s)
        self.assertFailure(r, "one.user.chgrp")
        self.assertEqual(xint(D.info("user", self.uid), "GID"), 1)

    def test_system_config_admin_only(self):
        self.denied("one.system.config")

    def test_oneadmin_group_member_can(self):
        uid, s = D.user("deputy", groups=[0])
        nuid = D.ok("one.user.allocate", "deputy-made", "pw", "core", [], session=s)
        D.info("user", nuid)
        gid = D.ok("one.group.allocate", "deputy-group", session=s)
        D.info("group", gid)
        mid = D.ok("one.market.allocate",
                   tmpl(NAME="deputy-m", MARKET_MAD="http", BASE_URL="http://x/",
                        PUBLIC_DIR=D.public_dir), session=s)
        self.assertEqual(xint(D.info("market", mid), "UID"), uid)
        self.assertOk(D.rpc("one.user.delete", nuid, session=s), "one.user.delete")
        self.assertOk(D.rpc("one.group.delete", gid, session=s), "one.group.delete")
        xml(D.ok("one.system.config", session=s))


class Permissions(harness.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.ua = D.user("perm-a")   # both in group users
        cls.ub = D.user("perm-b")
        cls.mid = D.market("perm-market")
        D.ok("one.market.chmod", cls.mid, *harness.chmod_args("644"))

    def market_ids(self, session):
        return pool_ids(D.ok("one.marketpool.info", session=session),
                        "MARKETPLACE_POOL", "MARKETPLACE")

    def not_authorized(self, reply, method):
        self.assertFailure(reply, method, AUTHORIZATION, contains="Not authorized")

    def test_market_visibility(self):
        uid, s = self.ua
        mid = D.market("perm-hidden")
        self.assertNotIn(mid, self.market_ids(s))
        self.not_authorized(D.rpc("one.market.info", mid, session=s), "one.market.info")
        D.ok("one.market.chmod", mid, *harness.chmod_args("604"))
        self.assertIn(mid, self.market_ids(s))
        self.assertEqual(xint(D.info("market", mid, session=s), "ID"), mid)
        # USE only: no MANAGE operation.
        for method, args in [("one.market.update", ('X="1"', 1)),
                             ("one.market.rename", ("perm-stolen",)),
                             ("one.market.chmod", tuple(harness.chmod_args("777"))),
                             ("one.market.enable", (False,)),
                             ("one.market.delete", ())]:
            with self.subTest(method=method):
                self.not_authorized(D.rpc(method, mid, *args, session=s), method)
        m = D.info("market", mid)
        self.assertEqual(xtext(m, "NAME"), "perm-hidden")
        self.assertEqual(perms(m), octal_perms("604"))
        self.assertEqual(xint(m, "STATE"), 0)
        # Other MANAGE lets the user update and rename.
        D.ok("one.market.chmod", mid, *harness.chmod_args("606"))
        D.ok("one.market.update", mid, 'X="1"', 1, session=s)
        D.ok("one.market.rename", mid, "perm-renamed", session=s)
        self.assertEqual(xtext(D.info("market", mid), "NAME"), "perm-renamed")

    def test_app_manage_denied(self):
        uid, s = self.ua
        aid = D.app("perm-app", self.mid, session=self.ub[1])
        D.ok("one.marketapp.chmod", aid, *harness.chmod_args("644"))
        D.ok("one.marketapp.info", aid, session=s)            # group USE
        r = D.rpc("one.marketapp.update", aid, 'X="1"', 1, session=s)
        self.not_authorized(r, "one.marketapp.update")
        self.assertIn("[%d]" % aid, r[1])
        self.assertIn(str(uid), r[1])
        for method, args in [("one.marketapp.rename", ("perm-stolen",)),
                             ("one.marketapp.chmod", tuple(harness.chmod_args("777"))),
                             ("one.marketapp.delete", ())]:
            with self.subTest(method=method):
                self.not_authorized(D.rpc(method, aid, *args, session=s), method)
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "NAME"), "perm-app")
        self.assertEqual(perms(a), octal_perms("644"))

    def test_app_group_manage(self):
        _, s = self.ua
        aid = D.app("perm-grp", self.mid, session=self.ub[1])
        D.ok("one.marketapp.chmod", aid, *harness.chmod_args("660"))
        D.ok("one.marketapp.update", aid, 'X="1"', 1, session=s)
        D.ok("one.marketapp.rename", aid, "perm-grp-renamed", session=s)
        self.assertEqual(xtext(D.info("marketapp", aid), "NAME"), "perm-grp-renamed")

    def test_app_invisible_to_other_user(self):
        _, s = self.ua
        aid = D.app("perm-priv", self.mid, session=self.ub[1])
        self.not_authorized(D.rpc("one.marketapp.info", aid, session=s), "one.marketapp.info")
        self.not_authorized(D.rpc("one.marketapp.delete", aid, session=s),
                            "one.marketapp.delete")
        self.assertNotIn(aid, pool_ids(D.ok("one.marketapppool.info", -2, -1, -1, session=s),
                                       "MARKETPLACEAPP_POOL", "MARKETPLACEAPP"))
        D.info("marketapp", aid)

    def test_owner_can_chmod_with_manage(self):
        # chmod is a MANAGE operation: the owner (default u=um) may change the
        # group/other USE and MANAGE bits of its own app and market.
        uid, s = self.ub
        aid = D.app("perm-own-chmod", self.mid, session=s)
        self.assertEqual(D.ok("one.marketapp.chmod", aid, *harness.chmod_args("640"),
                              session=s), aid)
        self.assertEqual(perms(D.info("marketapp", aid)), octal_perms("640"))
        self.assertEqual(D.ok("one.marketapp.chmod", aid, -1, -1, -1, -1, 1, -1, 1, -1, -1,
                              session=s), aid)
        self.assertEqual(perms(D.info("marketapp", aid)), octal_perms("664"))

    def test_group_manage_allows_chmod(self):
        _, s = self.ua
        aid = D.app("perm-grp-chmod", self.mid, session=self.ub[1])
        D.ok("one.marketapp.chmod", aid, *harness.chmod_args("660"))
        self.assertEqual(D.ok("one.marketapp.chmod", aid, *harness.chmod_args("664"),
                              session=s), aid)

    def test_oneadmin_does_everything(self):
        aid = D.app("perm-admin", self.mid, session=self.ub[1])
        D.ok("one.marketapp.chmod", aid, *harness.chmod_args("000"))
        D.info("marketapp", aid)
        self.assertIn(aid, pool_ids(D.ok("one.marketapppool.info", -2, -1, -1),
                                    "MARKETPLACEAPP_POOL", "MARKETPLACEAPP"))
        D.ok("one.marketapp.update", aid, 'X="1"', 1)
        D.ok("one.marketapp.rename", aid, "perm-admin-2")
        D.ok("one.marketapp.chown", aid, 0, 0)
        D.ok("one.marketapp.delete", aid)


class ContentOfOthers(harness.TestCase):
    """Issue 10, first fix: an app's content is decided by one rule, and
    that rule's choice is what the permission check looks at.  Empty
    IMPORT_SOURCE/PATH are absent; ORIGIN_ID is then the content."""

    @classmethod
    def setUpClass(cls):
        cls.uid, cls.s = D.user("content-thief")
        cls.mid = D.market("content-market")
        D.ok("one.market.chmod", cls.mid, *harness.chmod_args("644"))
        cls.img = D.image("content-private")      # oneadmin's, um-/---/---

    def app_ids(self):
        return pool_ids(D.ok("one.marketapppool.info", -2, -1, -1),
                        "MARKETPLACEAPP_POOL", "MARKETPLACEAPP")

    def refused(self, code, **attrs):
        before = self.app_ids()
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="stolen", **attrs), self.mid,
                  session=self.s)
        self.assertFailure(r, "one.marketapp.allocate", code)
        self.assertEqual(self.app_ids(), before, "a refused allocate left an app")
        return r

    def test_plain_origin_of_private_image(self):
        self.refused(AUTHORIZATION, ORIGIN_ID=str(self.img))

    def test_empty_import_source_falls_back_to_origin(self):
        self.refused(AUTHORIZATION, IMPORT_SOURCE="", ORIGIN_ID=str(self.img))

    def test_empty_path_falls_back_to_origin(self):
        self.refused(AUTHORIZATION, PATH="", ORIGIN_ID=str(self.img))

    def test_both_empty_fall_back_to_origin(self):
        self.refused(AUTHORIZATION, IMPORT_SOURCE="", PATH="", ORIGIN_ID=str(self.img))

    def test_empty_import_source_then_local_path(self):
        # PATH is the content when IMPORT_SOURCE is empty: a local file,
        # which only the oneadmin group may name.
        r = self.refused(AUTHORIZATION, IMPORT_SOURCE="", PATH="/etc/passwd")
        self.assertIn("local paths", r[1])

    def test_source_and_origin_together_refused(self):
        r = self.refused(harness.ALLOCATE, IMPORT_SOURCE="http://127.0.0.1:9/x",
                         ORIGIN_ID=str(self.img))
        self.assertIn("not both", r[1])

    def test_nothing_at_all(self):
        r = self.refused(harness.ALLOCATE, IMPORT_SOURCE="", PATH="", ORIGIN_ID="")
        self.assertIn("Missing ORIGIN_ID", r[1])

    def test_own_usable_image_still_works(self):
        D.ok("one.image.chmod", self.img, *harness.chmod_args("604"))
        try:
            aid = D.ok("one.marketapp.allocate",
                       tmpl(NAME="shared-ok", IMPORT_SOURCE="", ORIGIN_ID=str(self.img)),
                       self.mid, session=self.s)
            self.assertEqual(xtext(D.info("marketapp", aid), "ORIGIN_ID"), str(self.img))
        finally:
            D.ok("one.image.chmod", self.img, *harness.chmod_args("600"))

    def test_image_empty_path_and_private_app(self):
        # The same rule for images: an empty PATH is absent, FROM_APP is
        # the content, and the app must be usable by the caller.
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME="content-private-app", ORIGIN_ID=str(self.img)), self.mid)
        r = D.rpc("one.image.allocate", tmpl(NAME="stolen-img", PATH="", FROM_APP=str(aid)), 1,
                  session=self.s)
        self.assertFailure(r, "one.image.allocate", AUTHORIZATION)


class System(harness.TestCase):

    def test_version(self):
        v = D.ok("one.system.version")
        self.assertIsInstance(v, str)
        self.assertTrue(v.strip())

    def test_version_for_plain_user(self):
        _, s = D.user("ver-user")
        self.assertEqual(D.ok("one.system.version", session=s), D.ok("one.system.version"))

    def test_config(self):
        c = xml(D.ok("one.system.config"))
        ports = [e.text for e in c.iter("PORT")]
        self.assertIn(str(D.port), [p.strip() for p in ports if p], "config should show PORT")


class FirstStart(harness.TestCase):

    def test_password_from_one_auth(self):
        d = harness.fresh_daemon(self, password="Given-Password-1", name="auth-given")
        self.assertEqual(xtext(d.info("user", -1), "NAME"), "oneadmin")
        self.assertEqual(d.rpc("one.user.info", -1, session="oneadmin:other"),
                         auth_failure("one.user.info"))

    def test_one_auth_read_only_at_first_start(self):
        d = harness.fresh_daemon(self, password="First-Password-1", name="auth-first")
        d.stop()
        d.set_auth_file("oneadmin:Second-Password-2\n")
        try:
            d.start()       # the readiness check logs in with the first password
        except harness.HarnessError as e:
            self.fail("the first-start password stopped working after a restart "
                      "with a changed ONE_AUTH file: %s" % e)
        self.assertEqual(d.rpc("one.user.info", -1, session="oneadmin:Second-Password-2"),
                         auth_failure("one.user.info"))
        d.stop()

    def test_generated_password(self):
        d = harness.Daemon(write_auth=False, name="auth-gen")
        self.addCleanup(d.cleanup)
        self.assertFalse(os.path.exists(d.auth_path))
        d.start()
        st = os.stat(d.auth_path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "ONE_AUTH must be mode 0600")
        with open(d.auth_path) as f:
            content = f.read()
        self.assertRegex(content, r"\Aoneadmin:\S+\s*\Z")
        pw = content.strip().split(":", 1)[1]
        self.assertGreaterEqual(len(pw), 16, "generated password is too short: %r" % pw)
        self.assertEqual(xint(d.info("user", -1, session="oneadmin:" + pw), "ID"), 0)
        self.wait_for(lambda: d.auth_path in d.read_log(), timeout=3,
                      what="the log to mention %s" % d.auth_path)
        self.assertNotIn(pw, d.read_log(), "the log must not contain the password")
        # Restart: the file is kept, the password still works.
        d.restart()
        with open(d.auth_path) as f:
            self.assertEqual(f.read(), content)
        d.ok("one.user.info", -1, session="oneadmin:" + pw)
        d.stop()

    def test_generated_passwords_differ(self):
        a = harness.Daemon(write_auth=False, name="auth-gen-a")
        self.addCleanup(a.cleanup)
        a.start()
        b = harness.Daemon(write_auth=False, name="auth-gen-b")
        self.addCleanup(b.cleanup)
        b.start()
        self.assertNotEqual(a.session, b.session)
        a.stop()
        b.stop()


if __name__ == "__main__":
    harness.main()
