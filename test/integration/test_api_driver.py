#!/usr/bin/env python3
"""How marketd copes with market drivers, good and misbehaving.

The drivers are fakes (test/integration/drivers): the "http" fake, whose
behaviour is the FAKE_IMPORT attribute of its market, and the "probe" fake,
which records what it was given (argv, stdin, environment) in the directory
named by its market's PROBE_DIR and can hang ignoring SIGTERM (PROBE_MODE).
A "ghost" driver is configured (MARKET_MAD_CONF) but has no directory.

One daemon for the module, started with proxy variables and a canary in its
environment; the tests that need another configuration (a 2 s import
timeout) or a restart start daemons of their own.
"""

import sys
sys.dont_write_bytecode = True

import base64
import json
import os
import re
import shutil
import signal
import tempfile
import time
import xml.etree.ElementTree as ET

import harness
from harness import (ACTION, APP_ERROR, APP_LOCKED, APP_READY, INTERNAL, NO_EXISTS, tmpl, xint,
                     xml, xtext)

FAKES = harness.Daemon.FAKE_DRIVERS
HTTP_IMPORT = os.path.join(FAKES, "http", "import")
PROBE_IMPORT = os.path.join(FAKES, "probe", "import")

EXTRA_CONF = (
    'MARKET_MAD_CONF = [ NAME = "probe", REQUIRED_ATTRS = "", '
    'APP_ACTIONS = "create, delete, monitor" ]\n'
    'MARKET_MAD_CONF = [ NAME = "ghost", REQUIRED_ATTRS = "", '
    'APP_ACTIONS = "create, delete, monitor" ]\n')
HARNESS_MAD_LINE = 'MARKET_MAD = [ WORKERS = "16", TIMEOUT = "60" ]\n'

# What the module daemon has in its environment besides the usual.
PROXY_ENV = {
    "http_proxy": "http://proxy.invalid:3128",
    "HTTPS_PROXY": "http://proxy.invalid:3129",
    "no_proxy": "localhost,127.0.0.1",
}
CANARY = "MKT_TEST_CANARY_SECRET"
# Every variable a driver may get (src/driver/driver.c build_env).
DRIVER_ENV = {"PATH", "LANG", "HOME", "TMPDIR", "MARKETD_ACTION", "MARKETD_VERSION", "MARKETD_PID",
              "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "ALL_PROXY", "all_proxy", "TZ"}


class DriverDaemon(harness.Daemon):
    """A harness daemon with its MARKET_MAD vector replaced (the first
    MARKET_MAD of the configuration wins, so extra_conf cannot override
    it) and extra variables in its environment."""

    def __init__(self, mad=None, env_extra=None, **kw):
        kw.setdefault("extra_conf", EXTRA_CONF)
        super().__init__(**kw)
        self.mad = mad
        self.env_extra = dict(env_extra or {})

    def _prepare(self):
        super()._prepare()
        if self.mad is None:
            return
        with open(self.conf_path) as f:
            conf = f.read()
        if HARNESS_MAD_LINE not in conf:
            raise harness.HarnessError("harness configuration changed: no %r in %s"
                                       % (HARNESS_MAD_LINE, self.conf_path))
        with open(self.conf_path, "w") as f:
            f.write(conf.replace(HARNESS_MAD_LINE, "MARKET_MAD = [ %s ]\n" % ", ".join(
                "%s = %s" % (k, harness.q(v)) for k, v in self.mad.items())))

    def env(self):
        env = super().env()
        env.update(self.env_extra)
        return env


def driver_daemon(testcase, **kw):
    d = DriverDaemon(**kw)
    testcase.addCleanup(d.cleanup)
    return d.start()


# -- processes -------------------------------------------------------------------

def processes():
    """[(pid, ppid, pgrp, state, argv)] of every process visible in /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out.append((int(entry), int(fields[1]), int(fields[2]), fields[0], argv))
    return out


def live(pred):
    """Running (not zombie) processes for which pred(pid, ppid, pgrp, argv)."""
    return [(pid, argv) for pid, ppid, pgrp, state, argv in processes()
            if state != "Z" and pred(pid, ppid, pgrp, argv)]


def driver_runs(daemon, path, app_id=None):
    """pids of the daemon's children running @path (for @app_id: argv[-1])."""
    return [pid for pid, argv in live(
        lambda pid, ppid, pgrp, argv: ppid == daemon.pid and any(path in a for a in argv)
        and (app_id is None or (argv and argv[-1] == str(app_id))))]


def group_members(pgid):
    return live(lambda pid, ppid, pgrp, argv: pgrp == pgid)


def mentioning(path):
    return live(lambda pid, ppid, pgrp, argv: any(path in a for a in argv))


# -- the module daemon ------------------------------------------------------------

D = None
IMG = None          # a READY image: the ORIGIN_ID of the IMAGE apps
PROBE_DIR = None    # where the probe driver writes its records


def setUpModule():
    global D, IMG, PROBE_DIR
    env = dict(PROXY_ENV)
    env[CANARY] = "do-not-pass-me"
    D = DriverDaemon(name="driver", env_extra=env)
    D.start()
    IMG = D.image("origin", size=64 * 1024)
    PROBE_DIR = tempfile.mkdtemp(prefix="mkt-it-probe-")


def tearDownModule():
    try:
        harness.stop_module_daemon(D)
    finally:
        if PROBE_DIR:
            shutil.rmtree(PROBE_DIR, ignore_errors=True)


_markets = {}


def fake_market(mode):
    """The fake http market answering FAKE_IMPORT=@mode (None: the fake's
    default, an upload that sleeps an hour)."""
    if mode not in _markets:
        name = "fake-" + re.sub(r"\W", "_", mode or "default")
        _markets[mode] = D.market(name, **({"FAKE_IMPORT": mode} if mode else {}))
    return _markets[mode]


_names = iter(range(1, 1 << 30))


def image_app(market, prefix="app", daemon=None, **attrs):
    """Allocate an IMAGE app of IMG; returns its id."""
    d = daemon or D
    attrs.setdefault("ORIGIN_ID", str(IMG))
    return d.ok("one.marketapp.allocate",
                tmpl(NAME="%s-%d" % (prefix, next(_names)), **attrs), market)


def app_error(app_xml):
    return app_xml.findtext("TEMPLATE/ERROR") or ""


def gone(d, aid):
    r = d.rpc("one.marketapp.info", aid)
    return r[0] is False and r[2] == NO_EXISTS


def progress(d, aid):
    p = d.info("marketapp", aid).find("PROGRESS")
    if p is None:
        return None
    return int(p.findtext("DONE")), int(p.findtext("TOTAL"))


class Results(harness.TestCase):
    """What each kind of driver answer makes of the app."""

    def finished(self, mode):
        aid = image_app(fake_market(mode))
        return aid, D.wait_state("marketapp", aid, (APP_READY, APP_ERROR))

    def test_ok(self):
        aid, a = self.finished("ok")
        self.assertEqual(xint(a, "STATE"), APP_READY, app_error(a))
        # The fake names SOURCE after an id it greps from the document.
        self.assertRegex(xtext(a, "SOURCE"), r"^http://fake\.invalid/app-\d+$")
        self.assertEqual(xtext(a, "MD5"), "d41d8cd98f00b204e9800998ecf8427e")
        self.assertEqual(xint(a, "SIZE"), 1)
        self.assertEqual(xtext(a, "FORMAT"), "raw")
        self.assertIsNone(a.find("TEMPLATE/ERROR"))
        self.assertIsNone(a.find("PROGRESS"), "no PROGRESS once the upload is over")

    def test_fail(self):
        aid, a = self.finished("fail")
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn("the fake store refused the upload", app_error(a))
        self.assertEqual(xtext(a, "SOURCE"), "")
        self.assertIsNone(a.find("PROGRESS"))

    def test_garbage(self):
        aid, a = self.finished("garbage")
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn("neither template text nor XML", app_error(a))

    def test_garbage_message_is_well_formed(self):
        # The message should say it once, followed by the parser's reason.
        aid, a = self.finished("garbage")
        msg = app_error(a)
        self.assertEqual(msg.count("neither template text nor XML"), 1, msg)
        self.assertRegex(msg, r"on stdout: \S", "the parser's reason is missing: %r" % msg)

    def test_crash(self):
        aid, a = self.finished("crash")
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn("killed by signal", app_error(a))
        self.assertIn("%d" % signal.SIGSEGV, app_error(a))

    def test_partial(self):
        aid, a = self.finished("partial")
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn("Missing app attributes", app_error(a))
        self.assertIn("MD5", app_error(a))
        self.assertEqual(xtext(a, "SOURCE"), "", "a rejected answer is not recorded")

    def test_driver_log_lines_tagged_with_app_id(self):
        aid, a = self.finished("fail")
        log = D.read_log()
        self.assertRegex(log, r"\[driver\]\[I\]: http import %d: fake import of app " % aid)
        self.assertRegex(log, r"\[driver\]\[E\]: http import %d: the fake store refused "
                              r"the upload" % aid)

    def test_progress_while_running(self):
        aid = image_app(fake_market(None))
        self.addCleanup(D.rpc, "one.marketapp.delete", aid)
        self.wait_for(lambda: progress(D, aid) == (10, 100),
                      what="PROGRESS 10/100 in the info of app %d" % aid)
        a = D.info("marketapp", aid)
        self.assertEqual(xint(a, "STATE"), APP_LOCKED)
        self.assertEqual(a[-1].tag, "PROGRESS", "PROGRESS is the last element")
        pool = xml(D.ok("one.marketapppool.info", -2, aid, aid))
        self.assertEqual(len(pool.findall("MARKETPLACEAPP")), 1)

    def test_concurrent_uploads(self):
        market = fake_market("sleep 1")
        start = time.monotonic()
        ids = [image_app(market, prefix="pool") for _ in range(20)]
        for aid in ids:
            a = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
            self.assertEqual(xint(a, "STATE"), APP_READY, "app %d: %s" % (aid, app_error(a)))
        elapsed = time.monotonic() - start
        # 16 workers: two rounds of one second, not twenty.
        self.assertLess(elapsed, 12 * harness.SLOW, "20 uploads of 1 s took %.1f s" % elapsed)


class Delete(harness.TestCase):

    def test_delete_during_upload(self):
        aid = image_app(fake_market(None))
        self.wait_for(lambda: progress(D, aid) is not None and driver_runs(D, HTTP_IMPORT, aid),
                      what="the driver of app %d to run" % aid)
        pids = driver_runs(D, HTTP_IMPORT, aid)
        self.assertEqual(len(pids), 1, pids)
        # The fake's sleep runs in the driver's process group.
        self.wait_for(lambda: len(group_members(pids[0])) >= 2,
                      what="the fake driver's sleep")
        self.assertEqual(D.ok("one.marketapp.delete", aid), aid)
        self.wait_for(lambda: gone(D, aid), what="app %d to disappear" % aid)
        self.wait_for(lambda: not group_members(pids[0]), timeout=10,
                      what="the driver's processes to end: %r" % group_members(pids[0]))
        self.assertNotIn(aid, [xint(e, "ID") for e in
                               xml(D.ok("one.marketapppool.info", -2, -1, -1))])
        self.assertTrue(D.alive())

    def test_delete_ready_app_runs_driver_delete(self):
        market = D.ok("one.market.allocate",
                      tmpl(NAME="probe-del", MARKET_MAD="probe", PROBE_DIR=PROBE_DIR))
        aid = image_app(market)
        a = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR))
        self.assertEqual(xint(a, "STATE"), APP_READY, app_error(a))
        D.ok("one.marketapp.delete", aid)
        self.wait_for(lambda: gone(D, aid), what="app %d to disappear" % aid)
        rec = read_record("delete", aid)
        doc = ET.fromstring(rec["stdin"])
        self.assertEqual(doc.findtext("ACTION"), "delete")
        self.assertEqual(doc.findtext("MARKETPLACEAPP/SOURCE"), "probe://app-%d" % aid)
        self.assertIn("MARKETD_ACTION=delete", rec["environ"])


    def test_delete_refused_when_the_driver_cannot_delete(self):
        # A READY app with stored content, then its market moves to a driver
        # without a delete action: the content could not be removed, so the
        # app stays (oned's "Delete disabled for market").
        market = D.ok("one.market.allocate",
                      tmpl(NAME="nodelete", MARKET_MAD="http", BASE_URL="http://127.0.0.1/x",
                           PUBLIC_DIR=D.public_dir, FAKE_IMPORT="ok"))
        aid = image_app(market)
        self.assertEqual(xint(D.wait_state("marketapp", aid, (APP_READY, APP_ERROR)), "STATE"),
                         APP_READY)
        D.ok("one.market.update", market, tmpl(MARKET_MAD="one"), 1)
        r = D.rpc("one.marketapp.delete", aid)
        self.assertFailure(r, "one.marketapp.delete", ACTION,
                           contains="Delete disabled for market: nodelete")
        self.assertEqual(xint(D.info("marketapp", aid), "STATE"), APP_READY)


def read_record(action, aid, timeout=10):
    path = os.path.join(PROBE_DIR, "%s-%d.json" % (action, aid))
    deadline = time.monotonic() + timeout * harness.SLOW
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("the probe driver wrote no %s" % path)
        time.sleep(0.05)
    with open(path) as f:
        return json.load(f)


class ActionDocument(harness.TestCase):
    """What a driver receives, as recorded by the probe driver."""

    @classmethod
    def setUpClass(cls):
        cls.market = D.ok("one.market.allocate",
                          tmpl(NAME="probe-doc", MARKET_MAD="probe", PROBE_DIR=PROBE_DIR))
        cls.app = image_app(cls.market, prefix="doc")
        a = D.wait_state("marketapp", cls.app, (APP_READY, APP_ERROR))
        if xint(a, "STATE") != APP_READY:
            raise AssertionError("probe app %d: %s" % (cls.app, app_error(a)))
        cls.rec = read_record("import", cls.app)
        cls.doc = ET.fromstring(cls.rec["stdin"])

    def test_probe_result_recorded(self):
        a = D.info("marketapp", self.app)
        self.assertEqual(xtext(a, "SOURCE"), "probe://app-%d" % self.app)
        self.assertEqual(xtext(a, "MD5"), "0123456789abcdef0123456789abcdef")
        self.assertEqual(xint(a, "SIZE"), 7)
        self.assertEqual(xtext(a, "FORMAT"), "qcow2")

    def test_document_shape(self):
        doc = self.doc
        self.assertEqual(doc.tag, "MARKET_DRIVER_ACTION_DATA")
        tags = [c.tag for c in doc]
        for tag in ("ACTION", "MARKETPLACEAPP", "MARKETPLACE", "IMAGE", "DATASTORE",
                    "IMPORT_SOURCE"):
            self.assertEqual(tags.count(tag), 1, "%s in %s" % (tag, tags))
        self.assertEqual(doc.findtext("ACTION"), "import")

    def test_app_and_market(self):
        doc = self.doc
        self.assertEqual(int(doc.findtext("MARKETPLACEAPP/ID")), self.app)
        self.assertEqual(int(doc.findtext("MARKETPLACEAPP/STATE")), APP_LOCKED)
        self.assertEqual(int(doc.findtext("MARKETPLACEAPP/ORIGIN_ID")), IMG)
        self.assertEqual(int(doc.findtext("MARKETPLACE/ID")), self.market)
        self.assertEqual(doc.findtext("MARKETPLACE/MARKET_MAD"), "probe")
        self.assertEqual(doc.findtext("MARKETPLACE/TEMPLATE/PROBE_DIR"), PROBE_DIR)
        apps = doc.find("MARKETPLACE/MARKETPLACEAPPS")
        self.assertIsNotNone(apps)
        self.assertEqual(list(apps), [], "the market's app list is left out")
        # ... although the market does have apps.
        listed = D.info("market", self.market).find("MARKETPLACEAPPS").findall("ID")
        self.assertIn(self.app, [int(e.text) for e in listed])

    def test_image_and_datastore(self):
        doc = self.doc
        img = D.info("image", IMG)
        self.assertEqual(int(doc.findtext("IMAGE/ID")), IMG)
        self.assertEqual(doc.findtext("IMAGE/SOURCE"), xtext(img, "SOURCE"))
        self.assertEqual(int(doc.findtext("DATASTORE/ID")), xint(img, "DATASTORE_ID"))
        self.assertEqual(doc.findtext("IMPORT_SOURCE"), xtext(img, "SOURCE"))
        self.assertTrue(os.path.isfile(doc.findtext("IMPORT_SOURCE")))

    def test_secret_never_in_argv(self):
        """A market with a secret (SECRET_ACCESS_KEY): the document goes on
        stdin only, since every user of the host can read argv."""
        secret = "s3cr3t-" + os.urandom(6).hex()
        market = D.ok("one.market.allocate",
                      tmpl(NAME="probe-secret", MARKET_MAD="probe", PROBE_DIR=PROBE_DIR,
                           SECRET_ACCESS_KEY=secret))
        app = image_app(market, prefix="secret")
        D.wait_state("marketapp", app, (APP_READY, APP_ERROR))
        rec = read_record("import", app)
        self.assertIn(secret, rec["stdin"], "the driver still gets it")
        self.assertEqual(rec["argv"][1:], ["-", str(app)])
        self.assertNotIn(secret, " ".join(rec["argv"]))

    def test_argv(self):
        argv = self.rec["argv"]
        self.assertEqual(len(argv), 3, argv)
        self.assertEqual(argv[0], PROBE_IMPORT)
        self.assertEqual(base64.b64decode(argv[1], validate=True).decode(), self.rec["stdin"],
                         "argv[1] is the base64 of the document on stdin")
        self.assertEqual(argv[2], str(self.app))

    def test_environment(self):
        env = dict(e.split("=", 1) for e in self.rec["environ"])
        self.assertEqual(env.get("MARKETD_ACTION"), "import")
        self.assertTrue(env.get("MARKETD_VERSION"))
        self.assertEqual(env.get("MARKETD_PID"), str(D.pid))
        unexpected = sorted(set(env) - DRIVER_ENV)
        self.assertEqual(unexpected, [], "variables a driver should not get")
        self.assertNotIn("ONE_AUTH", env)
        self.assertNotIn(CANARY, env)
        for k, v in PROXY_ENV.items():
            self.assertEqual(env.get(k), v, "the daemon's %s" % k)
        self.assertEqual(env.get("TMPDIR"), self.rec["cwd"], "runs in its scratch directory")
        self.assertTrue(os.path.isdir(env["TMPDIR"]))
        self.assertEqual(self.rec["pgid"], self.rec["pid"], "a process group of its own")

    def test_import_source_app(self):
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME="doc-src-%d" % next(_names), IMPORT_SOURCE="http://127.0.0.1:9/x.img"),
                   self.market)
        D.wait_state("marketapp", aid, (APP_READY, APP_ERROR))
        doc = ET.fromstring(read_record("import", aid)["stdin"])
        self.assertEqual(doc.findtext("IMPORT_SOURCE"), "http://127.0.0.1:9/x.img")
        self.assertIsNone(doc.find("IMAGE"), "no IMAGE without ORIGIN_ID")


class MissingDriver(harness.TestCase):
    """A configured driver (MARKET_MAD_CONF "ghost") without a directory."""

    @classmethod
    def setUpClass(cls):
        cls.market = D.ok("one.market.allocate", tmpl(NAME="ghost-market", MARKET_MAD="ghost"))

    def allocate(self):
        name = "ghost-%d" % next(_names)
        r = D.rpc("one.marketapp.allocate", tmpl(NAME=name, ORIGIN_ID=str(IMG)), self.market)
        pool = xml(D.ok("one.marketapppool.info", -2, -1, -1))
        apps = [e for e in pool.findall("MARKETPLACEAPP") if e.findtext("NAME") == name]
        return r, apps

    def test_allocate_fails_and_app_is_error(self):
        r, apps = self.allocate()
        self.assertFailure(r, "one.marketapp.allocate", INTERNAL)
        self.assertEqual(len(apps), 1, "the app stays, in ERROR")
        a = apps[0]
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn(os.path.join(FAKES, "ghost", "import"), app_error(a))
        self.assertIsNone(a.find("PROGRESS"))

    def test_reply_names_the_missing_executable(self):
        r, apps = self.allocate()
        self.assertFailure(r, "one.marketapp.allocate", INTERNAL,
                           contains=os.path.join(FAKES, "ghost", "import"))


class Timeout(harness.TestCase):

    def test_hanging_driver_is_killed(self):
        d = driver_daemon(self, name="timeout",
                          mad={"WORKERS": "4", "TIMEOUT": "60", "IMPORT_TIMEOUT": "2"})
        img = d.image("origin")
        market = d.ok("one.market.allocate",
                      tmpl(NAME="hang", MARKET_MAD="probe", PROBE_MODE="hang"))
        start = time.monotonic()
        aid = image_app(market, daemon=d, ORIGIN_ID=str(img))
        # /proc/PID/cmdline reads empty while the driver execs (env, then
        # python3), so keep the pid that was seen rather than looking again.
        pgid = self.wait_for(
            lambda: [p for p in driver_runs(d, PROBE_IMPORT, aid)
                     if len(group_members(p)) >= 2],
            what="the probe driver and its child")[0]
        a = d.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
        elapsed = time.monotonic() - start
        self.assertEqual(xint(a, "STATE"), APP_ERROR)
        self.assertIn("timed out after 2 s", app_error(a))
        self.assertGreaterEqual(elapsed, 1.9)
        self.wait_for(lambda: not group_members(pgid), timeout=5,
                      what="the process group of the driver to end: %r" % group_members(pgid))
        self.assertEqual(mentioning(PROBE_IMPORT), [], "processes of the probe driver left")
        self.assertTrue(d.alive())
        self.assertRegex(d.read_log(), r"probe import for %d failed: .*timed out" % aid)


class Restart(harness.TestCase):

    def test_sigterm_during_upload(self):
        d = driver_daemon(self, name="restart")
        img = d.image("origin")
        market = d.market("sleeper")
        aid = image_app(market, daemon=d, ORIGIN_ID=str(img))
        pgid = self.wait_for(lambda: progress(d, aid) and driver_runs(d, HTTP_IMPORT, aid),
                             what="the upload of app %d to run" % aid)[0]
        d.stop()                      # SIGTERM; exit status 0 required
        self.wait_for(lambda: not group_members(pgid), timeout=5,
                      what="the driver to end with the daemon")
        d.start()
        a = d.info("marketapp", aid)
        self.assertEqual(xint(a, "STATE"), APP_ERROR, "an upload cut by a restart")
        self.assertIsNone(a.find("PROGRESS"))
        self.assertIn("interrupted", app_error(a))


if __name__ == "__main__":
    harness.main()
