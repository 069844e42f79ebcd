#!/usr/bin/env python3
"""one.market.* and one.marketpool.info against a real marketd.

One daemon serves the whole module; each test creates markets with names of
its own, so tests do not depend on each other (only FIRST is recorded in
setUpModule, before any test runs)."""

import sys
sys.dont_write_bytecode = True


import xmlrpc.client

import harness
from harness import (ALLOCATE, ACTION, NO_EXISTS, MARKET_CHILDREN, PERM_CHILDREN,
                     octal_perms, perms, pool_ids, tmpl, xint, xml, xtext)

D = None
FIRST = None   # raw reply of the very first one.market.allocate

ALLOC_PREFIX = "[one.market.allocate] Error allocating a new marketplace. "


def setUpModule():
    global D, FIRST
    D = harness.module_daemon(name="market")
    FIRST = D.rpc("one.market.allocate",
                  tmpl(NAME="first", MARKET_MAD="http", BASE_URL="http://127.0.0.1/first",
                       PUBLIC_DIR=D.public_dir))


def tearDownModule():
    harness.stop_module_daemon(D)


def http_tmpl(name, **extra):
    return tmpl(("NAME", name), ("MARKET_MAD", "http"),
                ("BASE_URL", "http://127.0.0.1/" + name), ("PUBLIC_DIR", D.public_dir),
                *extra.items())


class Allocate(harness.TestCase):

    def test_first_market_id_is_100(self):
        self.assertEqual(FIRST, [True, 100, 0])

    def test_ids_increase(self):
        a = D.market("inc-a")
        b = D.market("inc-b")
        self.assertGreaterEqual(a, 100)
        self.assertGreater(b, a)

    def test_info_shape(self):
        mid = D.market("shape", FOO="bar")
        m = D.info("market", mid)
        self.assertEqual(m.tag, "MARKETPLACE")
        self.assertChildren(m, MARKET_CHILDREN)
        self.assertEqual(xint(m, "ID"), mid)
        self.assertEqual(xint(m, "UID"), 0)
        self.assertEqual(xint(m, "GID"), 0)
        self.assertEqual(xtext(m, "UNAME"), "oneadmin")
        self.assertEqual(xtext(m, "GNAME"), "oneadmin")
        self.assertEqual(xtext(m, "NAME"), "shape")
        self.assertEqual(xint(m, "STATE"), 0)
        self.assertEqual(xtext(m, "MARKET_MAD"), "http")
        self.assertEqual(xint(m, "ZONE_ID"), 0)
        for f in ("TOTAL_MB", "FREE_MB", "USED_MB"):
            self.assertGreaterEqual(xint(m, f), 0, f)
        apps = m.find("MARKETPLACEAPPS")
        self.assertEqual(list(apps), [])
        # onemarket's to_hash chokes on whitespace-only text here.
        self.assertEqual((apps.text or ""), "", "MARKETPLACEAPPS must be empty, not blank")
        self.assertChildren(m.find("PERMISSIONS"), PERM_CHILDREN)
        t = m.find("TEMPLATE")
        self.assertEqual(xtext(t, "BASE_URL"), "http://127.0.0.1/shape")
        self.assertEqual(xtext(t, "PUBLIC_DIR"), D.public_dir)
        self.assertEqual(xtext(t, "FOO"), "bar")

    def test_default_permissions_owner_use_manage(self):
        mid = D.market("defperm")
        self.assertEqual(perms(D.info("market", mid)), "110000000")

    def test_allocate_from_xml_template(self):
        body = ("<TEMPLATE><NAME>fromxml</NAME><MARKET_MAD>http</MARKET_MAD>"
                "<BASE_URL>http://127.0.0.1/x</BASE_URL><PUBLIC_DIR>%s</PUBLIC_DIR>"
                "<EXTRA><![CDATA[a<b]]></EXTRA></TEMPLATE>" % D.public_dir)
        mid = D.ok("one.market.allocate", body)
        m = D.info("market", mid)
        self.assertEqual(xtext(m, "NAME"), "fromxml")
        self.assertEqual(xtext(m, "MARKET_MAD"), "http")
        self.assertEqual(xtext(m, "TEMPLATE/BASE_URL"), "http://127.0.0.1/x")
        self.assertEqual(xtext(m, "TEMPLATE/EXTRA"), "a<b")

    def test_allocate_s3_market(self):
        mid = D.market("s3ok", mad="s3")
        m = D.info("market", mid)
        self.assertEqual(xtext(m, "MARKET_MAD"), "s3")
        self.assertEqual(xtext(m, "TEMPLATE/BUCKET"), "bucket")

    def test_allocate_one_market_needs_no_attrs(self):
        mid = D.ok("one.market.allocate",
                   tmpl(NAME="onem", MARKET_MAD="one",
                        ENDPOINT="http://127.0.0.1:%d/" % harness.closed_port()))
        self.assertEqual(xtext(D.info("market", mid), "MARKET_MAD"), "one")

    def test_value_escaping_round_trip(self):
        value = 'quote " backslash \\ amp & lt < gt > cdata-end ]]> utf8 \u00e9\u20ac'
        mid = D.ok("one.market.allocate", http_tmpl("escape", DESC=value))
        self.assertEqual(xtext(D.info("market", mid), "TEMPLATE/DESC"), value)

    def test_special_characters_in_name(self):
        # oned's invalid name characters (&|:\\";/'#{}$<>) are avoided.
        name = 'm (x) [y] ]] ~!%^*=+ \u00e9\u20ac end'
        mid = D.ok("one.market.allocate", http_tmpl(name))
        self.assertEqual(xtext(D.info("market", mid), "NAME"), name)
        pool = xml(D.ok("one.marketpool.info"))
        self.assertIn(name, [xtext(m, "NAME") for m in pool.findall("MARKETPLACE")])
        aid = D.app("app of " + name, mid)
        self.assertEqual(xtext(D.info("marketapp", aid), "MARKETPLACE"), name)


class LargeReply(harness.TestCase):

    def test_pool_larger_than_the_encoders_block(self):
        """A text answer over 4 MiB is encoded while it is sent (xmlrpc-c
        builds a reply in one block of at most 128 MB); the client must
        read the same XML-RPC, escapes and all, and a multicall still
        gets it from xmlrpc-c."""
        value = "amp & lt < gt > cr \r end " + "x" * (1800 * 1024)
        ids = [D.ok("one.market.allocate", http_tmpl("large-%d" % i, BIG=value))
               for i in range(3)]
        text = D.ok("one.marketpool.info")
        self.assertGreater(len(text), 4 << 20)
        pool = xml(text)
        got = {xint(m, "ID"): m.findtext("TEMPLATE/BIG") for m in pool.findall("MARKETPLACE")}
        for mid in ids:
            # The same as xmlrpc-c's encoding of the (smaller) info says.
            self.assertEqual(got[mid], xtext(D.info("market", mid), "TEMPLATE/BIG"))
            self.assertTrue(got[mid].startswith("amp & lt < gt > cr "), got[mid][:40])
        proxy = D.proxy()
        m = xmlrpc.client.MultiCall(proxy)
        m.one.marketpool.info(D.session)
        m.one.system.version(D.session)
        first, second = list(m())
        # A monitor pass may change a market's capacity meanwhile: compare
        # what both encoders carried of the large values.
        again = {xint(x, "ID"): x.findtext("TEMPLATE/BIG")
                 for x in xml(first[1]).findall("MARKETPLACE")}
        self.assertEqual([again[mid] for mid in ids], [got[mid] for mid in ids])
        self.assertTrue(second[0])
        for mid in ids:
            D.ok("one.market.delete", mid)


class AllocateErrors(harness.TestCase):

    def test_missing_market_mad(self):
        r = D.rpc("one.market.allocate", tmpl(NAME="nomad"))
        self.assertEqual(r, [False, ALLOC_PREFIX + "No marketplace driver (MARKET_MAD) in template.",
                             ALLOCATE, -1, -1])

    def test_unknown_market_mad(self):
        r = D.rpc("one.market.allocate", tmpl(NAME="badmad", MARKET_MAD="nosuch"))
        self.assertFailure(r, "one.market.allocate", ALLOCATE,
                           contains=[ALLOC_PREFIX, 'MARKET_MAD_CONF named "nosuch" is not defined'])

    def test_missing_required_attribute(self):
        r = D.rpc("one.market.allocate", tmpl(NAME="noattr", MARKET_MAD="http"))
        self.assertEqual(r, [False, ALLOC_PREFIX + 'MarketPlace template is missing the '
                             '"BASE_URL" attribute or it\'s empty.', ALLOCATE, -1, -1])

    def test_missing_second_required_attribute(self):
        r = D.rpc("one.market.allocate",
                  tmpl(NAME="noattr2", MARKET_MAD="http", BASE_URL="http://x/"))
        self.assertEqual(r, [False, ALLOC_PREFIX + 'MarketPlace template is missing the '
                             '"PUBLIC_DIR" attribute or it\'s empty.', ALLOCATE, -1, -1])

    def test_empty_required_attribute(self):
        r = D.rpc("one.market.allocate",
                  tmpl(NAME="emptyattr", MARKET_MAD="http", BASE_URL="",
                       PUBLIC_DIR=D.public_dir))
        self.assertFailure(r, "one.market.allocate", ALLOCATE,
                           contains='missing the "BASE_URL" attribute or it\'s empty')

    def test_s3_missing_region(self):
        r = D.rpc("one.market.allocate",
                  tmpl(NAME="s3bad", MARKET_MAD="s3", ACCESS_KEY_ID="a",
                       SECRET_ACCESS_KEY="b", BUCKET="c"))
        self.assertFailure(r, "one.market.allocate", ALLOCATE,
                           contains='missing the "REGION" attribute')

    def test_duplicate_name(self):
        first = D.market("dup")
        r = D.rpc("one.market.allocate", http_tmpl("dup"))
        self.assertEqual(r, [False, ALLOC_PREFIX + "NAME is already taken by MARKETPLACE %d"
                             % first, ALLOCATE, -1, -1])
        # The first market is untouched.
        self.assertEqual(xtext(D.info("market", first), "NAME"), "dup")

    def test_duplicate_of_first_market(self):
        r = D.rpc("one.market.allocate", http_tmpl("first"))
        self.assertEqual(r, [False, ALLOC_PREFIX + "NAME is already taken by MARKETPLACE 100",
                             ALLOCATE, -1, -1])

    def test_syntax_error_names_the_line(self):
        text = 'NAME = "synerr"\n= "no name"\nMARKET_MAD = "http"\n'
        r = D.rpc("one.market.allocate", text)
        self.assertFailure(r, "one.market.allocate", ALLOCATE)
        self.assertIn("line 2", r[1].lower())

    def test_unterminated_quote(self):
        r = D.rpc("one.market.allocate", 'NAME = "unterminated\nMARKET_MAD = "http"')
        self.assertFailure(r, "one.market.allocate", ALLOCATE)
        self.assertIn("line", r[1].lower())

    def test_malformed_xml_template(self):
        r = D.rpc("one.market.allocate", "<TEMPLATE><NAME>x</NAME><MARKET_MAD>http")
        self.assertFailure(r, "one.market.allocate", ALLOCATE)

    def test_failed_allocations_leave_no_trace(self):
        before = pool_ids(D.ok("one.marketpool.info"), "MARKETPLACE_POOL", "MARKETPLACE")
        D.rpc("one.market.allocate", tmpl(NAME="ghost1"))
        D.rpc("one.market.allocate", tmpl(NAME="ghost2", MARKET_MAD="nosuch"))
        D.rpc("one.market.allocate", tmpl(NAME="ghost3", MARKET_MAD="http"))
        after_xml = D.ok("one.marketpool.info")
        self.assertEqual(pool_ids(after_xml, "MARKETPLACE_POOL", "MARKETPLACE"), before)
        self.assertNotIn("ghost", after_xml)


class Info(harness.TestCase):

    def test_missing_market(self):
        r = D.rpc("one.market.info", 99999)
        self.assertEqual(r, [False, "[one.market.info] Error getting marketplace [99999].",
                             NO_EXISTS, 99999, -1])

    def test_missing_market_other_methods(self):
        for method, args in [("one.market.delete", ()),
                             ("one.market.update", ('A="b"', 1)),
                             ("one.market.rename", ("zz",)),
                             ("one.market.chmod", tuple([1] * 9)),
                             ("one.market.chown", (0, 0)),
                             ("one.market.enable", (True,))]:
            with self.subTest(method=method):
                r = D.rpc(method, 99998, *args)
                self.assertFailure(r, method, NO_EXISTS, resp_id=99998,
                                   contains="marketplace [99998]")

    def test_pool_ordered_and_complete(self):
        ids = [D.market("pool-%d" % i) for i in range(3)]
        pool = xml(D.ok("one.marketpool.info"))
        self.assertEqual(pool.tag, "MARKETPLACE_POOL")
        got = [xint(m, "ID") for m in pool.findall("MARKETPLACE")]
        self.assertEqual(len(got), len(pool), "only MARKETPLACE children expected")
        self.assertEqual(got, sorted(got))
        self.assertEqual(len(set(got)), len(got))
        for i in ids + [100]:
            self.assertIn(i, got)
        for m in pool.findall("MARKETPLACE"):
            self.assertChildren(m, MARKET_CHILDREN)

    def test_pool_ignores_oca_extra_params(self):
        plain = pool_ids(D.ok("one.marketpool.info"), "MARKETPLACE_POOL", "MARKETPLACE")
        for extra in [(-2, -1, -1), (-3, -1, -1), (-1, -1, -1)]:
            with self.subTest(extra=extra):
                got = pool_ids(D.ok("one.marketpool.info", *extra),
                               "MARKETPLACE_POOL", "MARKETPLACE")
                self.assertEqual(got, plain)

    def test_info_decrypt_flag_accepted(self):
        self.assertEqual(xint(xml(D.ok("one.market.info", 100, False)), "ID"), 100)
        self.assertEqual(xint(xml(D.ok("one.market.info", 100, True)), "ID"), 100)


class Update(harness.TestCase):

    def test_replace(self):
        mid = D.market("upd-replace", OLD="1")
        self.assertEqual(D.ok("one.market.update", mid, http_tmpl("upd-replace", NEW="2"), 0), mid)
        t = D.info("market", mid).find("TEMPLATE")
        self.assertIsNone(t.find("OLD"), "replace must drop attributes not in the new template")
        self.assertEqual(xtext(t, "NEW"), "2")
        self.assertEqual(xtext(t, "BASE_URL"), "http://127.0.0.1/upd-replace")

    def test_merge(self):
        mid = D.market("upd-merge", KEEP="k", CHANGE="old")
        self.assertEqual(D.ok("one.market.update", mid, tmpl(CHANGE="new", ADDED="a"), 1), mid)
        t = D.info("market", mid).find("TEMPLATE")
        self.assertEqual(xtext(t, "KEEP"), "k")
        self.assertEqual(xtext(t, "CHANGE"), "new")
        self.assertEqual(xtext(t, "ADDED"), "a")
        self.assertEqual(xtext(t, "BASE_URL"), "http://127.0.0.1/upd-merge")

    def test_merge_with_xml_template(self):
        mid = D.market("upd-xml")
        D.ok("one.market.update", mid, "<TEMPLATE><X>1</X></TEMPLATE>", 1)
        self.assertEqual(xtext(D.info("market", mid), "TEMPLATE/X"), "1")

    def test_update_does_not_rename(self):
        mid = D.market("upd-name")
        D.ok("one.market.update", mid, tmpl(ZZZ="1"), 1)
        self.assertEqual(xtext(D.info("market", mid), "NAME"), "upd-name")

    def test_change_mad_rechecks_required_attrs(self):
        mid = D.market("upd-mad")
        r = D.rpc("one.market.update", mid, tmpl(MARKET_MAD="s3"), 1)
        self.assertFailure(r, "one.market.update", contains="ACCESS_KEY_ID")
        m = D.info("market", mid)
        self.assertEqual(xtext(m, "MARKET_MAD"), "http", "failed update must keep the old MAD")
        # With the s3 attributes the change goes through.
        D.ok("one.market.update", mid,
             tmpl(MARKET_MAD="s3", ACCESS_KEY_ID="a", SECRET_ACCESS_KEY="b",
                  REGION="r", BUCKET="c"), 1)
        self.assertEqual(xtext(D.info("market", mid), "MARKET_MAD"), "s3")

    def test_change_to_unknown_mad_fails(self):
        mid = D.market("upd-badmad")
        r = D.rpc("one.market.update", mid, tmpl(MARKET_MAD="nosuch"), 1)
        self.assertFailure(r, "one.market.update", contains='MARKET_MAD_CONF named "nosuch"')
        self.assertEqual(xtext(D.info("market", mid), "MARKET_MAD"), "http")

    def test_update_syntax_error(self):
        mid = D.market("upd-syntax")
        r = D.rpc("one.market.update", mid, 'A = "unterminated\n', 1)
        self.assertFailure(r, "one.market.update")
        self.assertEqual(xtext(D.info("market", mid), "TEMPLATE/BASE_URL"),
                         "http://127.0.0.1/upd-syntax")


class Rename(harness.TestCase):

    def test_rename(self):
        mid = D.market("ren-a")
        self.assertEqual(D.ok("one.market.rename", mid, "ren-b"), mid)
        self.assertEqual(xtext(D.info("market", mid), "NAME"), "ren-b")
        # The old name is free again.
        D.market("ren-a")

    def test_rename_duplicate(self):
        a = D.market("ren-dup-a")
        D.market("ren-dup-b")
        r = D.rpc("one.market.rename", a, "ren-dup-b")
        self.assertFailure(r, "one.market.rename")
        self.assertEqual(xtext(D.info("market", a), "NAME"), "ren-dup-a")

    def test_rename_updates_apps(self):
        mid = D.market("ren-apps")
        a1 = D.app("ren-app-1", mid)
        a2 = D.app("ren-app-2", mid)
        D.ok("one.market.rename", mid, "ren-apps-new")
        for a in (a1, a2):
            app = D.info("marketapp", a)
            self.assertEqual(xtext(app, "MARKETPLACE"), "ren-apps-new")
            self.assertEqual(xint(app, "MARKETPLACE_ID"), mid)


class ChmodChown(harness.TestCase):

    def test_chmod(self):
        mid = D.market("chmod")
        self.assertEqual(D.ok("one.market.chmod", mid, 1, 1, 1, 1, 0, 0, 1, 0, 0), mid)
        self.assertEqual(perms(D.info("market", mid)), "111100100")

    def test_chmod_minus_one_keeps(self):
        mid = D.market("chmod-keep")
        D.ok("one.market.chmod", mid, *harness.chmod_args("640"))
        D.ok("one.market.chmod", mid, -1, -1, -1, -1, -1, -1, 1, -1, -1)
        self.assertEqual(perms(D.info("market", mid)), octal_perms("644"))

    def test_chown(self):
        uid, _ = D.user("chown-user")
        gid = D.group("chown-group")
        mid = D.market("chown")
        self.assertEqual(D.ok("one.market.chown", mid, uid, -1), mid)
        m = D.info("market", mid)
        self.assertEqual((xint(m, "UID"), xtext(m, "UNAME")), (uid, "chown-user"))
        self.assertEqual((xint(m, "GID"), xtext(m, "GNAME")), (0, "oneadmin"))
        self.assertEqual(D.ok("one.market.chown", mid, -1, gid), mid)
        m = D.info("market", mid)
        self.assertEqual((xint(m, "UID"), xtext(m, "UNAME")), (uid, "chown-user"))
        self.assertEqual((xint(m, "GID"), xtext(m, "GNAME")), (gid, "chown-group"))
        D.ok("one.market.chown", mid, 0, 0)
        m = D.info("market", mid)
        self.assertEqual((xint(m, "UID"), xint(m, "GID")), (0, 0))

    def test_chown_to_missing_user(self):
        mid = D.market("chown-missing")
        r = D.rpc("one.market.chown", mid, 4242, -1)
        self.assertFailure(r, "one.market.chown")
        r = D.rpc("one.market.chown", mid, -1, 4242)
        self.assertFailure(r, "one.market.chown")
        self.assertEqual(xint(D.info("market", mid), "UID"), 0)
        self.assertEqual(xint(D.info("market", mid), "GID"), 0)


class Enable(harness.TestCase):

    def test_disable_enable(self):
        mid = D.market("enable")
        self.assertEqual(D.ok("one.market.enable", mid, False), mid)
        self.assertEqual(xint(D.info("market", mid), "STATE"), 1)
        self.assertEqual(D.ok("one.market.enable", mid, True), mid)
        self.assertEqual(xint(D.info("market", mid), "STATE"), 0)


class Delete(harness.TestCase):

    def test_delete_empty(self):
        mid = D.market("del-empty")
        self.assertEqual(D.ok("one.market.delete", mid), mid)
        self.assertEqual(D.rpc("one.market.info", mid),
                         [False, "[one.market.info] Error getting marketplace [%d]." % mid,
                          NO_EXISTS, mid, -1])
        self.assertNotIn(mid, pool_ids(D.ok("one.marketpool.info"),
                                       "MARKETPLACE_POOL", "MARKETPLACE"))
        # The name is free again, the id is not reused.
        again = D.market("del-empty")
        self.assertGreater(again, mid)

    def test_delete_twice(self):
        mid = D.market("del-twice")
        D.ok("one.market.delete", mid)
        self.assertFailure(D.rpc("one.market.delete", mid), "one.market.delete",
                           NO_EXISTS, resp_id=mid)

    def test_delete_refused_while_apps(self):
        mid = D.market("del-apps")
        aid = D.app("del-apps-app", mid)
        r = D.rpc("one.market.delete", mid)
        self.assertFailure(r, "one.market.delete", ACTION, contains="not empty")
        self.assertEqual(xtext(D.info("market", mid), "NAME"), "del-apps")
        D.ok("one.marketapp.delete", aid)
        # Deleting an app may be asynchronous (driver DELETE, then drop).
        self.wait_for(lambda: D.rpc("one.marketapp.info", aid)[0] is False,
                      what="app %d to disappear" % aid)
        self.assertEqual(D.ok("one.market.delete", mid), mid)

    def test_public_market_deleted_with_apps(self):
        # Apps cannot be created in a "one" market, so create them in an http
        # market and switch its driver to "one" (PUBLIC = "yes").
        mid = D.market("del-public")
        aid = D.app("del-public-app", mid)
        D.ok("one.market.update", mid,
             tmpl(MARKET_MAD="one",
                  ENDPOINT="http://127.0.0.1:%d/" % harness.closed_port()), 1)
        self.assertEqual(xtext(D.info("market", mid), "MARKET_MAD"), "one")
        self.assertEqual(D.ok("one.market.delete", mid), mid)
        self.assertFailure(D.rpc("one.market.info", mid), "one.market.info",
                           NO_EXISTS, resp_id=mid)
        # Its apps are dropped with it.
        self.wait_for(lambda: D.rpc("one.marketapp.info", aid)[0] is False,
                      what="app %d of the deleted market to disappear" % aid)


if __name__ == "__main__":
    harness.main()
