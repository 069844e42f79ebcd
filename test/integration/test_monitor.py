#!/usr/bin/env python3
"""The monitor loop: catalogs reconciled into apps, against the real daemon.

The driver is the "catalog" fake (test/integration/drivers/catalog): its
monitor prints the file named by the market's CATALOG_FILE, so each test
writes the answer it wants the daemon to see, triggers a pass with
one.market.monitor and waits for the market's MONITORING status.
"""

import sys
sys.dont_write_bytecode = True

import base64
import os
import re
import socket
import time
import unittest
import xml.etree.ElementTree as ET

import harness
sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
from nginx import Nginx  # noqa: E402
from harness import ACTION, AUTHORIZATION, tmpl, xint, xml, xtext

EXTRA_CONF = (
    'MARKET_MAD_CONF = [ NAME = "catalog", REQUIRED_ATTRS = "CATALOG_FILE", '
    'APP_ACTIONS = "monitor", PUBLIC = "yes" ]\n'
    "MONITORING_INTERVAL_MARKET = 100000\n"
    # Plain users import from the tests' own web server on the loopback.
    'IMPORT_ALLOWED_NETWORKS = "127.0.0.0/8"\n')

D = None


def setUpModule():
    global D
    D = harness.module_daemon(name="monitor", extra_conf=EXTRA_CONF)


def tearDownModule():
    harness.stop_module_daemon(D)


def entry(name, import_id=None, **attrs):
    """One APP line: the base64 of an app template."""
    pairs = [("NAME", name)]
    if import_id is not None:
        pairs.append(("IMPORT_ID", import_id))
    pairs += list(attrs.items())
    text = tmpl(*pairs)
    return 'APP="%s"' % base64.b64encode(text.encode()).decode()


def image_entry(i, version="1.0", **attrs):
    base = dict(TYPE="IMAGE", SOURCE="http://127.0.0.1/appliance/%d/download/0" % i,
                MD5="%032x" % i, SIZE=str(i + 1), FORMAT="qcow2", VERSION=version,
                PUBLISHER="tests", DESCRIPTION="app %d" % i, REGTIME="1700000000")
    base.update(attrs)
    return entry("app-%d" % i, "oid%04d" % i, **base)


class CatalogMarket:
    """A market of the catalog fake, and the answer its monitor gives."""

    def __init__(self, name, daemon=None, **attrs):
        self.d = daemon or D
        self.name = name
        self.path = os.path.join(self.d.dir, "catalog-%s" % name)
        self.write("")
        self.id = self.d.market(name, mad="catalog", CATALOG_FILE=self.path, **attrs)

    def write(self, *lines):
        with open(self.path, "w") as f:
            f.write("".join(line + "\n" for line in lines))

    def write_raw(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def runs(self):
        return len(self.sent())

    def sent(self):
        """The CATALOG_DIGEST each pass's document carried (None: none)."""
        try:
            with open(self.path + ".runs") as f:
                return [None if line.split()[1] == "-" else line.split()[1]
                        for line in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def status(self):
        m = self.d.info("market", self.id)
        return m.find("MONITORING")

    def monitor(self, expect="DONE"):
        """Trigger a pass, wait for its end; returns the MONITORING element."""
        before = self.runs()
        self.d.ok("one.market.monitor", self.id)
        deadline = time.monotonic() + 30
        while True:
            st = self.status()
            if st is not None and xtext(st, "STATE") != "RUNNING" and self.runs() > before:
                break
            if time.monotonic() > deadline:
                raise AssertionError("monitor of market %d did not end" % self.id)
            time.sleep(0.05)
        if expect:
            assert xtext(st, "STATE") == expect, "pass %s: %s" % (
                xtext(st, "STATE"), xtext(st, "MESSAGE"))
        return st

    def apps(self, raw=False):
        """This market's apps by name.  Unless @raw, without the " (<market>)"
        that tells apart names oneadmin already has in another market (the
        tests share one daemon)."""
        pool = xml(self.d.ok("one.marketapppool.info", -2, -1, -1))
        suffix = " (%s)" % self.name
        out = {}
        for a in pool.findall("MARKETPLACEAPP"):
            if xint(a, "MARKETPLACE_ID") != self.id:
                continue
            n = xtext(a, "NAME")
            if not raw and n.endswith(suffix):
                n = n[:-len(suffix)]
            out[n] = a
        return out


def counts(st):
    return {k: xint(st, "APPS_" + k.upper()) for k in
            ("added", "updated", "removed", "unchanged", "skipped", "missing")}


class Reconcile(harness.TestCase):

    def test_first_pass_creates_apps_as_oned_does(self):
        m = CatalogMarket("first")
        m.write(image_entry(1), image_entry(2),
                entry("tmpl-1", "t1", TYPE="VMTEMPLATE", VERSION="2",
                      APPTEMPLATE64=base64.b64encode(b'CPU="1"').decode()),
                "TOTAL_MB=1000", "FREE_MB=400", "USED_MB=600")
        st = m.monitor()
        self.assertEqual(counts(st), dict(added=3, updated=0, removed=0, unchanged=0,
                                          skipped=0, missing=0))
        apps = m.apps()
        self.assertEqual(sorted(apps), ["app-1", "app-2", "tmpl-1"])
        a = apps["app-1"]
        self.assertEqual(xint(a, "UID"), 0)
        self.assertEqual(xint(a, "GID"), 0)
        self.assertEqual(xtext(a, "UNAME"), "oneadmin")
        self.assertEqual(xint(a, "STATE"), harness.APP_READY)
        self.assertEqual(xint(a, "TYPE"), 1)
        self.assertEqual(xtext(a, "ORIGIN_ID"), "-1")
        self.assertEqual(xtext(a, "SOURCE"), "http://127.0.0.1/appliance/1/download/0")
        self.assertEqual(xtext(a, "MD5"), "%032x" % 1)
        self.assertEqual(xint(a, "SIZE"), 2)
        self.assertEqual(xtext(a, "FORMAT"), "qcow2")
        self.assertEqual(xint(a, "REGTIME"), 1700000000)
        self.assertEqual(xtext(a, "VERSION"), "1.0")
        self.assertEqual(xtext(a, "DESCRIPTION"), "app 1")
        self.assertEqual(xtext(a, "MARKETPLACE"), "first")
        self.assertEqual(xtext(a, "TEMPLATE/IMPORT_ID"), "oid0001")
        self.assertEqual(xtext(a, "TEMPLATE/PUBLISHER"), "tests")
        for gone in ("NAME", "SOURCE", "MD5", "SIZE", "FORMAT", "TYPE", "REGTIME"):
            self.assertIsNone(a.find("TEMPLATE/" + gone), gone)
        # um-/u--/u--: everyone may use a catalog's apps.
        self.assertEqual(harness.perms(a), "110100100")
        t = apps["tmpl-1"]
        self.assertEqual(xint(t, "TYPE"), 2)
        self.assertEqual(xtext(t, "APPTEMPLATE64"), base64.b64encode(b'CPU="1"').decode())
        mk = D.info("market", m.id)
        self.assertEqual((xint(mk, "TOTAL_MB"), xint(mk, "FREE_MB"), xint(mk, "USED_MB")),
                         (1000, 400, 600))
        self.assertEqual(sorted(int(i.text) for i in mk.findall("MARKETPLACEAPPS/ID")),
                         sorted(xint(x, "ID") for x in apps.values()))
        # An ordinary user sees them and may use them.
        uid, session = D.user("monitor-reader")
        pool = xml(D.ok("one.marketapppool.info", -2, -1, -1, session=session))
        self.assertIn("app-1", [xtext(x, "NAME") for x in pool.findall("MARKETPLACEAPP")])

    def test_unchanged_pass_writes_nothing(self):
        m = CatalogMarket("steady")
        lines = [image_entry(i) for i in range(20)] + ["TOTAL_MB=10", "FREE_MB=5", "USED_MB=5"]
        m.write(*lines)
        first = m.monitor()
        self.assertEqual(xint(first, "APPS_ADDED"), 20)
        ids = {n: xint(a, "ID") for n, a in m.apps().items()}
        bodies = {n: harness.ET.tostring(a) for n, a in m.apps().items()}
        second = m.monitor()
        self.assertEqual(counts(second), dict(added=0, updated=0, removed=0, unchanged=20,
                                              skipped=0, missing=0))
        self.assertEqual(xint(second, "ROWS_WRITTEN"), 0)
        self.assertEqual({n: xint(a, "ID") for n, a in m.apps().items()}, ids)
        self.assertEqual({n: harness.ET.tostring(a) for n, a in m.apps().items()}, bodies)

    def test_changed_entry_updated_in_place(self):
        m = CatalogMarket("changing")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        before = m.apps()
        D.ok("one.marketapp.enable", xint(before["app-1"], "ID"), False)
        m.write(image_entry(1, version="1.1", MD5="f" * 32, SOURCE="http://127.0.0.1/new"),
                image_entry(2))
        st = m.monitor()
        self.assertEqual((xint(st, "APPS_UPDATED"), xint(st, "APPS_UNCHANGED")), (1, 1))
        after = m.apps()
        a = after["app-1"]
        self.assertEqual(xint(a, "ID"), xint(before["app-1"], "ID"))
        self.assertEqual(xtext(a, "VERSION"), "1.1")
        self.assertEqual(xtext(a, "MD5"), "f" * 32)
        self.assertEqual(xtext(a, "SOURCE"), "http://127.0.0.1/new")
        self.assertEqual(xint(a, "STATE"), harness.APP_READY)
        self.assertEqual(xint(after["app-2"], "ID"), xint(before["app-2"], "ID"))

    def test_malformed_entries_skipped_rest_lands(self):
        m = CatalogMarket("broken")
        m.write(image_entry(1),
                'APP="this is not base64!"',
                'APP="%s"' % base64.b64encode(b'NAME="x" SOURCE=[').decode(),
                entry("", "empty-name"),
                'APP="%s"' % base64.b64encode(b'SOURCE="nameless"').decode(),
                entry("badtype", "bt", TYPE="SPACESHIP"),
                entry("badsize", "bs", SIZE="huge"),
                'APP=[ NAME="vector" ]',
                image_entry(2))
        st = m.monitor()
        self.assertEqual(xint(st, "APPS_ADDED"), 2)
        self.assertEqual(xint(st, "APPS_SKIPPED"), 7)
        self.assertEqual(sorted(m.apps()), ["app-1", "app-2"])
        log = D.read_log()
        self.assertRegex(log, r"market %d: APP entry 2 skipped: .*base64" % m.id)
        self.assertRegex(log, r"market %d: APP entry 6 skipped: .*SPACESHIP" % m.id)

    def test_removed_after_three_missing_passes(self):
        m = CatalogMarket("pruned")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        gone_id = xint(m.apps()["app-2"], "ID")
        m.write(image_entry(1))
        for n in (1, 2):
            st = m.monitor()
            self.assertEqual((xint(st, "APPS_MISSING"), xint(st, "APPS_REMOVED")), (1, 0))
            self.assertIn("app-2", m.apps(), "removed after %d pass(es)" % n)
        st = m.monitor()
        self.assertEqual((xint(st, "APPS_MISSING"), xint(st, "APPS_REMOVED")), (0, 1))
        self.assertEqual(sorted(m.apps()), ["app-1"])
        self.assertEqual(D.rpc("one.marketapp.info", gone_id)[0], False)

    def test_reappearing_entry_resets_its_count(self):
        m = CatalogMarket("flapping")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        m.write(image_entry(1))
        m.monitor()
        m.monitor()
        m.write(image_entry(1), image_entry(2))
        self.assertEqual(xint(m.monitor(), "APPS_UNCHANGED"), 2)
        m.write(image_entry(1))
        m.monitor()
        m.monitor()
        self.assertIn("app-2", m.apps())

    def test_empty_or_failed_pass_removes_nothing(self):
        m = CatalogMarket("fragile")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        ids = sorted(xint(a, "ID") for a in m.apps().values())
        failed_runs = 0
        for _ in range(4):
            m.write("TOTAL_MB=1")                       # no APP at all
            st = m.monitor()
            self.assertEqual(xint(st, "APPS_MISSING"), 0)
            runs = m.runs()
            m.write("FAIL")
            st = m.monitor(expect="FAILED")
            self.assertIn("catalog unavailable", xtext(st, "MESSAGE"))
            m.write('APP="!!!"', 'APP="???"')          # nothing usable
            failed_runs += m.runs() - runs             # the loop may add one
            m.monitor()
        self.assertEqual(sorted(xint(a, "ID") for a in m.apps().values()), ids)
        # One warning per failed pass, not a storm.
        log = D.read_log()
        fails = re.findall(r"market %d: monitor failed" % m.id, log)
        self.assertEqual(len(fails), failed_runs)
        loud = [l for l in log.splitlines() if "catalog unavailable" in l and "][D]:" not in l
                and (" %d: " % m.id) in l]
        self.assertEqual(len(loud), failed_runs, "\n".join(loud))

    def test_stdout_noise_fails_the_pass_cleanly(self):
        m = CatalogMarket("noisy")
        m.write(image_entry(1))
        m.monitor()
        before = m.apps()
        m.write_raw("DEBUG: fetching catalog...\n{\"appliances\": []}\n" + image_entry(2) + "\n")
        st = m.monitor(expect="FAILED")
        self.assertTrue(xtext(st, "MESSAGE"))
        self.assertEqual(sorted(m.apps()), sorted(before))

    def test_matched_by_import_id_within_its_market(self):
        a = CatalogMarket("twin-a")
        b = CatalogMarket("twin-b")
        a.write(image_entry(7))
        b.write(image_entry(7, version="9"))
        a.monitor()
        st = b.monitor()
        self.assertEqual(xint(st, "APPS_ADDED"), 1)
        aa, ba = a.apps(raw=True), b.apps(raw=True)
        self.assertEqual(list(aa), ["app-7"])
        # oneadmin already has an app-7: the second one says whose it is.
        self.assertEqual(list(ba), ["app-7 (twin-b)"])
        self.assertEqual(xtext(ba["app-7 (twin-b)"], "VERSION"), "9")
        self.assertEqual(xtext(aa["app-7"], "VERSION"), "1.0")
        # A pass of one market never touches the other's apps.
        a.write(image_entry(8))
        for _ in range(3):
            a.monitor()
        self.assertEqual(list(b.apps(raw=True)), ["app-7 (twin-b)"])
        self.assertEqual(sorted(a.apps()), ["app-8"])

    def test_duplicate_import_id_first_wins_every_pass(self):
        m = CatalogMarket("dups")
        m.write(image_entry(1, version="1"), image_entry(1, version="2"))
        st = m.monitor()
        self.assertEqual((xint(st, "APPS_ADDED"), xint(st, "APPS_SKIPPED")), (1, 1))
        self.assertEqual(xtext(m.apps()["app-1"], "VERSION"), "1")
        for _ in range(2):
            st = m.monitor()
            self.assertEqual((xint(st, "APPS_UNCHANGED"), xint(st, "APPS_SKIPPED"),
                              xint(st, "ROWS_WRITTEN")), (1, 1, 0))
        self.assertIn("IMPORT_ID oid0001 was already listed", D.read_log())

    def test_entry_without_import_id_matched_by_name(self):
        m = CatalogMarket("byname")
        m.write(entry("plain", None, VERSION="1", SOURCE="s1"))
        m.monitor()
        first = xint(m.apps()["plain"], "ID")
        m.write(entry("plain", None, VERSION="2", SOURCE="s2"))
        self.assertEqual(xint(m.monitor(), "APPS_UPDATED"), 1)
        self.assertEqual(xint(m.apps()["plain"], "ID"), first)

    def test_user_deleted_app_comes_back(self):
        m = CatalogMarket("redo")
        m.write(image_entry(1))
        m.monitor()
        # A catalog's driver cannot delete content, so IMAGE apps cannot be
        # deleted (oned's rule); templates can.
        m.write(image_entry(1), entry("t", "t", TYPE="VMTEMPLATE"))
        m.monitor()
        tid = xint(m.apps()["t"], "ID")
        self.assertEqual(D.rpc("one.marketapp.delete", xint(m.apps()["app-1"], "ID"))[0], False)
        D.ok("one.marketapp.delete", tid)
        self.assertNotIn("t", m.apps())
        self.assertEqual(xint(m.monitor(), "APPS_ADDED"), 1)
        self.assertIn("t", m.apps())

    def test_disable_drops_enable_reimports(self):
        m = CatalogMarket("toggled")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        D.ok("one.market.enable", m.id, False)
        self.assertEqual(m.apps(), {})
        self.assertFailure(D.rpc("one.market.monitor", m.id), "one.market.monitor",
                           code=ACTION, contains="disabled")
        runs = m.runs()
        D.ok("one.market.enable", m.id, True)
        # Enabling monitors at once (oned).
        self.wait_for(lambda: len(m.apps()) == 2 and m.runs() > runs, timeout=20,
                      what="the apps back after enable")

    def test_passes_of_one_market_never_overlap(self):
        m = CatalogMarket("slow")
        m.write_raw("SLEEP 1.5\n" + image_entry(1) + "\n")
        D.ok("one.market.monitor", m.id)
        self.assertEqual(xtext(m.status(), "STATE"), "RUNNING")
        for _ in range(5):
            D.ok("one.market.monitor", m.id)
        self.wait_for(lambda: xtext(m.status(), "STATE") == "DONE", timeout=20,
                      what="the slow pass")
        self.assertEqual(m.runs(), 1)
        self.assertEqual(list(m.apps()), ["app-1"])

    def test_who_may_trigger(self):
        m = CatalogMarket("guarded")
        uid, session = D.user("monitor-nobody")
        self.assertFailure(D.rpc("one.market.monitor", m.id, session=session),
                           "one.market.monitor", code=AUTHORIZATION)
        self.assertFailure(D.rpc("one.market.monitor", 99999), "one.market.monitor",
                           code=harness.NO_EXISTS, resp_id=99999)
        # http markets do not list their apps: monitor runs, capacity only.
        hid = D.market("cap-only")
        D.ok("one.market.monitor", hid)

    def test_monitoring_only_in_info(self):
        m = CatalogMarket("shown")
        m.write(image_entry(1))
        m.monitor()
        pool = xml(D.ok("one.marketpool.info"))
        for mk in pool.findall("MARKETPLACE"):
            self.assertIsNone(mk.find("MONITORING"))
        st = m.status()
        self.assertAlmostEqual(xint(st, "LAST_MONITOR"), time.time(), delta=60)


class Streaming(harness.TestCase):
    """Entries land as the driver prints them, in batches of their own."""

    def test_entries_land_while_the_driver_runs(self):
        m = CatalogMarket("live-feed")
        m.write(image_entry(1), image_entry(2), "PAUSE 6", image_entry(3), "TOTAL_MB=7")
        D.ok("one.market.monitor", m.id)
        # The driver is paused half-way: what it printed is there already,
        # and the daemon answers (the pass holds no lock while it waits).
        # (The market's app ids, not the pool: other tests' apps make it
        # tens of MB.)
        self.wait_for(lambda: len(D.info("market", m.id).findall("MARKETPLACEAPPS/ID")) == 2,
                      timeout=5, what="the entries printed before the pause")
        self.assertEqual(xtext(m.status(), "STATE"), "RUNNING")
        self.assertEqual(xint(D.info("market", m.id), "TOTAL_MB"), 0)
        st = self.wait_for(lambda: xtext(m.status(), "STATE") == "DONE" and m.status(),
                           timeout=20, what="the end of the pass")
        self.assertEqual(counts(st), dict(added=3, updated=0, removed=0, unchanged=0,
                                          skipped=0, missing=0))
        self.assertEqual(sorted(m.apps()), ["app-1", "app-2", "app-3"])
        self.assertEqual(xint(D.info("market", m.id), "TOTAL_MB"), 7)

    def test_broken_off_answer_keeps_what_landed_removes_nothing(self):
        m = CatalogMarket("cut-short")
        m.write(image_entry(1), image_entry(2), image_entry(3))
        m.monitor()
        ids = {n: xint(a, "ID") for n, a in m.apps().items()}
        # More failed passes than it takes to remove a missing app.
        for i in range(4):
            m.write(image_entry(4), "EXIT 1", image_entry(5))
            st = m.monitor(expect="FAILED")
            self.assertIn("the catalog broke off", xtext(st, "MESSAGE"))
            self.assertEqual(xint(st, "APPS_ADDED"), 1 if i == 0 else 0)
            self.assertEqual(xint(st, "APPS_MISSING"), 0)
        apps = m.apps()
        self.assertEqual(sorted(apps), ["app-1", "app-2", "app-3", "app-4"])
        self.assertEqual({n: xint(apps[n], "ID") for n in ids}, ids)
        # A whole answer again: the apps it no longer lists start ageing.
        m.write(image_entry(1), image_entry(2), image_entry(3))
        self.assertEqual(xint(m.monitor(), "APPS_MISSING"), 1)

    def test_many_batches_and_an_xml_answer(self):
        m = CatalogMarket("batches")
        n = 2500
        # Names no other test uses (they would get the market's suffix).
        m.write(*[image_entry(i) for i in range(10000, 10000 + n)])
        st = m.monitor()
        self.assertEqual(xint(st, "APPS_ADDED"), n)
        self.assertEqual(len(m.apps()), n)
        self.assertEqual(xint(m.monitor(), "ROWS_WRITTEN"), 0)
        # XML is read whole, after the driver: the same entries, unchanged.
        apps = "".join("<APP>%s</APP>" % image_entry(i)[5:-1] for i in range(10000, 10000 + n))
        m.write_raw("\n  <MONITOR>%s<TOTAL_MB>9</TOTAL_MB></MONITOR>\n" % apps)
        st = m.monitor()
        self.assertEqual(counts(st), dict(added=0, updated=0, removed=0, unchanged=n,
                                          skipped=0, missing=0))
        self.assertEqual(xint(D.info("market", m.id), "TOTAL_MB"), 9)


class Digests(harness.TestCase):
    """Catalog digests (drivers.md): an unchanged catalog is answered with
    CATALOG_UNCHANGED, and marketd sends the digest only while that answer
    would change nothing."""

    def setUp(self):
        # These tests count the passes of their markets: the loop's first
        # pass (5 s after start, of the markets there are then) must be
        # behind them.  It starts with market 0's.
        self.wait_for(lambda: D.info("market", 0).find("MONITORING/PASSES") is not None,
                      timeout=15, what="the monitor loop's first pass")

    def settled(self, name, *lines):
        m = CatalogMarket(name, DIGESTS="YES")
        m.write(*lines)
        st = m.monitor()
        self.assertEqual(m.sent(), [None])
        return m, st

    def test_unchanged_catalog_costs_no_entry(self):
        m, st = self.settled("dg-same", image_entry(1), image_entry(2), image_entry(3))
        self.assertEqual(xint(st, "APPS_ADDED"), 3)
        before = {n: ET.tostring(a) for n, a in m.apps().items()}
        st = m.monitor()
        self.assertEqual(len(m.sent()), 2)
        self.assertIsNotNone(m.sent()[1], "the second pass carries the digest")
        self.assertEqual(counts(st), dict(added=0, updated=0, removed=0, unchanged=3,
                                          skipped=0, missing=0))
        self.assertEqual(xint(st, "ROWS_WRITTEN"), 0)
        self.assertEqual({n: ET.tostring(a) for n, a in m.apps().items()}, before)
        # A changed catalog has another digest: a whole pass.
        m.write(image_entry(1), image_entry(2, version="2.0"), image_entry(3))
        st = m.monitor()
        self.assertEqual((xint(st, "APPS_UPDATED"), xint(st, "APPS_UNCHANGED")), (1, 2))
        self.assertEqual(xtext(m.apps()["app-2"], "VERSION"), "2.0")

    def test_local_changes_mean_a_whole_pass(self):
        m, _ = self.settled("dg-local", image_entry(1), entry("t", "t", TYPE="VMTEMPLATE"))
        m.monitor()
        digest = m.sent()[-1]
        self.assertIsNotNone(digest)
        # An app deleted by a user comes back at the next pass.
        D.ok("one.marketapp.delete", xint(m.apps()["t"], "ID"))
        st = m.monitor()
        self.assertIsNone(m.sent()[-1])
        self.assertEqual(xint(st, "APPS_ADDED"), 1)
        self.assertIn("t", m.apps())
        m.monitor()
        self.assertEqual(m.sent()[-1], digest, "settled again: the same catalog's digest")
        # The market's attributes are the driver's input: changed, a whole pass.
        D.ok("one.market.update", m.id, 'EXTRA="1"', 1)
        m.monitor()
        self.assertIsNone(m.sent()[-1])

    def test_missing_apps_keep_passes_whole(self):
        m, _ = self.settled("dg-missing", image_entry(1), image_entry(2))
        m.write(image_entry(1))
        for missing in (1, 2):
            st = m.monitor()
            self.assertEqual(xint(st, "APPS_MISSING"), 1)
        st = m.monitor()
        self.assertEqual(xint(st, "APPS_REMOVED"), 1)
        self.assertEqual(sorted(m.apps()), ["app-1"])
        # The first pass of the new catalog carried the old digest (the
        # driver answered whole); the passes while an app was missing
        # carried none.  Settled again, the next carries the new one.
        self.assertIsNotNone(m.sent()[1])
        self.assertEqual(m.sent()[2:4], [None, None])
        st = m.monitor()
        self.assertIsNotNone(m.sent()[-1])
        self.assertEqual(xint(st, "APPS_UNCHANGED"), 1)

    def test_restart_sends_no_digest(self):
        d = harness.Daemon(name="monitor-digests", extra_conf=EXTRA_CONF)
        d.start()
        try:
            m = CatalogMarket("dg-restart", daemon=d, DIGESTS="YES")
            m.write(image_entry(1))
            m.monitor()
            m.monitor()
            self.assertIsNotNone(m.sent()[-1])
            d.restart()
            m.monitor()
            self.assertIsNone(m.sent()[-1], "digests are kept in memory only")
            self.assertEqual(sorted(m.apps()), ["app-1"])
        finally:
            d.cleanup()

    def test_digest_that_is_no_token_is_not_kept(self):
        m = CatalogMarket("dg-long", DIGESTS="LONG")
        m.write(image_entry(1))
        m.monitor()
        st = m.monitor()
        self.assertEqual(m.sent(), [None, None])
        self.assertEqual(xint(st, "APPS_UNCHANGED"), 1)

    def test_unchanged_for_a_digest_never_sent_fails_the_pass(self):
        m = CatalogMarket("dg-lie")
        m.write(image_entry(1), image_entry(2))
        m.monitor()
        D.ok("one.market.update", m.id, 'DIGESTS="LIE"', 1)
        st = m.monitor(expect="FAILED")
        self.assertIn("CATALOG_UNCHANGED", xtext(st, "MESSAGE"))
        self.assertIn("did not send", xtext(st, "MESSAGE"))
        self.assertEqual(sorted(m.apps()), ["app-1", "app-2"])


class Exports(harness.TestCase):
    """Exports of catalog apps (content served by a private nginx; the
    catalog fake has no export, so marketd downloads SOURCE itself)."""

    @classmethod
    def setUpClass(cls):
        cls.www = os.path.join(D.dir, "www-exports")
        os.makedirs(cls.www, exist_ok=True)
        cls.web = Nginx(os.path.join(D.dir, "nginx-exports"), cls.www).start()

    @classmethod
    def tearDownClass(cls):
        cls.web.stop()

    def serve(self, name, data):
        with open(os.path.join(self.www, name), "wb") as f:
            f.write(data)
        return self.web.url("/" + name)

    def vm_entry(self, name, *disks):
        text = ('NAME="%s"\nIMPORT_ID="%s"\nTYPE="VMTEMPLATE"\nAPPTEMPLATE64="%s"\n'
                % (name, name, base64.b64encode(b'CPU="1"').decode()))
        text += "".join('DISK=[ NAME="%d", APP="%s" ]\n' % (i, d) for i, d in enumerate(disks))
        return 'APP="%s"' % base64.b64encode(text.encode()).decode()

    def pools(self):
        return {k: sorted(xint(o, "ID") for o in xml(D.ok("one.%spool.info" % k, -2, -1, -1)))
                for k in ("image", "template", "document")}

    def test_forged_export_group_is_ignored(self):
        uid, session = D.user("forger")
        url = self.serve("forged", b"x" * 1000)
        iid = D.ok("one.image.allocate", tmpl(NAME="forged", PATH=url, EXPORT_GROUP="app1-x",
                                              EXPORT_UNDONE="YES"), 1, session=session)
        im = D.wait_state("image", iid, (1,))
        self.assertIsNone(im.find("TEMPLATE/EXPORT_GROUP"))
        self.assertIsNone(im.find("TEMPLATE/EXPORT_UNDONE"))
        D.ok("one.image.update", iid, tmpl(EXPORT_GROUP="app1-x"), 1, session=session)
        self.assertIsNone(D.info("image", iid).find("TEMPLATE/EXPORT_GROUP"))

    def test_missing_md5_exports(self):
        m = CatalogMarket("nomd5")
        url = self.serve("nomd5", b"y" * 5000)
        m.write(entry("nomd5-img", "n1", TYPE="IMAGE", SOURCE=url, FORMAT="raw"))
        m.monitor()
        iid = D.ok("one.marketapp.export", xint(m.apps()["nomd5-img"], "ID"), 1, "nomd5-out")
        D.wait_state("image", iid, (1,))

    def test_failed_start_leaves_nothing_locked(self):
        m = CatalogMarket("badstart")
        good = self.serve("good-disk", os.urandom(3000))
        m.write(entry("bs-local", "l1", TYPE="IMAGE", SOURCE="/etc/hostname", FORMAT="raw"),
                entry("bs-good", "g1", TYPE="IMAGE", SOURCE=good, FORMAT="raw"),
                self.vm_entry("bs-vm", "bs-good", "bs-local", "bs-good"))
        m.monitor()
        before = self.pools()
        r = D.rpc("one.marketapp.export", xint(m.apps()["bs-vm"], "ID"), 1, "bs-out")
        self.assertFalse(r[0])
        self.assertIn("not an http(s) URL", r[1])

        def settled():
            # One pool read: images of the export vanish while we look.
            images = {xint(o, "ID"): xint(o, "STATE")
                      for o in xml(D.ok("one.imagepool.info", -2, -1, -1))}
            new = [i for i in images if i not in before["image"]]
            states = [images[i] for i in new]
            return (self.pools()["template"] == before["template"]
                    and states == [5]) and new
        new = self.wait_for(settled, timeout=20, what="the export undone")
        self.assertIn("not an http(s) URL", xtext(D.info("image", new[0]), "TEMPLATE/ERROR"))

    def test_template_deleted_while_disks_fill_keeps_them(self):
        m = CatalogMarket("keepdisks")
        data = os.urandom(4000)
        url = self.serve("keep-disk", data)
        m.write(entry("kd-img", "k1", TYPE="IMAGE", SOURCE=url, FORMAT="raw",
                      MD5=__import__("hashlib").md5(data).hexdigest()),
                self.vm_entry("kd-vm", "kd-img"))
        m.monitor()
        tid = D.ok("one.marketapp.export", xint(m.apps()["kd-vm"], "ID"), 1, "kd-out")
        iid = int(xtext(D.info("template", tid), "TEMPLATE/DISK/IMAGE_ID"))
        D.ok("one.template.delete", tid)
        im = D.wait_state("image", iid, (1,))
        with open(xtext(im, "SOURCE"), "rb") as f:
            self.assertEqual(f.read(), data)


class StreamedPool(harness.TestCase):
    """one.marketapppool.info is sent as it is read from the store: chunked,
    as the store was when the call was served, while other calls go on."""

    N = 3000

    @classmethod
    def setUpClass(cls):
        cls.cat = CatalogMarket("streamed")
        pad = "x&" * 1000   # escapes at every offset of the front end's buffers
        cls.cat.write(*[image_entry(i, DESCRIPTION="app %d %s" % (i, pad))
                        for i in range(cls.N)])
        cls.cat.monitor()
        cls.http = D.market("streamed-http")

    def pool_body(self):
        return ("<?xml version='1.0'?><methodCall><methodName>one.marketapppool.info"
                "</methodName><params><param><value><string>%s</string></value></param>"
                "<param><value><i4>-2</i4></value></param><param><value><i4>-1</i4></value>"
                "</param><param><value><i4>-1</i4></value></param></params></methodCall>"
                % D.session).encode()

    def test_snapshot_while_others_are_served(self):
        # A client that reads little and slowly: the answer (over 6 MB)
        # waits in marketd while it does.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", D.port))
        try:
            body = self.pool_body()
            sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            got = b""
            while b"\r\n\r\n" not in got:
                got += sock.recv(4096)
            head = got.split(b"\r\n\r\n", 1)[0].lower()
            self.assertIn(b"transfer-encoding: chunked", head)
            # Served meanwhile: a write, and reads.
            t0 = time.monotonic()
            late = D.app("late-app", self.http, type_="VMTEMPLATE")
            D.ok("one.system.version")
            self.assertLess(time.monotonic() - t0, 5)
            sock.settimeout(60)
            got = bytearray(got)
            while not got.endswith(b"\r\n0\r\n\r\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
            got = bytes(got)
        finally:
            sock.close()
        raw = got.split(b"\r\n\r\n", 1)[1]
        data, at = bytearray(), 0
        while True:
            end = raw.index(b"\r\n", at)
            n = int(raw[at:end], 16)
            if n == 0:
                break
            data += raw[end + 2:end + 2 + n]
            at = end + 2 + n + 2
        data = bytes(data)
        ok, text, _ = __import__("xmlrpc.client").client.loads(data)[0][0]
        self.assertTrue(ok)
        pool = ET.fromstring(text)
        ids = [xint(a, "ID") for a in pool.findall("MARKETPLACEAPP")]
        mine = [a for a in pool.findall("MARKETPLACEAPP")
                if xint(a, "MARKETPLACE_ID") == self.cat.id]
        self.assertEqual(len(mine), self.N)
        self.assertEqual(ids, sorted(ids))
        self.assertNotIn(late, ids, "an app allocated after the call was served is in it")
        self.assertIn(late, [xint(a, "ID") for a in
                             xml(D.ok("one.marketapppool.info", -2, -1, -1))
                             .findall("MARKETPLACEAPP")])
        D.ok("one.marketapp.delete", late)

    def test_whole_pool_read_at_once(self):
        # Every piece boundary of 6 MB of escaped XML against the front
        # end's buffers: the answer parses and holds every app.
        for _ in range(3):
            pool = xml(D.ok("one.marketapppool.info", -2, -1, -1))
            mine = [a for a in pool.findall("MARKETPLACEAPP")
                    if xint(a, "MARKETPLACE_ID") == self.cat.id]
            self.assertEqual(len(mine), self.N)
            self.assertTrue(xtext(mine[-1], "TEMPLATE/DESCRIPTION").endswith("x&" * 50))

    def test_multicall_answer_is_the_same(self):
        calls = [{"methodName": "one.marketapppool.info",
                  "params": [D.session, -2, self.cat_first(), self.cat_first() + 9]}]
        res = D.proxy().system.multicall(calls)
        self.assertTrue(res[0][0][0], res)
        pool = ET.fromstring(res[0][0][1])
        self.assertEqual(len(pool.findall("MARKETPLACEAPP")), 10)
        self.assertEqual(res[0][0][1],
                         D.ok("one.marketapppool.info", -2, self.cat_first(),
                              self.cat_first() + 9))

    def cat_first(self):
        return min(xint(a, "ID") for a in self.cat.apps().values())

    def test_bad_filter_is_a_fault(self):
        ok, msg, code = D.rpc("one.marketapppool.info", -5, -1, -1)[:3]
        self.assertFalse(ok)
        self.assertIn("filter must be", msg)


class SlowPoolReader(harness.TestCase):
    """A client that reads a streamed pool slower than RPC/STREAM_MIN_RATE
    is cut once RPC/TIMEOUT has passed: its read snapshot would otherwise
    keep the database log from being checkpointed for as long as it
    likes.  A daemon of its own, with a high floor: the kernel's socket
    buffers (~10 MB on the loopback) count as sent, so the answer (~60 MB)
    must be larger than they are by far.  The grace is the idle timeout,
    long enough here that a reader woken only every second or two (as the
    kernel wakes a writer whose buffer has room again) is never idle."""

    N = 2000

    @classmethod
    def setUpClass(cls):
        cls.d = harness.Daemon(name="slowpool", extra_conf=EXTRA_CONF + (
            'RPC = [ TIMEOUT = "10", STREAM_MIN_RATE = "8192" ]\n'))
        cls.d.start()
        cls.cat = CatalogMarket("slow", daemon=cls.d)
        pad = "x&" * 3000
        cls.cat.write(*[image_entry(i, DESCRIPTION="app %d %s" % (i, pad))
                        for i in range(cls.N)])
        cls.cat.monitor()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def pool_request(self):
        body = ("<?xml version='1.0'?><methodCall><methodName>one.marketapppool.info"
                "</methodName><params><param><value><string>%s</string></value></param>"
                "<param><value><i4>-2</i4></value></param><param><value><i4>-1</i4>"
                "</value></param><param><value><i4>-1</i4></value></param></params>"
                "</methodCall>" % self.d.session).encode()
        return (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read_pool(self, pause):
        """(bytes read, whole answer read) reading 64 KiB per @pause s."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.connect(("127.0.0.1", self.d.port))
        got, tail = 0, b""
        try:
            sock.sendall(self.pool_request())
            sock.settimeout(30)
            while True:
                try:
                    chunk = sock.recv(1 << 16)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += len(chunk)
                tail = (tail + chunk)[-16:]
                if tail.endswith(b"\r\n0\r\n\r\n"):
                    return got, True
                if pause:
                    time.sleep(pause)
        finally:
            sock.close()
        return got, False

    def test_trickling_reader_is_cut(self):
        # ~640 KiB/s: below the floor, yet never idle for the timeout.
        t0 = time.monotonic()
        got, whole = self.read_pool(0.1)
        self.assertFalse(whole, "the whole answer went to a client below the floor")
        self.assertLess(time.monotonic() - t0, 40)
        self.assertRegex(self.d.read_log(), r"answer to 127\.0\.0\.1 cut after \d+ s: \d+ "
                         r"bytes read, below RPC/STREAM_MIN_RATE \(8192 KiB/s\)")
        # A client that reads as fast as it can gets it all.
        size, whole = self.read_pool(0)
        self.assertTrue(whole)
        self.assertGreater(size, 40 * 10**6)
        self.assertLess(got, size)


class PublicMarket(harness.TestCase):

    def test_market_zero_on_first_start(self):
        m = D.info("market", 0)
        self.assertEqual(xtext(m, "NAME"), "OpenNebula Public")
        self.assertEqual(xtext(m, "MARKET_MAD"), "one")
        self.assertEqual(xint(m, "UID"), 0)
        self.assertEqual(harness.perms(m), "110100100")

    def test_deleted_market_zero_stays_deleted(self):
        d = harness.Daemon(name="pub").start()
        try:
            d.ok("one.market.delete", 0)
            d.restart()
            self.assertEqual(d.rpc("one.market.info", 0)[0], False)
        finally:
            d.cleanup()


class Loop(harness.TestCase):

    def test_periodic_passes(self):
        d = harness.Daemon(name="loop", extra_conf=EXTRA_CONF.replace(
            "MONITORING_INTERVAL_MARKET = 100000", "MONITORING_INTERVAL_MARKET = 1")).start()
        try:
            m = CatalogMarket("periodic", daemon=d)
            m.write(image_entry(1))
            self.wait_for(lambda: m.runs() >= 3, timeout=20, what="three passes")
            pool = xml(d.ok("one.marketapppool.info", -2, -1, -1))
            self.assertEqual([xtext(a, "NAME") for a in pool.findall("MARKETPLACEAPP")],
                             ["app-1"])
        finally:
            d.cleanup()


class Cli(harness.TestCase):

    def test_export_template_apps(self):
        """Template apps export with what they name (the catalog fake has
        no export: marketd downloads the http SOURCE itself)."""
        www = os.path.join(D.dir, "www")
        os.makedirs(www, exist_ok=True)
        data = os.urandom(200000)
        with open(os.path.join(www, "disk-content"), "wb") as f:
            f.write(data)
        web = Nginx(os.path.join(D.dir, "nginx"), www).start()
        self.addCleanup(web.stop)
        path = web.url("/disk-content")
        md5 = __import__("hashlib").md5(data).hexdigest()
        svc = {"name": "svc", "roles": [{"name": "web", "vm_template": 0},
                                        {"name": "db", "vm_template": 0}]}
        m = CatalogMarket("exports")
        m.write(entry("ex-disk", "d1", TYPE="IMAGE", SOURCE=path, MD5=md5, FORMAT="raw",
                      SIZE="1"),
                'APP="%s"' % base64.b64encode((
                    'NAME="ex-vm"\nIMPORT_ID="v1"\nTYPE="VMTEMPLATE"\n'
                    'APPTEMPLATE64="%s"\nDISK=[ NAME="0", APP="ex-disk" ]\n'
                    % base64.b64encode(b'CPU="2"\nMEMORY="512"\n').decode()).encode()).decode(),
                'APP="%s"' % base64.b64encode((
                    'NAME="ex-svc"\nIMPORT_ID="s1"\nTYPE="SERVICE_TEMPLATE"\n'
                    'APPTEMPLATE64="%s"\nROLE=[ NAME="web", APP="ex-vm" ]\n'
                    'ROLE=[ NAME="db", APP="ex-vm" ]\n'
                    % base64.b64encode(__import__("json").dumps(svc).encode()).decode()
                    ).encode()).decode())
        m.monitor()
        apps = m.apps()
        r = D.cli("app", "export", str(xint(apps["ex-vm"], "ID")), "--datastore", "1",
                  "--name", "cli-vm", "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        tid = int(re.search(r"VMTEMPLATE ID: (\d+)", r.stdout).group(1))
        t = D.info("template", tid)
        self.assertEqual(xtext(t, "TEMPLATE/CPU"), "2")
        iid = int(xtext(t, "TEMPLATE/DISK/IMAGE_ID"))
        im = D.info("image", iid)
        self.assertEqual(xint(im, "STATE"), 1)
        with open(xtext(im, "SOURCE"), "rb") as f:
            self.assertEqual(f.read(), data)
        r = D.cli("template", "show", str(tid))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cli-vm", r.stdout)
        r = D.cli("app", "export", str(xint(apps["ex-svc"], "ID")), "--datastore", "1",
                  "--name", "cli-svc", "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        did = int(re.search(r"DOCUMENT ID: (\d+)", r.stdout).group(1))
        doc = D.info("document", did)
        self.assertEqual(xint(doc, "TYPE"), 101)
        body = __import__("json").loads(xtext(doc, "TEMPLATE/BODY"))
        for role in body["roles"]:
            vt = D.info("template", role["vm_template"])
            self.assertEqual(xtext(vt, "NAME"), "cli-svc-%s" % role["name"])
        r = D.cli("document", "list")
        self.assertIn("cli-svc", r.stdout)
        # A name already taken: nothing is created at all.
        def counts():
            return [len(xml(D.ok(p, -2, -1, -1))) for p in (
                "one.imagepool.info", "one.templatepool.info", "one.documentpool.info")]
        before = counts()
        r = D.cli("app", "export", str(xint(apps["ex-svc"], "ID")), "--datastore", "1",
                  "--name", "cli-svc")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already taken", r.stderr)
        self.assertEqual(counts(), before)
        # Taken by an image the export would make (cli-svc2-web-disk-0).
        D.ok("one.image.allocate", tmpl(NAME="cli-svc2-web-disk-0", PATH=path), 1)
        before = counts()
        r = D.cli("app", "export", str(xint(apps["ex-svc"], "ID")), "--datastore", "1",
                  "--name", "cli-svc2")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already taken", r.stderr)
        self.assertEqual(counts(), before)

    def test_market_monitor_wait(self):
        m = CatalogMarket("by-cli")
        m.write(image_entry(1), image_entry(2))
        r = D.cli("market", "monitor", str(m.id), "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The loop's own first pass may have come first on a busy machine:
        # then this one found both unchanged.
        self.assertRegex(r.stdout, r"monitored: (2 added, 0 updated|0 added, 0 updated, 0 removed, "
                                   r"2 unchanged)")
        m.write("FAIL")
        r = D.cli("market", "monitor", str(m.id), "--wait")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("catalog unavailable", r.stderr)


if __name__ == "__main__":
    harness.main()
