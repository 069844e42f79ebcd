#!/usr/bin/env python3
"""End to end (issue 5): marketd with the real `one` driver and a real nginx.

The daemon runs the built drivers ($MKT_BUILDDIR/drivers); each test
serves a catalog in the real JSON shape (test/drivers/catalog.py) with a
private nginx on 127.0.0.1 and points a `one` market's ENDPOINT at it.
Monitor passes are triggered with one.market.monitor and followed through
the market's <MONITORING> status (PASSES grows, STATE leaves RUNNING); the
loop's own interval is 100000 s and its one automatic pass (about 5 s after
start) is waited for before a test begins, so every pass a test sees is one
it asked for.

Market 0 ("OpenNebula Public", the default endpoint) must never reach the
internet: every daemon here has https_proxy set to a closed loopback port
(and no_proxy=127.0.0.1 so the local nginx is reached directly).

Python 3 standard library only.  Standalone:
    python3 test/integration/test_e2e_one.py
"""

import sys
sys.dont_write_bytecode = True

import base64
import copy
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time

import harness
from harness import NO_EXISTS, tmpl, xint, xml, xtext

sys.path.insert(0, os.path.join(harness.SRCDIR, "test", "drivers"))
import catalog  # noqa: E402  (puts test/ on the path too)
from proxy import CountingProxy  # noqa: E402

DRIVERS = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "ALL_PROXY", "all_proxy")
EXTRA_CONF = "MONITORING_INTERVAL_MARKET = 100000\n"
MB = 1 << 20
IMAGE_READY, IMAGE_LOCKED, IMAGE_ERROR = 1, 4, 5
TYPES = {"IMAGE": 1, "VMTEMPLATE": 2, "SERVICE_TEMPLATE": 3}
PASS_TIMEOUT = 60
EXPORT_TIMEOUT = 60

D = None            # the module daemon


# -- the daemon -------------------------------------------------------------------------

class OneDaemon(harness.Daemon):
    """The harness daemon on the real drivers.  No proxy of the caller's
    applies; https (market 0's default endpoint) goes to a dead proxy, so
    the public marketplace is never contacted; @env_extra adds variables
    (a value of None removes one)."""

    def __init__(self, env_extra=None, **kw):
        kw.setdefault("extra_conf", EXTRA_CONF)
        super().__init__(driver_dir=DRIVERS, **kw)
        self.env_extra = dict(env_extra or {})

    def env(self):
        env = super().env()
        for k in PROXY_VARS:
            env.pop(k, None)
        env["https_proxy"] = "http://127.0.0.1:%d" % harness.closed_port()
        env["no_proxy"] = "127.0.0.1"
        for k, v in self.env_extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env


def status(d, market_id):
    """The market's MONITORING element, or None before its first pass."""
    return d.info("market", market_id).find("MONITORING")


def passes(st):
    return xint(st, "PASSES") if st is not None else 0


def wait_passes(d, market_id, at_least, timeout=PASS_TIMEOUT):
    """Wait until @at_least passes of the market ended and none runs."""
    deadline = time.monotonic() + timeout * harness.SLOW
    while True:
        st = status(d, market_id)
        if st is not None and passes(st) >= at_least and xtext(st, "STATE") != "RUNNING":
            return st
        if time.monotonic() > deadline:
            raise AssertionError("market %d: %d pass(es) not ended after %ss: %s"
                                 % (market_id, at_least, timeout,
                                    harness.ET.tostring(st).decode() if st is not None
                                    else "no MONITORING"))
        time.sleep(0.05)


def monitor(d, market_id, expect="DONE"):
    """Trigger one pass and wait for its end; returns MONITORING."""
    before = passes(status(d, market_id))
    d.ok("one.market.monitor", market_id)
    st = wait_passes(d, market_id, before + 1)
    if expect:
        assert xtext(st, "STATE") == expect, "market %d pass %s (expected %s): %s" % (
            market_id, xtext(st, "STATE"), expect, xtext(st, "MESSAGE"))
    return st


def settle(*daemons):
    """Wait for the loop's automatic first pass (market 0 ends one)."""
    for d in daemons:
        wait_passes(d, 0, 1, timeout=30)


def one_daemon(testcase, **kw):
    d = OneDaemon(**kw)
    testcase.addCleanup(d.cleanup)
    d.start()
    return d


def counts(st):
    return {k: xint(st, "APPS_" + k.upper()) for k in
            ("added", "updated", "removed", "unchanged", "skipped", "missing")}


# -- catalogs -------------------------------------------------------------------------------

class Served:
    """A catalog written in its own directory and served by its own nginx."""

    def __init__(self, testcase, cat, extra=""):
        self.dir = tempfile.mkdtemp(prefix="mkt-e2e-one-")
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        self.cat = cat
        self.nginx, self.endpoint = catalog.serve(self.dir, cat, extra=extra)
        testcase.addCleanup(self.nginx.stop)

    def write(self, cat=None):
        if cat is not None:
            self.cat = cat
        catalog.write(self.dir, self.cat)

    def app(self, key):
        """The appliance dict of a fixed id (catalog.FIXED_IDS key) or oid."""
        oid = catalog.FIXED_IDS.get(key, key)
        for a in self.cat["appliances"]:
            if isinstance(a, dict) and a.get("_id", {}).get("$oid") == oid:
                return a
        raise KeyError(key)


def new_market(d, name, endpoint):
    """A `one` market on @endpoint and its first pass.  Returns (id,
    MONITORING of that pass)."""
    mid = d.ok("one.market.allocate", tmpl(NAME=name, MARKET_MAD="one", ENDPOINT=endpoint))
    return mid, monitor(d, mid, expect=None)


def apps_of(d, market_id):
    """{IMPORT_ID: MARKETPLACEAPP element} of one market."""
    pool = xml(d.ok("one.marketapppool.info", -2, -1, -1))
    return {xtext(a, "TEMPLATE/IMPORT_ID"): a for a in pool.findall("MARKETPLACEAPP")
            if xint(a, "MARKETPLACE_ID") == market_id}


def app_named(d, market_id, name):
    """The app id of a catalog name (the monitor appends " (<market>)" when
    oneadmin already has that name in another market)."""
    for a in apps_of(d, market_id).values():
        n = xtext(a, "NAME")
        if n == name or re.fullmatch(re.escape(name) + r" \(.*\)", n):
            return xint(a, "ID")
    raise AssertionError("no app %r in market %d" % (name, market_id))


def body(elem):
    return harness.ET.tostring(elem)


def objects(d):
    """Ids of every image, VM template and document."""
    return {
        "images": harness.pool_ids(d.ok("one.imagepool.info", -2, -1, -1), "IMAGE_POOL", "IMAGE"),
        "templates": harness.pool_ids(d.ok("one.templatepool.info", -2, -1, -1),
                                      "VMTEMPLATE_POOL", "VMTEMPLATE"),
        "documents": harness.pool_ids(d.ok("one.documentpool.info", -2, -1, -1),
                                      "DOCUMENT_POOL", "DOCUMENT"),
    }


def images_by_name(d):
    pool = xml(d.ok("one.imagepool.info", -2, -1, -1))
    return {xtext(i, "NAME"): i for i in pool.findall("IMAGE")}


def ds_files(d, ds_id=1):
    base = xtext(d.info("datastore", ds_id), "BASE_PATH")
    return base, sorted(os.listdir(base)) if os.path.isdir(base) else []


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def exists(d, kind, oid):
    r = d.rpc("one.%s.info" % kind, oid)
    if r[0] is True:
        return True
    assert r[2] == NO_EXISTS, "one.%s.info %d: %r" % (kind, oid, r)
    return False


def appliance(oid, name, type_, **fields):
    a = {"_id": {"$oid": oid}, "name": name, "type": type_, "publisher": "tests",
         "version": "1", "creation_time": 1717600000}
    a.update(fields)
    return a


# -- a forward proxy that counts ------------------------------------------------------------

# -- module set-up ------------------------------------------------------------------------

def setUpModule():
    global D
    D = OneDaemon(name="e2e-one").start()
    settle(D)


def tearDownModule():
    harness.stop_module_daemon(D)


# -- the tests ------------------------------------------------------------------------------

class Monitor(harness.TestCase):

    def test_01_first_pass_creates_every_fixed_appliance(self):
        s = Served(self, catalog.make())
        mid, st = new_market(D, "e2e-first", s.endpoint)
        self.assertEqual(xtext(st, "STATE"), "DONE", xtext(st, "MESSAGE"))
        self.assertEqual(counts(st), dict(added=8, updated=0, removed=0, unchanged=0,
                                          skipped=0, missing=0))
        apps = apps_of(D, mid)
        expected = [k for k in catalog.FIXED_IDS if k not in catalog.SKIPPED]
        self.assertEqual(sorted(apps), sorted(catalog.FIXED_IDS[k] for k in expected))
        for key in expected:
            src = s.app(key)
            oid = catalog.FIXED_IDS[key]
            a = apps[oid]
            with self.subTest(app=key):
                files = src.get("files") or []
                size = math.ceil(int(files[0]["size"]) / MB) if files else 0
                self.assertIn(xtext(a, "NAME"), (src["name"], "%s (e2e-first)" % src["name"]))
                self.assertEqual(xint(a, "TYPE"), TYPES[src.get("type", "IMAGE")])
                self.assertEqual(xtext(a, "SOURCE"),
                                 "%sappliance/%s/download/0" % (s.endpoint, oid))
                self.assertEqual(xtext(a, "MD5"), files[0]["md5"] if files else "")
                self.assertEqual(xint(a, "SIZE"), size)
                self.assertEqual(xtext(a, "FORMAT"), src.get("format", ""))
                # oned's default VERSION for an app that gives none.
                self.assertEqual(xtext(a, "VERSION"), str(src.get("version", "0.0")))
                self.assertEqual(xtext(a, "DESCRIPTION"), src.get("short_description", ""))
                if "creation_time" in src:
                    self.assertEqual(xint(a, "REGTIME"), int(src["creation_time"]))
                self.assertEqual(xtext(a, "TEMPLATE/IMPORT_ID"), oid)
                self.assertEqual(xtext(a, "ORIGIN_ID"), "-1")
                self.assertEqual((xint(a, "UID"), xtext(a, "UNAME")), (0, "oneadmin"))
                self.assertEqual(xint(a, "STATE"), harness.APP_READY)
                self.assertEqual(xint(a, "MARKETPLACE_ID"), mid)
        # What the templates name came through the driver and the daemon.
        vm = apps[catalog.FIXED_IDS["vmtemplate"]]
        self.assertEqual([xtext(x, "APP") for x in vm.findall("TEMPLATE/DISK")],
                         ["Alpine Linux 3.20", "Ubuntu 24.04 arm"])
        svc = apps[catalog.FIXED_IDS["service"]]
        self.assertEqual([(xtext(x, "NAME"), xtext(x, "APP")) for x in svc.findall("TEMPLATE/ROLE")],
                         [("master", "WordPress VM"), ("worker", "WordPress VM")])
        self.assertIsNone(apps[catalog.FIXED_IDS["badtpl"]].find("TEMPLATE/VMTEMPLATE64"))
        self.assertIsNotNone(apps[catalog.FIXED_IDS["image"]].find("TEMPLATE/VMTEMPLATE64"))
        # The market lists them.
        mk = D.info("market", mid)
        self.assertEqual(sorted(int(i.text) for i in mk.findall("MARKETPLACEAPPS/ID")),
                         sorted(xint(a, "ID") for a in apps.values()))
        # The skipped appliances never reach the daemon (APPS_SKIPPED counts
        # what the daemon drops): the driver's WARN lines say why, one each.
        log = D.read_log()
        for what in ('\\(64f0a0000000000000000009, "docker thing"\\) skipped: type "DOCKER"',
                     '\\(no id, ""\\) skipped: _id.\\$oid is missing',
                     '\\(64f0a000000000000000000a, "bad files"\\) skipped: files is a string'):
            self.assertEqual(len(re.findall(r"\[driver\]\[W\]: one monitor %d: appliance #\d+ %s"
                                            % (mid, what), log)), 1, what)
        self.assertRegex(log, r"\[driver\]\[I\]: one monitor %d: 8 apps from %sappliance "
                         r"\(3 appliances skipped\)" % (mid, re.escape(s.endpoint)))

    def test_02_new_version_updated_in_place(self):
        s = Served(self, catalog.make())
        mid, _ = new_market(D, "e2e-version", s.endpoint)
        before = apps_of(D, mid)
        arm = catalog.FIXED_IDS["arm"]
        s.app("arm")["version"] = "2410"
        s.write()
        st = monitor(D, mid)
        self.assertEqual(counts(st), dict(added=0, updated=1, removed=0, unchanged=7,
                                          skipped=0, missing=0))
        # One app rewritten: its row, and at most its catalog bookkeeping row.
        self.assertGreaterEqual(xint(st, "ROWS_WRITTEN"), 1)
        self.assertLessEqual(xint(st, "ROWS_WRITTEN"), 2)
        after = apps_of(D, mid)
        self.assertEqual(sorted(after), sorted(before))
        self.assertEqual(xint(after[arm], "ID"), xint(before[arm], "ID"))
        self.assertEqual(xtext(after[arm], "VERSION"), "2410")
        self.assertEqual(xtext(after[arm], "TEMPLATE/VERSION"), "2410")
        self.assertEqual(xint(after[arm], "STATE"), harness.APP_READY)
        for oid in before:
            if oid != arm:
                self.assertEqual(body(after[oid]), body(before[oid]), oid)
        # And the pass after that writes nothing.
        st = monitor(D, mid)
        self.assertEqual((xint(st, "APPS_UNCHANGED"), xint(st, "ROWS_WRITTEN")), (8, 0))

    def test_03_removed_after_three_missing_passes(self):
        s = Served(self, catalog.make(), extra="location /err500/ { return 500; }")
        mid, _ = new_market(D, "e2e-prune", s.endpoint)
        bare = catalog.FIXED_IDS["bare"]
        bare_id = xint(apps_of(D, mid)[bare], "ID")
        cat = copy.deepcopy(s.cat)
        cat["appliances"] = [a for a in cat["appliances"]
                             if a.get("_id", {}).get("$oid") != bare]
        s.write(cat)
        for n in (1, 2):
            st = monitor(D, mid)
            self.assertEqual((xint(st, "APPS_MISSING"), xint(st, "APPS_REMOVED"),
                              xint(st, "APPS_UNCHANGED")), (1, 0, 7), "pass %d" % n)
            self.assertIn(bare, apps_of(D, mid), "removed after %d pass(es)" % n)
            self.assertTrue(exists(D, "marketapp", bare_id))
            if n == 1:
                # Neither a failed pass nor an empty catalog counts.
                D.ok("one.market.update", mid,
                     tmpl(ENDPOINT=s.endpoint + "err500/"), 1)
                monitor(D, mid, expect="FAILED")
                D.ok("one.market.update", mid, tmpl(ENDPOINT=s.endpoint), 1)
                s.write({"appliances": []})
                self.assertEqual(xint(monitor(D, mid), "APPS_MISSING"), 0)
                s.write(cat)
                self.assertIn(bare, apps_of(D, mid))
        st = monitor(D, mid)
        self.assertEqual((xint(st, "APPS_MISSING"), xint(st, "APPS_REMOVED"),
                          xint(st, "APPS_UNCHANGED")), (0, 1, 7))
        self.assertNotIn(bare, apps_of(D, mid))
        self.assertFalse(exists(D, "marketapp", bare_id))
        self.assertEqual(len(apps_of(D, mid)), 7)
        self.assertRegex(D.read_log(), r"market %d: app %d \(id:%s\) left the catalog"
                         % (mid, bare_id, bare))

    def test_04_empty_or_failed_passes_remove_nothing(self):
        s = Served(self, catalog.make(), extra="location /err500/ { return 500; }")
        mid, _ = new_market(D, "e2e-fragile", s.endpoint)
        before = apps_of(D, mid)
        self.assertEqual(len(before), 8)
        for _ in range(4):
            s.write({"appliances": []})
            st = monitor(D, mid)
            self.assertEqual(counts(st), dict(added=0, updated=0, removed=0, unchanged=0,
                                              skipped=0, missing=0))
            D.ok("one.market.update", mid, tmpl(ENDPOINT=s.endpoint + "err500/"), 1)
            st = monitor(D, mid, expect="FAILED")
            self.assertEqual(xtext(st, "MESSAGE"),
                             "cannot read %serr500/appliance: HTTP 500" % s.endpoint)
            D.ok("one.market.update", mid, tmpl(ENDPOINT=s.endpoint), 1)
            self.assertEqual(body_map(apps_of(D, mid)), body_map(before))
        # The full catalog again: nothing to do, no missing count left over.
        s.write(catalog.make())
        st = monitor(D, mid)
        self.assertEqual(counts(st), dict(added=0, updated=0, removed=0, unchanged=8,
                                          skipped=0, missing=0))
        self.assertEqual(xint(st, "ROWS_WRITTEN"), 0)
        # The server gone.
        s.nginx.stop()
        for _ in range(4):
            st = monitor(D, mid, expect="FAILED")
            self.assertRegex(xtext(st, "MESSAGE"),
                             r"^cannot read %sappliance: Couldn't connect to server"
                             % re.escape(s.endpoint))
            self.assertEqual(xint(st, "ROWS_WRITTEN"), 0)
        self.assertEqual(body_map(apps_of(D, mid)), body_map(before))


def body_map(apps):
    return {k: body(v) for k, v in apps.items()}


class Export(harness.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mkt-e2e-one-export-")
        cls.cat = catalog.make()
        cls.nginx, cls.endpoint = catalog.serve(cls.dir, cls.cat)
        cls.market, st = new_market(D, "e2e-export", cls.endpoint)
        assert xtext(st, "STATE") == "DONE", xtext(st, "MESSAGE")

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def app_id(self, key):
        return xint(apps_of(D, self.market)[catalog.FIXED_IDS[key]], "ID")

    def content(self, key):
        return catalog.content(self.cat, catalog.FIXED_IDS[key])

    def assert_image_holds(self, iid, data, from_app=None):
        im = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=EXPORT_TIMEOUT)
        self.assertEqual(xint(im, "STATE"), IMAGE_READY, xtext(im, "TEMPLATE/ERROR")
                         if im.find("TEMPLATE/ERROR") is not None else "")
        base, _ = ds_files(D, xint(im, "DATASTORE_ID"))
        path = xtext(im, "SOURCE")
        self.assertEqual(os.path.dirname(path), base)
        got = file_bytes(path)
        self.assertEqual(len(got), len(data))
        self.assertTrue(got == data, "image %d holds other bytes than the catalog's" % iid)
        self.assertEqual(xint(im, "SIZE"), math.ceil(len(data) / MB))
        self.assertEqual(xtext(im, "TEMPLATE/MD5"), hashlib.md5(data).hexdigest())
        if from_app is not None:
            self.assertEqual(xint(im, "TEMPLATE/FROM_APP"), from_app)
        return im

    def test_05_image_apps(self):
        app = self.app_id("image")
        iid = D.ok("one.marketapp.export", app, 1, "e2e-x-image")
        self.assert_image_holds(iid, self.content("image"), from_app=app)
        self.assertEqual(xtext(D.info("image", iid), "FORMAT"), "qcow2")
        # The one driver did the download (its export action), not marketd.
        self.assertRegex(D.read_log(), r"\[driver\]\[I\]: one export %d: exporting %s" % (
            app, re.escape("%sappliance/%s/download/0" % (self.endpoint,
                                                           catalog.FIXED_IDS["image"]))))
        # Served gzip-compressed, stored unpacked.
        gz = s_app(self.cat, "gzip")
        iid = D.ok("one.marketapp.export", self.app_id("gzip"), 1, "e2e-x-gzip")
        self.assert_image_holds(iid, gz["_plain"])
        # The file does not match its MD5: ERROR, and no file left behind.
        _, files_before = ds_files(D)
        iid = D.ok("one.marketapp.export", self.app_id("corrupt"), 1, "e2e-x-corrupt")
        im = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=EXPORT_TIMEOUT)
        self.assertEqual(xint(im, "STATE"), IMAGE_ERROR)
        self.assertIn("checksum mismatch", xtext(im, "TEMPLATE/ERROR"))
        self.assertFalse(os.path.exists(xtext(im, "SOURCE")))
        self.assertEqual(ds_files(D)[1], files_before)

    def test_06_vmtemplate_app(self):
        app = self.app_id("vmtemplate")
        tid = D.ok("one.marketapp.export", app, 1, "e2e-x-vm")
        t = D.info("template", tid)
        self.assertEqual(xtext(t, "NAME"), "e2e-x-vm")
        disks = [xint(x, "IMAGE_ID") for x in t.findall("TEMPLATE/DISK")]
        self.assertEqual(len(disks), 2)
        for x in t.findall("TEMPLATE/DISK"):
            self.assertEqual([c.tag for c in x], ["IMAGE_ID"])
        self.assert_image_holds(disks[0], self.content("image"), from_app=self.app_id("image"))
        self.assert_image_holds(disks[1], self.content("arm"), from_app=self.app_id("arm"))
        # The VM template of APPTEMPLATE64, as the catalog gave it.
        self.assertEqual(xtext(t, "TEMPLATE/CPU"), "1")
        self.assertEqual(xtext(t, "TEMPLATE/MEMORY"), "2048")
        self.assertEqual(xtext(t, "TEMPLATE/DISK_COST"), "0.1")
        self.assertEqual(xtext(t, "TEMPLATE/USER_INPUTS/PASSWORD"), "M|password|Admin password")
        self.assertEqual(xint(t, "TEMPLATE/FROM_APP"), app)
        group = xtext(t, "TEMPLATE/EXPORT_GROUP")
        self.assertTrue(group)
        for iid in disks:
            self.assertEqual(xtext(D.info("image", iid), "TEMPLATE/EXPORT_GROUP"), group)
        # Still there once every image ended.
        self.assertTrue(exists(D, "template", tid))

    def test_07_service_template_app(self):
        app = self.app_id("service")
        before = objects(D)
        did = D.ok("one.marketapp.export", app, 1, "e2e-x-svc")
        doc = D.info("document", did)
        self.assertEqual(xint(doc, "TYPE"), 101)
        self.assertEqual(xtext(doc, "NAME"), "e2e-x-svc")
        group = xtext(doc, "TEMPLATE/EXPORT_GROUP")
        self.assertTrue(group)
        svc = json.loads(xtext(doc, "TEMPLATE/BODY"))
        self.assertEqual((svc["name"], svc["deployment"]), ("Kubernetes", "straight"))
        self.assertEqual([(r["name"], r["cardinality"]) for r in svc["roles"]],
                         [("master", 1), ("worker", 2)])
        tids = [r["vm_template"] for r in svc["roles"]]
        self.assertTrue(all(isinstance(t, int) for t in tids), tids)
        self.assertEqual(len(set(tids)), 2)
        images = []
        for tid in tids:
            t = D.info("template", tid)
            self.assertEqual(xtext(t, "TEMPLATE/EXPORT_GROUP"), group)
            self.assertEqual(xint(t, "TEMPLATE/FROM_APP"), self.app_id("vmtemplate"))
            disks = [xint(x, "IMAGE_ID") for x in t.findall("TEMPLATE/DISK")]
            self.assertEqual(len(disks), 2)
            self.assert_image_holds(disks[0], self.content("image"))
            self.assert_image_holds(disks[1], self.content("arm"))
            images += disks
        self.assertEqual(len(set(images)), 4)
        after = objects(D)
        self.assertEqual(sorted(set(after["images"]) - set(before["images"])), sorted(images))
        self.assertEqual(sorted(set(after["templates"]) - set(before["templates"])), sorted(tids))
        self.assertEqual(sorted(set(after["documents"]) - set(before["documents"])), [did])
        self.assertTrue(exists(D, "document", did))


def s_app(cat, key):
    oid = catalog.FIXED_IDS[key]
    return next(a for a in cat["appliances"]
                if isinstance(a, dict) and a.get("_id", {}).get("$oid") == oid)


class CatalogNames(harness.TestCase):
    """Issue 11: catalog names that object names may not hold are imported
    under a valid, readable name (the catalog's kept as CATALOG_NAME), and
    DISK/ROLE references by the catalog's name still resolve."""

    NAMES = {"image": 'Ubuntu "Noble" 24.04', "arm": "Debian: 12/arm64 <edge>",
             "vmtemplate": "WordPress {VM} & co", "service": "K8s 'straight'; two roles"}
    MADE = {"image": "Ubuntu Noble 24.04", "arm": "Debian- 12-arm64 (edge)",
            "vmtemplate": "WordPress (VM) + co", "service": "K8s straight- two roles"}

    @classmethod
    def setUpClass(cls):
        cls.cat = catalog.make()
        for key, name in cls.NAMES.items():
            s_app(cls.cat, key)["name"] = name
        s_app(cls.cat, "vmtemplate")["disks"] = [cls.NAMES["image"], cls.NAMES["arm"]]
        s_app(cls.cat, "service")["roles"] = {"master": cls.NAMES["vmtemplate"],
                                              "worker": cls.NAMES["vmtemplate"]}
        cls.dir = tempfile.mkdtemp(prefix="mkt-e2e-one-names-")
        cls.nginx, endpoint = catalog.serve(cls.dir, cls.cat)
        cls.market, cls.st = new_market(D, "e2e-names", endpoint)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def app(self, key):
        return apps_of(D, self.market)[catalog.FIXED_IDS[key]]

    def test_imported_under_made_names(self):
        self.assertEqual(xtext(self.st, "STATE"), "DONE", xtext(self.st, "MESSAGE"))
        for key, name in self.NAMES.items():
            with self.subTest(key=key):
                a = self.app(key)
                self.assertRegex(xtext(a, "NAME"),
                                 r"^%s( \(e2e-names\))?$" % re.escape(self.MADE[key]))
                self.assertEqual(xtext(a, "TEMPLATE/CATALOG_NAME"), name)
        # A second pass finds every entry unchanged: the made names are stable.
        st = monitor(D, self.market)
        self.assertEqual(counts(st)["updated"], 0)
        self.assertEqual(counts(st)["added"], 0)

    def test_service_exports_whole(self):
        did = D.ok("one.marketapp.export", xint(self.app("service"), "ID"), 1, "e2e-names-svc")
        svc = json.loads(xtext(D.info("document", did), "TEMPLATE/BODY"))
        for role in svc["roles"]:
            t = D.info("template", role["vm_template"])
            disks = [xint(x, "IMAGE_ID") for x in t.findall("TEMPLATE/DISK")]
            self.assertEqual(len(disks), 2)
            for iid, key in zip(disks, ("image", "arm")):
                im = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR),
                                  timeout=EXPORT_TIMEOUT)
                self.assertEqual(xint(im, "STATE"), IMAGE_READY)
                self.assertEqual(xint(im, "TEMPLATE/FROM_APP"), xint(self.app(key), "ID"))


class AllOrNothing(harness.TestCase):
    """Exports whose parts cannot all be made leave nothing behind."""

    @classmethod
    def setUpClass(cls):
        cat = catalog.make()
        cat["appliances"] += [
            # An image whose file the server does not have (404).
            appliance("64f0a00000000000000000b1", "Missing File", "IMAGE", format="raw",
                      files=[{"size": "1000", "md5": hashlib.md5(b"gone").hexdigest()}]),
            appliance("64f0a00000000000000000b2", "Broken VM", "VMTEMPLATE",
                      disks=["Alpine Linux 3.20", "Missing File"],
                      opennebula_template=json.dumps({"CPU": "1", "MEMORY": "64"})),
            appliance("64f0a00000000000000000b3", "Broken service", "SERVICE_TEMPLATE",
                      roles={"good": "WordPress VM", "bad": "Broken VM"},
                      opennebula_template=json.dumps({"name": "b", "roles": [
                          {"name": "good"}, {"name": "bad"}]})),
            # Naming an app the catalog does not have, or one of the wrong type.
            appliance("64f0a00000000000000000b4", "Dangling VM", "VMTEMPLATE",
                      disks=["Alpine Linux 3.20", "No Such Appliance"],
                      opennebula_template=json.dumps({"CPU": "1"})),
            appliance("64f0a00000000000000000b5", "Dangling service", "SERVICE_TEMPLATE",
                      roles={"good": "WordPress VM", "bad": "Dangling VM"},
                      opennebula_template=json.dumps({"name": "d", "roles": [
                          {"name": "good"}, {"name": "bad"}]})),
            appliance("64f0a00000000000000000b6", "Mistyped VM", "VMTEMPLATE",
                      disks=["Alpine Linux 3.20", "WordPress VM"],
                      opennebula_template=json.dumps({"CPU": "1"})),
        ]
        cls.dir = tempfile.mkdtemp(prefix="mkt-e2e-one-aon-")
        cls.cat = cat
        cls.nginx, cls.endpoint = catalog.serve(cls.dir, cat)
        cls.market, st = new_market(D, "e2e-aon", cls.endpoint)
        assert xtext(st, "STATE") == "DONE", xtext(st, "MESSAGE")
        assert xint(st, "APPS_ADDED") == 14, counts(st)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_08a_missing_or_mistyped_reference_creates_nothing(self):
        for name, needle in (("Dangling VM", '"No Such Appliance"'),
                             ("Dangling service", '"No Such Appliance"'),
                             ("Mistyped VM", "where a IMAGE is expected")):
            with self.subTest(app=name):
                before, files = objects(D), ds_files(D)[1]
                log_len = len(D.read_log())
                app = app_named(D, self.market, name)
                r = D.rpc("one.marketapp.export", app, 1, "e2e-aon-" + name.split()[0])
                self.assertFailure(r, "one.marketapp.export", contains=needle)
                self.assertEqual(objects(D), before)
                self.assertEqual(ds_files(D)[1], files)
                # No download was even started.
                self.assertNotIn("one export", D.read_log()[log_len:])

    def wait_undone(self, heads, names_gone, failed_name):
        """Wait until the heads (kind, id) and the images @names_gone are
        gone and @failed_name is in ERROR; returns the failed image."""
        def done():
            if any(exists(D, kind, oid) for kind, oid in heads):
                return None
            ims = images_by_name(D)
            if any(n in ims for n in names_gone):
                return None
            im = ims.get(failed_name)
            if im is None or xint(im, "STATE") != IMAGE_ERROR:
                return None
            return im
        return self.wait_for(done, timeout=EXPORT_TIMEOUT,
                             what="the export undone (%s gone, %s in ERROR)"
                             % (names_gone, failed_name))

    def test_08b_failed_download_undoes_the_vm_template(self):
        before, (_, files) = objects(D), ds_files(D)
        tid = D.ok("one.marketapp.export", app_named(D, self.market, "Broken VM"), 1,
                   "e2e-aon-bvm")
        im = self.wait_undone([("template", tid)], ["e2e-aon-bvm-disk-0"], "e2e-aon-bvm-disk-1")
        self.assertIn("HTTP 404", xtext(im, "TEMPLATE/ERROR"))
        self.assertIn("Missing", xtext(im, "TEMPLATE/FROM_APP_NAME"))
        after = objects(D)
        # Only the failed image stays, to show why.
        self.assertEqual(set(after["images"]) - set(before["images"]), {xint(im, "ID")})
        self.assertEqual(after["templates"], before["templates"])
        self.assertEqual(after["documents"], before["documents"])
        # No file of the group stays in the datastore.
        self.assertEqual(ds_files(D)[1], files)
        self.assertRegex(D.read_log(), r"image %d of export \S+ failed: undoing the export"
                         % xint(im, "ID"))

    def test_08c_failed_download_undoes_the_service(self):
        before, (_, files) = objects(D), ds_files(D)
        did = D.ok("one.marketapp.export", app_named(D, self.market, "Broken service"), 1,
                   "e2e-aon-bsvc")
        im = self.wait_undone([("document", did)],
                              ["e2e-aon-bsvc-good-disk-0", "e2e-aon-bsvc-good-disk-1",
                               "e2e-aon-bsvc-bad-disk-0"], "e2e-aon-bsvc-bad-disk-1")
        self.assertIn("HTTP 404", xtext(im, "TEMPLATE/ERROR"))
        after = objects(D)
        self.assertEqual(set(after["images"]) - set(before["images"]), {xint(im, "ID")})
        self.assertEqual(after["templates"], before["templates"])
        self.assertEqual(after["documents"], before["documents"])
        self.assertEqual(ds_files(D)[1], files)


class Proxy(harness.TestCase):

    def test_09_http_proxy_and_no_proxy(self):
        proxy = CountingProxy()
        self.addCleanup(proxy.stop)
        s = Served(self, catalog.make())
        via = one_daemon(self, name="e2e-proxy", env_extra={"http_proxy": proxy.url(),
                                                            "no_proxy": None})
        direct = one_daemon(self, name="e2e-noproxy", env_extra={"http_proxy": proxy.url(),
                                                                 "no_proxy": "127.0.0.1"})
        settle(via, direct)
        self.assertEqual(proxy.requests, [], "market 0 never uses the http proxy")
        url = s.endpoint + "appliance"
        mid, st = new_market(via, "via-proxy", s.endpoint)
        self.assertEqual(xint(st, "APPS_ADDED"), 8, xtext(st, "MESSAGE"))
        st = monitor(via, mid)
        self.assertEqual(xint(st, "APPS_UNCHANGED"), 8)
        self.assertEqual(proxy.requests, [url, url])
        mid, st = new_market(direct, "direct", s.endpoint)
        self.assertEqual(xint(st, "APPS_ADDED"), 8, xtext(st, "MESSAGE"))
        monitor(direct, mid)
        self.assertEqual(proxy.requests, [url, url], "no_proxy=127.0.0.1 bypasses the proxy")


class Big(harness.TestCase):

    def test_10_ten_thousand_appliances(self):
        n = 10000
        d = one_daemon(self, name="e2e-10k")
        settle(d)
        s = Served(self, catalog.make(n=n, with_fixed=False))
        mid, first = new_market(d, "big", s.endpoint)
        self.assertEqual(xtext(first, "STATE"), "DONE", xtext(first, "MESSAGE"))
        self.assertEqual(counts(first), dict(added=n, updated=0, removed=0, unchanged=0,
                                             skipped=0, missing=0))
        second = monitor(d, mid)
        self.assertEqual(counts(second), dict(added=0, updated=0, removed=0, unchanged=n,
                                              skipped=0, missing=0))
        self.assertEqual(xint(second, "ROWS_WRITTEN"), 0)
        t0 = time.monotonic()
        reply = d.ok("one.marketapppool.info", -2, -1, -1)
        pool_s = time.monotonic() - t0
        pool = xml(reply)
        apps = pool.findall("MARKETPLACEAPP")
        self.assertEqual(len(apps), n)
        self.assertEqual({xint(a, "MARKETPLACE_ID") for a in apps}, {mid})
        self.assertEqual(len({xtext(a, "TEMPLATE/IMPORT_ID") for a in apps}), n)
        sys.stderr.write(
            "\n10k catalog: first pass PASS_MS=%d APPLY_MS=%d ROWS_WRITTEN=%d; "
            "unchanged pass PASS_MS=%d APPLY_MS=%d ROWS_WRITTEN=%d; "
            "marketapppool.info %.0f ms, %.1f MB\n"
            % (xint(first, "PASS_MS"), xint(first, "APPLY_MS"), xint(first, "ROWS_WRITTEN"),
               xint(second, "PASS_MS"), xint(second, "APPLY_MS"), xint(second, "ROWS_WRITTEN"),
               pool_s * 1000, len(reply.encode()) / MB))


class PublicOffline(harness.TestCase):

    def test_11_market_zero_fails_quietly(self):
        st = status(D, 0)
        self.assertEqual(xtext(st, "STATE"), "FAILED")
        for _ in range(2):
            st = monitor(D, 0, expect="FAILED")
        self.assertRegex(xtext(st, "MESSAGE"),
                         r"^cannot read https://marketplace\.opennebula\.io/appliance: ")
        self.assertEqual(D.info("market", 0).findall("MARKETPLACEAPPS/ID"), [])
        self.assertEqual(apps_of(D, 0), {})
        n = passes(st)
        self.assertGreaterEqual(n, 3)
        log = D.read_log()
        self.assertEqual(len(re.findall(r"\[monitor\]\[W\]: market 0: monitor failed: ", log)), n)
        # Quiet: that is the only warning or error a failed pass of market 0 logs.
        noisy = [line for line in log.splitlines()
                 if re.search(r"\]\[[WE]\]: ", line) and
                 re.search(r"(one monitor (for )?0[: ]|market 0: )", line)]
        self.assertEqual(len(noisy), n, "\n".join(noisy))


if __name__ == "__main__":
    harness.main()
