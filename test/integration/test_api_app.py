#!/usr/bin/env python3
"""one.marketapp.* and one.marketapppool.info against a real marketd.

One daemon for the module.  setUpModule creates an http market (100, the
first market) and the first app (recorded, asserted to be id 0); each test
then uses app names of its own."""

import sys
sys.dont_write_bytecode = True

import time

import harness
from harness import (ACTION, ALLOCATE, AUTHORIZATION, NO_EXISTS, APP_CHILDREN,
                     APP_CHILDREN_LOCKED, APP_DISABLED, APP_LOCKED, APP_READY,
                     PERM_CHILDREN, TYPE_IMAGE, TYPE_SERVICE_TEMPLATE, TYPE_VMTEMPLATE,
                     octal_perms, perms, pool_ids, tmpl, xint, xml, xtext)

D = None
M = None            # the http market
ONE = None          # a "one" market (APP_ACTIONS = monitor only)
FIRST = None        # raw reply of the first one.marketapp.allocate
FIRST_TIME = None
USER = None         # (uid, session) of a plain user in group "users"
IMG = None          # a READY image, the ORIGIN_ID of the IMAGE apps


def setUpModule():
    global D, M, ONE, FIRST, FIRST_TIME, USER, IMG
    D = harness.module_daemon(name="app")
    IMG = D.image("origin")
    M = D.market("apps")
    ONE = D.market("public", mad="one")
    FIRST_TIME = int(time.time())
    FIRST = D.rpc("one.marketapp.allocate",
                  tmpl(NAME="first", ORIGIN_ID=str(IMG), DESCRIPTION="the first app",
                       SIZE="123", SOURCE="http://evil/", MD5="deadbeef", FORMAT="qcow2",
                       REGTIME="1", ZONE_ID="5"), M)
    USER = D.user("appuser")
    # Let every user USE the market (644).
    D.ok("one.market.chmod", M, *harness.chmod_args("644"))


def tearDownModule():
    harness.stop_module_daemon(D)


def app_pool(*args, session=None):
    return xml(D.ok("one.marketapppool.info", *args, session=session))


def app_ids(*args, session=None):
    return pool_ids(D.ok("one.marketapppool.info", *args, session=session),
                    "MARKETPLACEAPP_POOL", "MARKETPLACEAPP")


def market_app_ids(mid):
    m = D.info("market", mid)
    return [int(e.text) for e in m.find("MARKETPLACEAPPS").findall("ID")]


def gone(aid):
    r = D.rpc("one.marketapp.info", aid)
    return r[0] is False and r[2] == NO_EXISTS


class Allocate(harness.TestCase):

    def test_first_app_id_is_0(self):
        self.assertEqual(FIRST, [True, 0, 0])

    def test_first_app_shape(self):
        a = D.info("marketapp", 0)
        self.assertEqual(a.tag, "MARKETPLACEAPP")
        # Its upload is in progress (the fake driver holds it): info adds a
        # trailing PROGRESS element then, and only then.
        self.assertEqual(a[-1].tag, "PROGRESS")
        self.assertEqual(int(a[-1].findtext("DONE")), 10)
        a.remove(a[-1])
        self.assertChildren(a, APP_CHILDREN)
        self.assertEqual(xint(a, "ID"), 0)
        self.assertEqual(xint(a, "UID"), 0)
        self.assertEqual(xint(a, "GID"), 0)
        self.assertEqual(xtext(a, "UNAME"), "oneadmin")
        self.assertEqual(xtext(a, "GNAME"), "oneadmin")
        regtime = xint(a, "REGTIME")
        self.assertGreaterEqual(regtime, FIRST_TIME - 5, "REGTIME must be set to now")
        self.assertLessEqual(regtime, int(time.time()) + 5)
        self.assertEqual(xtext(a, "NAME"), "first")
        self.assertEqual(xint(a, "ZONE_ID"), 0, "ZONE_ID comes from the daemon, not the template")
        self.assertEqual(xint(a, "ORIGIN_ID"), IMG)
        self.assertNotEqual(xtext(a, "SOURCE"), "http://evil/")
        self.assertNotEqual(xtext(a, "MD5"), "deadbeef")
        self.assertNotEqual(xtext(a, "FORMAT"), "qcow2")
        self.assertNotEqual(xint(a, "SIZE"), 123)
        self.assertEqual(xtext(a, "DESCRIPTION"), "the first app")
        self.assertEqual(xtext(a, "VERSION"), "0.0")
        self.assertEqual(xint(a, "MARKETPLACE_ID"), M)
        self.assertEqual(xtext(a, "MARKETPLACE"), "apps")
        self.assertEqual(xint(a, "STATE"), APP_LOCKED)
        self.assertEqual(xint(a, "TYPE"), TYPE_IMAGE)
        self.assertChildren(a.find("PERMISSIONS"), PERM_CHILDREN)
        self.assertEqual(perms(a), "110000000")
        t = a.find("TEMPLATE")
        self.assertIsNotNone(t)
        self.assertEqual(xtext(t, "DESCRIPTION"), "the first app")
        for k in ("SOURCE", "MD5", "SIZE", "FORMAT", "REGTIME", "ZONE_ID", "ORIGIN_ID"):
            self.assertIsNone(t.find(k), "%s must be removed from the app template" % k)

    def test_image_app_is_locked_after_allocate(self):
        aid = D.app("img", M, type_="IMAGE")
        a = D.info("marketapp", aid)
        self.assertEqual(xint(a, "STATE"), APP_LOCKED)
        self.assertEqual(xint(a, "TYPE"), TYPE_IMAGE)

    def test_type_defaults_to_image(self):
        aid = D.ok("one.marketapp.allocate", tmpl(NAME="notype", ORIGIN_ID=str(IMG)), M)
        a = D.info("marketapp", aid)
        self.assertEqual(xint(a, "TYPE"), TYPE_IMAGE)
        self.assertEqual(xint(a, "STATE"), APP_LOCKED)

    def test_vmtemplate_is_ready(self):
        aid = D.app("vmt", M, type_="VMTEMPLATE")
        a = D.info("marketapp", aid)
        self.assertEqual(xint(a, "TYPE"), TYPE_VMTEMPLATE)
        self.assertEqual(xint(a, "STATE"), APP_READY)

    def test_service_template_is_ready(self):
        aid = D.app("svc", M, type_="SERVICE_TEMPLATE")
        a = D.info("marketapp", aid)
        self.assertEqual(xint(a, "TYPE"), TYPE_SERVICE_TEMPLATE)
        self.assertEqual(xint(a, "STATE"), APP_READY)

    def test_version_given(self):
        aid = D.app("ver", M, VERSION="1.2.3")
        self.assertEqual(xtext(D.info("marketapp", aid), "VERSION"), "1.2.3")

    def test_version_default(self):
        aid = D.app("nover", M)
        self.assertEqual(xtext(D.info("marketapp", aid), "VERSION"), "0.0")

    def test_special_characters(self):
        name = 'a (x) [y] ]] \u00e9\u20ac z'
        desc = 'line1\nline2 & <b>bold</b> ]]> "quoted"'
        aid = D.app(name, M, DESCRIPTION=desc)
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "NAME"), name)
        self.assertEqual(xtext(a, "DESCRIPTION"), desc)
        self.assertEqual(xtext(a, "TEMPLATE/DESCRIPTION"), desc)

    def test_apptemplate64_copied(self):
        aid = D.app("at64", M, APPTEMPLATE64="REVWX1BSRUZJWD0idmQiCg==")
        self.assertEqual(xtext(D.info("marketapp", aid), "APPTEMPLATE64"),
                         "REVWX1BSRUZJWD0idmQiCg==")

    def test_allocate_from_xml(self):
        aid = D.ok("one.marketapp.allocate",
                   "<TEMPLATE><NAME>xmlapp</NAME><ORIGIN_ID>" + str(IMG) + "</ORIGIN_ID>"
                   "<TYPE>VMTEMPLATE</TYPE></TEMPLATE>", M)
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "NAME"), "xmlapp")
        self.assertEqual(xint(a, "STATE"), APP_READY)

    def test_ids_increase(self):
        a = D.app("inc-1", M)
        b = D.app("inc-2", M)
        self.assertGreater(a, 0)
        self.assertGreater(b, a)

    def test_market_lists_apps(self):
        mid = D.market("listing")
        a1 = D.app("list-1", mid)
        a2 = D.app("list-2", mid)
        self.assertEqual(sorted(market_app_ids(mid)), [a1, a2])
        self.assertIn(0, market_app_ids(M))
        D.ok("one.marketapp.delete", a1)
        self.wait_for(lambda: market_app_ids(mid) == [a2],
                      what="app %d to leave MARKETPLACEAPPS" % a1)


class AllocateErrors(harness.TestCase):

    def test_name_required(self):
        r = D.rpc("one.marketapp.allocate", tmpl(ORIGIN_ID=str(IMG), TYPE="VMTEMPLATE"), M)
        self.assertFailure(r, "one.marketapp.allocate", ALLOCATE, contains="NAME")

    def test_origin_id_required(self):
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="noorigin"), M)
        self.assertFailure(r, "one.marketapp.allocate", ALLOCATE, contains="ORIGIN_ID")

    def test_origin_id_not_required_with_path(self):
        aid = D.ok("one.marketapp.allocate", tmpl(NAME="withpath", PATH="/tmp/img.qcow2"), M)
        self.assertEqual(xtext(D.info("marketapp", aid), "NAME"), "withpath")

    def test_origin_id_not_required_with_import_source(self):
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME="withsrc", IMPORT_SOURCE="http://127.0.0.1/img"), M)
        self.assertEqual(xtext(D.info("marketapp", aid), "NAME"), "withsrc")

    def test_missing_market(self):
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="nomarket", ORIGIN_ID=str(IMG)), 99999)
        self.assertFailure(r, "one.marketapp.allocate",
                           contains="Cannot find associated MARKETPLACE")

    def test_create_disabled_for_one_market(self):
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="inone", ORIGIN_ID=str(IMG)), ONE)
        self.assertFailure(r, "one.marketapp.allocate", ACTION,
                           contains="Create disabled for market")
        self.assertEqual(market_app_ids(ONE), [])

    def test_duplicate_name_same_owner(self):
        D.app("dupname", M)
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="dupname", ORIGIN_ID=str(IMG),
                                                 TYPE="VMTEMPLATE"), M)
        self.assertFailure(r, "one.marketapp.allocate", ALLOCATE,
                           contains="NAME is already taken")

    def test_duplicate_name_in_other_market_same_owner(self):
        other = D.market("dupname-other")
        D.app("dupname2", M)
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="dupname2", ORIGIN_ID=str(IMG)), other)
        self.assertFailure(r, "one.marketapp.allocate", ALLOCATE,
                           contains="NAME is already taken")

    def test_same_name_different_owner(self):
        a = D.app("shared-name", M)
        b = D.app("shared-name", M, session=USER[1])
        self.assertNotEqual(a, b)
        self.assertEqual(xint(D.info("marketapp", b), "UID"), USER[0])

    def test_failed_allocate_leaves_no_trace(self):
        before = app_ids(-2, -1, -1)
        D.rpc("one.marketapp.allocate", tmpl(ORIGIN_ID=str(IMG)), M)
        D.rpc("one.marketapp.allocate", tmpl(NAME="ghost"), M)
        D.rpc("one.marketapp.allocate", tmpl(NAME="ghost2", ORIGIN_ID=str(IMG)), ONE)
        D.rpc("one.marketapp.allocate", tmpl(NAME="ghost3", ORIGIN_ID=str(IMG)), 99999)
        self.assertEqual(app_ids(-2, -1, -1), before)
        self.assertNotIn("ghost", D.ok("one.marketapppool.info", -2, -1, -1))


class Info(harness.TestCase):

    def test_missing_app(self):
        self.assertEqual(D.rpc("one.marketapp.info", 99999),
                         [False, "[one.marketapp.info] Error getting marketplaceapp [99999].",
                          NO_EXISTS, 99999, -1])

    def test_missing_app_other_methods(self):
        for method, args in [("one.marketapp.delete", ()),
                             ("one.marketapp.update", ('A="b"', 1)),
                             ("one.marketapp.rename", ("zz",)),
                             ("one.marketapp.chmod", tuple([1] * 9)),
                             ("one.marketapp.chown", (0, 0)),
                             ("one.marketapp.enable", (True,)),
                             ("one.marketapp.lock", (1, False)),
                             ("one.marketapp.unlock", ())]:
            with self.subTest(method=method):
                self.assertFailure(D.rpc(method, 99998, *args), method, NO_EXISTS,
                                   resp_id=99998, contains="marketplaceapp [99998]")


class Update(harness.TestCase):

    def test_merge_refreshes_description_and_version(self):
        aid = D.app("upd", M, DESCRIPTION="d1", VERSION="1.0", KEEP="k")
        before = D.info("marketapp", aid)
        self.assertEqual(D.ok("one.marketapp.update", aid,
                              tmpl(DESCRIPTION="d2", VERSION="2.0"), 1), aid)
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "DESCRIPTION"), "d2")
        self.assertEqual(xtext(a, "VERSION"), "2.0")
        self.assertEqual(xtext(a, "TEMPLATE/DESCRIPTION"), "d2")
        self.assertEqual(xtext(a, "TEMPLATE/KEEP"), "k")
        for f in ("NAME", "SOURCE", "MD5", "SIZE", "FORMAT", "REGTIME", "ORIGIN_ID",
                  "MARKETPLACE_ID", "STATE", "TYPE"):
            self.assertEqual(xtext(a, f), xtext(before, f), f)

    def test_protected_fields_ignored(self):
        aid = D.app("upd-prot", M)
        before = D.info("marketapp", aid)
        D.ok("one.marketapp.update", aid,
             tmpl(SOURCE="http://evil/", MD5="x", SIZE="999", FORMAT="raw",
                  REGTIME="1", ORIGIN_ID="77", OTHER="o"), 1)
        a = D.info("marketapp", aid)
        for f in ("SOURCE", "MD5", "SIZE", "FORMAT", "REGTIME", "ORIGIN_ID"):
            self.assertEqual(xtext(a, f), xtext(before, f), "top-level %s changed" % f)
            self.assertIsNone(a.find("TEMPLATE/" + f), "%s must be stripped from TEMPLATE" % f)
        self.assertEqual(xtext(a, "TEMPLATE/OTHER"), "o")

    def test_replace(self):
        aid = D.app("upd-repl", M, OLD="1", DESCRIPTION="d")
        self.assertEqual(D.ok("one.marketapp.update", aid,
                              tmpl(NEW="2", DESCRIPTION="d3"), 0), aid)
        a = D.info("marketapp", aid)
        self.assertIsNone(a.find("TEMPLATE/OLD"))
        self.assertEqual(xtext(a, "TEMPLATE/NEW"), "2")
        self.assertEqual(xtext(a, "DESCRIPTION"), "d3")

    def test_update_syntax_error(self):
        aid = D.app("upd-syn", M, DESCRIPTION="d")
        self.assertFailure(D.rpc("one.marketapp.update", aid, 'X = "open\n', 1),
                           "one.marketapp.update")
        self.assertEqual(xtext(D.info("marketapp", aid), "DESCRIPTION"), "d")


class Rename(harness.TestCase):

    def test_rename(self):
        aid = D.app("ren-x", M)
        self.assertEqual(D.ok("one.marketapp.rename", aid, "ren-y"), aid)
        self.assertEqual(xtext(D.info("marketapp", aid), "NAME"), "ren-y")

    def test_rename_to_taken_name(self):
        D.app("ren-taken", M)
        aid = D.app("ren-z", M)
        self.assertFailure(D.rpc("one.marketapp.rename", aid, "ren-taken"),
                           "one.marketapp.rename")
        self.assertEqual(xtext(D.info("marketapp", aid), "NAME"), "ren-z")

    def test_rename_to_name_of_other_owner(self):
        D.app("ren-other-owner", M, session=USER[1])
        aid = D.app("ren-mine", M)
        D.ok("one.marketapp.rename", aid, "ren-other-owner")


class ChmodChown(harness.TestCase):

    def test_chmod(self):
        aid = D.app("chmod", M)
        self.assertEqual(D.ok("one.marketapp.chmod", aid, *harness.chmod_args("640")), aid)
        self.assertEqual(perms(D.info("marketapp", aid)), octal_perms("640"))
        D.ok("one.marketapp.chmod", aid, -1, -1, 1, -1, -1, -1, -1, -1, 1)
        self.assertEqual(perms(D.info("marketapp", aid)), "111100001")

    def test_owner_chmod_needs_manage_only(self):
        # chmod is a MANAGE operation: the owner (default u=um) may do it.
        uid, s = USER
        aid = D.app("chmod-owner", M, session=s)
        self.assertEqual(D.ok("one.marketapp.chmod", aid, *harness.chmod_args("640"),
                              session=s), aid)
        self.assertEqual(perms(D.info("marketapp", aid)), octal_perms("640"))

    def test_chown(self):
        uid, _ = D.user("app-chown")
        gid = D.group("app-chown-g")
        aid = D.app("chown", M)
        self.assertEqual(D.ok("one.marketapp.chown", aid, uid, gid), aid)
        a = D.info("marketapp", aid)
        self.assertEqual((xint(a, "UID"), xtext(a, "UNAME")), (uid, "app-chown"))
        self.assertEqual((xint(a, "GID"), xtext(a, "GNAME")), (gid, "app-chown-g"))
        D.ok("one.marketapp.chown", aid, -1, 1)
        a = D.info("marketapp", aid)
        self.assertEqual((xint(a, "UID"), xint(a, "GID")), (uid, 1))


class Enable(harness.TestCase):

    def test_ready_disabled_ready(self):
        aid = D.app("en", M)
        self.assertEqual(D.ok("one.marketapp.enable", aid, False), aid)
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), APP_DISABLED)
        self.assertEqual(D.ok("one.marketapp.enable", aid, False), aid)
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), APP_DISABLED)
        self.assertEqual(D.ok("one.marketapp.enable", aid, True), aid)
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), APP_READY)

    def test_other_states_unchanged(self):
        aid = D.app("en-img", M, type_="IMAGE")
        state = xint(D.info("marketapp", aid), "STATE")
        self.assertNotIn(state, (APP_READY, APP_DISABLED))
        self.assertEqual(D.ok("one.marketapp.enable", aid, False), aid)
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), state)
        self.assertEqual(D.ok("one.marketapp.enable", aid, True), aid)
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), state)


class Lock(harness.TestCase):

    def test_lock_unlock(self):
        aid = D.app("lock", M, DESCRIPTION="d")
        t0 = int(time.time())
        self.assertEqual(D.rpc("one.marketapp.lock", aid, 1, False), [True, aid, 0])
        a = D.info("marketapp", aid)
        self.assertChildren(a, APP_CHILDREN_LOCKED)
        lock = a.find("LOCK")
        self.assertChildren(lock, ["LOCKED", "OWNER", "TIME", "REQ_ID"])
        self.assertEqual(xint(lock, "LOCKED"), 1)
        self.assertEqual(xint(lock, "OWNER"), 0)
        self.assertGreaterEqual(xint(lock, "TIME"), t0 - 5)
        self.assertLessEqual(xint(lock, "TIME"), int(time.time()) + 5)
        xint(lock, "REQ_ID")

        for method, args in [("one.marketapp.update", ('X="1"', 1)),
                             ("one.marketapp.rename", ("lock-renamed",)),
                             ("one.marketapp.chmod", tuple(harness.chmod_args("644"))),
                             ("one.marketapp.delete", ())]:
            with self.subTest(method=method):
                self.assertFailure(D.rpc(method, aid, *args), method, AUTHORIZATION,
                                   contains="is locked")
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "NAME"), "lock")
        self.assertIsNone(a.find("TEMPLATE/X"))
        self.assertEqual(perms(a), "110000000")
        # Pool listing still works and shows the lock.
        pool = app_pool(-2, aid, aid)
        self.assertEqual([xint(e, "ID") for e in pool], [aid])
        self.assertEqual(xint(pool[0], "LOCK/LOCKED"), 1)

        self.assertEqual(D.rpc("one.marketapp.unlock", aid), [True, aid, 0])
        a = D.info("marketapp", aid)
        self.assertIsNone(a.find("LOCK"))
        self.assertChildren(a, APP_CHILDREN)
        D.ok("one.marketapp.update", aid, 'X="1"', 1)
        D.ok("one.marketapp.rename", aid, "lock-renamed")
        D.ok("one.marketapp.delete", aid)

    def test_lock_levels_recorded(self):
        aid = D.app("lock-lvl", M)
        for level in (2, 3):
            with self.subTest(level=level):
                self.assertEqual(D.rpc("one.marketapp.lock", aid, level, False), [True, aid, 0])
                self.assertEqual(xint(D.info("marketapp", aid), "LOCK/LOCKED"), level)
                self.assertEqual(D.rpc("one.marketapp.unlock", aid), [True, aid, 0])


class Delete(harness.TestCase):

    def test_delete(self):
        aid = D.app("del", M)
        self.assertEqual(D.rpc("one.marketapp.delete", aid), [True, aid, 0])
        self.wait_for(lambda: gone(aid), what="app %d to disappear" % aid)
        self.assertEqual(D.rpc("one.marketapp.info", aid),
                         [False, "[one.marketapp.info] Error getting marketplaceapp [%d]." % aid,
                          NO_EXISTS, aid, -1])
        self.assertNotIn(aid, app_ids(-2, -1, -1))
        self.assertNotIn(aid, market_app_ids(M))

    def test_delete_frees_name_not_id(self):
        aid = D.app("del-reuse", M)
        D.ok("one.marketapp.delete", aid)
        self.wait_for(lambda: gone(aid), what="app %d to disappear" % aid)
        again = D.app("del-reuse", M)
        self.assertGreater(again, aid)


class Pool(harness.TestCase):
    """Pool filters and visibility.  The apps of this class have
    consecutive ids LO..HI; queries are limited to that range."""

    @classmethod
    def setUpClass(cls):
        cls.g = D.group("pool-g")
        cls.ua = D.user("pool-a")          # group users (1)
        cls.ub = D.user("pool-b")          # group users (1)
        cls.uc = D.user("pool-c", groups=[cls.g])
        a = cls.a = {}
        a[0] = D.app("p0", M)                                  # oneadmin, 110000000
        a[1] = D.app("p1", M)                                  # oneadmin, other USE
        D.ok("one.marketapp.chmod", a[1], *harness.chmod_args("604"))
        a[2] = D.app("p2", M, session=cls.ua[1])               # ua, default
        a[3] = D.app("p3", M, session=cls.ub[1])               # ub, default
        a[4] = D.app("p4", M, session=cls.ub[1])               # ub, group USE
        D.ok("one.marketapp.chmod", a[4], *harness.chmod_args("640"))
        a[5] = D.app("p5", M, session=cls.uc[1])               # uc (group g), group USE
        D.ok("one.marketapp.chmod", a[5], *harness.chmod_args("640"))
        a[6] = D.app("p6", M, session=cls.uc[1])               # uc, other USE
        D.ok("one.marketapp.chmod", a[6], *harness.chmod_args("604"))
        cls.lo, cls.hi = a[0], a[6]
        if sorted(a.values()) != list(range(cls.lo, cls.hi + 1)):
            raise AssertionError("app ids not consecutive: %r" % a)

    def ids(self, flt, session=None, lo=None, hi=None):
        got = app_ids(flt, self.lo if lo is None else lo, self.hi if hi is None else hi,
                      session=session)
        self.assertEqual(got, sorted(got), "pool must be ordered by id")
        return got

    def expect(self, *keys):
        return sorted(self.a[k] for k in keys)

    def test_shape(self):
        pool = app_pool(-2, self.lo, self.hi)
        self.assertEqual(pool.tag, "MARKETPLACEAPP_POOL")
        self.assertEqual([e.tag for e in pool], ["MARKETPLACEAPP"] * 7)
        for e in pool:
            self.assertChildren(e, APP_CHILDREN)

    def test_admin_filters(self):
        self.assertEqual(self.ids(-2), self.expect(0, 1, 2, 3, 4, 5, 6))
        self.assertEqual(self.ids(-3), self.expect(0, 1))
        self.assertEqual(self.ids(-4), self.expect(0, 1))
        self.assertEqual(self.ids(-1), self.expect(0, 1))
        self.assertEqual(self.ids(self.ub[0]), self.expect(3, 4))
        self.assertEqual(self.ids(self.uc[0]), self.expect(5, 6))

    def test_user_all_visible(self):
        self.assertEqual(self.ids(-2, self.ua[1]), self.expect(1, 2, 4, 6))

    def test_user_mine(self):
        self.assertEqual(self.ids(-3, self.ua[1]), self.expect(2))

    def test_user_group(self):
        self.assertEqual(self.ids(-4, self.ua[1]), self.expect(2, 4))

    def test_user_mine_and_group(self):
        self.assertEqual(self.ids(-1, self.ua[1]), self.expect(2, 4))

    def test_user_by_uid(self):
        s = self.ua[1]
        self.assertEqual(self.ids(self.ub[0], s), self.expect(4))
        self.assertEqual(self.ids(0, s), self.expect(1))
        self.assertEqual(self.ids(self.uc[0], s), self.expect(6))
        self.assertEqual(self.ids(self.ua[0], s), self.expect(2))

    def test_other_group_user(self):
        s = self.uc[1]
        self.assertEqual(self.ids(-2, s), self.expect(1, 5, 6))
        self.assertEqual(self.ids(-4, s), self.expect(5, 6))
        self.assertEqual(self.ids(-3, s), self.expect(5, 6))

    def test_ranges(self):
        a = self.a
        self.assertEqual(self.ids(-2, lo=a[1], hi=a[3]), self.expect(1, 2, 3))
        self.assertEqual(self.ids(-2, lo=a[4], hi=a[4]), self.expect(4))
        got = app_ids(-2, a[5], -1)
        self.assertEqual(got, sorted(got))
        self.assertTrue({a[5], a[6]} <= set(got))
        self.assertTrue(all(i >= a[5] for i in got), got)
        got = app_ids(-2, -1, a[1])
        self.assertTrue({0, a[0], a[1]} <= set(got))
        self.assertTrue(all(i <= a[1] for i in got), got)
        got = app_ids(-2, -1, -1)
        self.assertTrue(set(self.a.values()) <= set(got))

    def test_user_info_follows_visibility(self):
        s = self.ua[1]
        for k in (1, 2, 4, 6):
            D.ok("one.marketapp.info", self.a[k], session=s)
        for k in (0, 3, 5):
            with self.subTest(app=k):
                self.assertFailure(D.rpc("one.marketapp.info", self.a[k], session=s),
                                   "one.marketapp.info", AUTHORIZATION,
                                   contains="Not authorized")


class UserAllocate(harness.TestCase):

    def test_user_needs_use_on_market(self):
        uid, s = D.user("needs-use")
        mid = D.market("private")
        r = D.rpc("one.marketapp.allocate",
                  tmpl(NAME="x", ORIGIN_ID=str(IMG), TYPE="VMTEMPLATE"), mid, session=s)
        self.assertFailure(r, "one.marketapp.allocate", AUTHORIZATION,
                           contains="Not authorized")
        self.assertEqual(market_app_ids(mid), [])
        D.ok("one.market.chmod", mid, *harness.chmod_args("644"))
        aid = D.app("x", mid, session=s)
        a = D.info("marketapp", aid)
        self.assertEqual((xint(a, "UID"), xtext(a, "UNAME")), (uid, "needs-use"))
        self.assertEqual((xint(a, "GID"), xtext(a, "GNAME")), (1, "users"))
        self.assertEqual(perms(a), "110000000")
        self.assertEqual(market_app_ids(mid), [aid])


if __name__ == "__main__":
    harness.main()
