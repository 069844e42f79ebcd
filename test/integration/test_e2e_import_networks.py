#!/usr/bin/env python3
"""End to end: which networks a user's URL may be fetched from, and
passwords in URLs.

A user outside the oneadmin group must not make marketd (or a driver)
fetch a loopback-only service, the cloud metadata service or the host
itself and publish it (marketd.conf IMPORT_ALLOWED_NETWORKS,
IMPORT_DENIED_NETWORKS); the oneadmin group may.  The daemon runs the
built http driver against a private nginx that listens on 127.0.0.1 (denied
by default) and on 127.0.0.2 (allowed by this daemon's configuration), and
on 127.0.0.2 redirects /redirect to 127.0.0.1.  A URL's user:password never
shows in marketd.log, in an object's ERROR, or on a driver's command line
(the probe driver records its argv).

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_import_networks.py
"""

import sys
sys.dont_write_bytecode = True

import base64
import json
import os
import shutil
import tempfile

import harness
from harness import APP_ERROR, APP_READY, tmpl, xtext

IMAGE_READY, IMAGE_ERROR = 1, 5
SECRET = "secretpw"

DRIVERS = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
PROBE = os.path.join(harness.Daemon.FAKE_DRIVERS, "probe")
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "ALL_PROXY", "all_proxy")
EXTRA_CONF = (
    'MARKET_MAD_CONF = [ NAME = "probe", REQUIRED_ATTRS = "", '
    'APP_ACTIONS = "create, delete, monitor" ]\n'
    # The default denied list, with one loopback address let through.
    'IMPORT_ALLOWED_NETWORKS = "127.0.0.2"\n')

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import nginx  # noqa: E402
from nginx import Nginx  # noqa: E402


class TwoAddressNginx(Nginx):
    """The tests' nginx, listening on 127.0.0.2 too (same port)."""

    def config(self):
        text = super().config()
        listen = "listen 127.0.0.1:%d;" % self.port
        if listen not in text:
            raise harness.HarnessError("test/nginx.py changed: no %r in its configuration"
                                       % listen)
        return text.replace(listen, listen + "\n        listen 127.0.0.2:%d;" % self.port)


class NetDaemon(harness.Daemon):
    """The http driver (built) and the probe driver side by side, without
    proxy variables (the fetches must reach 127.0.0.x directly)."""

    def __init__(self, driver_dir, extra_conf=EXTRA_CONF, name="netpolicy"):
        super().__init__(driver_dir=driver_dir, extra_conf=extra_conf, name=name)

    def env(self):
        env = super().env()
        for k in PROXY_VARS:
            env.pop(k, None)
        return env


D = WEB = TMP = None


def setUpModule():
    global D, WEB, TMP, SRC, MARKET, PROBE_MARKET, PROBE_DIR, USER, DEPUTY
    TMP = tempfile.mkdtemp(prefix="mkt-it-netpolicy-")
    try:
        if not os.access(os.path.join(DRIVERS, "http", "import"), os.X_OK):
            raise harness.HarnessError("%s/http/import is missing: build first (make)" % DRIVERS)
        drivers = os.path.join(TMP, "drivers")
        os.makedirs(drivers)
        os.symlink(os.path.join(DRIVERS, "http"), os.path.join(drivers, "http"))
        os.symlink(PROBE, os.path.join(drivers, "probe"))
        SRC = os.path.join(TMP, "src")
        PROBE_DIR = os.path.join(TMP, "probe")
        os.makedirs(SRC)
        os.makedirs(PROBE_DIR)
        with open(os.path.join(SRC, "file.bin"), "wb") as f:
            f.write(os.urandom(64 * 1024))
        D = NetDaemon(drivers)
        D.start()
        WEB = TwoAddressNginx(
            os.path.join(TMP, "nginx"), D.public_dir, [("/src/", SRC, None)],
            extra="location = /redirect { return 302 http://127.0.0.1:$server_port/src/file.bin; }"
        ).start()
        MARKET = D.ok("one.market.allocate",
                      tmpl(NAME="web", MARKET_MAD="http", BASE_URL=WEB.url(),
                           PUBLIC_DIR=D.public_dir))
        PROBE_MARKET = D.market("probe", mad="probe", PROBE_DIR=PROBE_DIR)
        for market in (MARKET, PROBE_MARKET):
            D.ok("one.market.chmod", market, 1, 1, 0, 1, 0, 0, 1, 0, 0)
        USER = D.user("plain")[1]
        DEPUTY = D.user("deputy", groups=[0])[1]
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        harness.stop_module_daemon(D)
    finally:
        if WEB is not None:
            WEB.stop()
        nginx.stop_all()
        if TMP and not os.environ.get("MKT_TEST_KEEP"):
            shutil.rmtree(TMP, ignore_errors=True)


_n = iter(range(1, 1 << 30))


def name(prefix):
    return "%s-%d" % (prefix, next(_n))


def url(host, path="src/file.bin", userinfo=""):
    return "http://%s%s:%d/%s" % (userinfo, host, WEB.port, path)


def app_from(source, session=None, market=None):
    aid = D.ok("one.marketapp.allocate", tmpl(NAME=name("app"), IMPORT_SOURCE=source),
               market or MARKET, session=session)
    return aid, D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)


def image_from(path, session=None):
    iid = D.ok("one.image.allocate", tmpl(NAME=name("img"), PATH=path), 1, session=session)
    return iid, D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=60)


def error(x):
    return x.findtext("TEMPLATE/ERROR") or ""


def refusal(what, source, addr="127.0.0.1"):
    return ("%s %s: address %s is not allowed for imports (IMPORT_DENIED_NETWORKS)"
            % (what, source, addr))


class Refused(harness.TestCase):
    """A plain user's URL on a denied address: refused, nothing left."""

    def assertNothingStored(self, aid):
        left = [n for n in os.listdir(D.public_dir) if n.startswith("%d-" % aid)]
        self.assertEqual(left, [], "files left in PUBLIC_DIR")

    def assertAppRefused(self, source, shown=None):
        aid, x = app_from(source, session=USER)
        self.assertEqual(int(x.findtext("STATE")), APP_ERROR, error(x))
        self.assertIn(refusal("IMPORT_SOURCE", shown or source), error(x))
        self.assertEqual(xtext(x, "SOURCE"), "")
        self.assertNothingStored(aid)
        return aid

    def test_app_from_loopback(self):
        self.assertAppRefused(url("127.0.0.1"))

    def test_app_by_name_every_address_refused(self):
        # localhost resolves to 127.0.0.1 (and maybe ::1): none may be used.
        aid, x = app_from(url("localhost"), session=USER)
        self.assertEqual(int(x.findtext("STATE")), APP_ERROR, error(x))
        self.assertIn("is not allowed for imports (IMPORT_DENIED_NETWORKS)", error(x))
        self.assertNothingStored(aid)

    def test_app_redirected_to_loopback(self):
        # 127.0.0.2 is allowed; its answer sends the driver to 127.0.0.1.
        self.assertAppRefused(url("127.0.0.2", "redirect"))
        with open(os.path.join(WEB.workdir, "access.log")) as f:
            self.assertIn('"GET /redirect HTTP/1.1" 302', f.read())

    def test_image_from_loopback(self):
        source = url("127.0.0.1")
        iid, x = image_from(source, session=USER)
        self.assertEqual(int(x.findtext("STATE")), IMAGE_ERROR, error(x))
        self.assertIn(refusal("PATH", source), error(x))
        target = xtext(x, "SOURCE")
        self.assertFalse(os.path.exists(target), target)
        self.assertEqual([n for n in os.listdir(os.path.dirname(target))
                          if n.startswith(os.path.basename(target))], [])

    def test_image_redirected_to_loopback(self):
        iid, x = image_from(url("127.0.0.2", "redirect"), session=USER)
        self.assertEqual(int(x.findtext("STATE")), IMAGE_ERROR, error(x))
        self.assertIn(refusal("PATH", url("127.0.0.2", "redirect")), error(x))


class Allowed(harness.TestCase):
    """The oneadmin group is not restricted; an allowed address is not
    refused to anyone."""

    def assertReady(self, x, state=APP_READY):
        self.assertEqual(int(x.findtext("STATE")), state, error(x))

    def test_oneadmin_app_from_loopback(self):
        self.assertReady(app_from(url("127.0.0.1"))[1])

    def test_oneadmin_follows_redirect_to_loopback(self):
        self.assertReady(app_from(url("127.0.0.2", "redirect"))[1])

    def test_oneadmin_image_from_loopback(self):
        self.assertReady(image_from(url("127.0.0.1"))[1], IMAGE_READY)

    def test_member_of_group_oneadmin(self):
        self.assertReady(app_from(url("127.0.0.1"), session=DEPUTY)[1])

    def test_plain_user_from_allowed_address(self):
        self.assertReady(app_from(url("127.0.0.2"), session=USER)[1])
        self.assertReady(image_from(url("127.0.0.2"), session=USER)[1], IMAGE_READY)


class Config(harness.TestCase):
    """IMPORT_RESTRICT_ADMIN, and a list that does not parse."""

    def daemon(self, conf):
        d = NetDaemon(os.path.join(TMP, "drivers"), extra_conf=conf, name="netpolicy-conf")
        self.addCleanup(d.cleanup)
        return d

    def test_restrict_admin(self):
        d = self.daemon('IMPORT_RESTRICT_ADMIN = "yes"\n').start()
        public = os.path.join(d.dir, "public")
        market = d.ok("one.market.allocate", tmpl(NAME="web", MARKET_MAD="http",
                                                  BASE_URL=WEB.url(), PUBLIC_DIR=public))
        aid = d.ok("one.marketapp.allocate",
                   tmpl(NAME="admin-app", IMPORT_SOURCE=url("127.0.0.1")), market)
        x = d.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
        self.assertIn(refusal("IMPORT_SOURCE", url("127.0.0.1")), error(x))
        d.stop()

    def test_bad_entry_stops_marketd(self):
        d = self.daemon('IMPORT_DENIED_NETWORKS = "127.0.0.0/8, localhost"\n')
        with self.assertRaises(harness.HarnessError):
            d.start()
        self.assertIn("IMPORT_DENIED_NETWORKS: 'localhost' is not an IP address",
                      d.log_tail(50))


class Passwords(harness.TestCase):
    """user:password in a URL is never shown."""

    def assertNoSecret(self, text, where):
        self.assertNotIn(SECRET, text, "the password shows in %s" % where)

    def test_app_error_and_log(self):
        source = url("127.0.0.1", "src/missing.bin", "user:%s@" % SECRET)
        aid, x = app_from(source)
        self.assertEqual(int(x.findtext("STATE")), APP_ERROR)
        self.assertIn("HTTP 404", error(x))
        self.assertIn("user:****@127.0.0.1", error(x))
        self.assertNoSecret(error(x), "the app's ERROR")
        self.assertNoSecret(D.read_log(), "marketd.log")

    def test_refusal_masks_too(self):
        source = url("127.0.0.1", userinfo="user:%s@" % SECRET)
        aid, x = app_from(source, session=USER)
        self.assertIn(refusal("IMPORT_SOURCE", url("127.0.0.1", userinfo="user:****@")),
                      error(x))
        self.assertNoSecret(D.read_log(), "marketd.log")

    def test_image_error_and_log(self):
        source = url("127.0.0.1", "src/missing.bin", "user:%s@" % SECRET)
        iid, x = image_from(source)
        self.assertEqual(int(x.findtext("STATE")), IMAGE_ERROR)
        self.assertIn("cannot copy http://user:****@127.0.0.1", error(x))
        self.assertNoSecret(error(x), "the image's ERROR")
        self.assertNoSecret(D.read_log(), "marketd.log")

    def test_driver_argv(self):
        source = url("127.0.0.1", "src/file.bin", "user:%s@" % SECRET)
        aid, x = app_from(source, market=PROBE_MARKET)
        with open(os.path.join(PROBE_DIR, "import-%d.json" % aid)) as f:
            seen = json.load(f)
        self.assertEqual(seen["argv"][1], "-", "the document went on the command line")
        for arg in seen["argv"]:
            self.assertNoSecret(arg, "the driver's argv")
        self.assertIn(SECRET, seen["stdin"])     # it still gets the URL

    def test_document_without_userinfo_stays_in_argv(self):
        aid, x = app_from(url("127.0.0.1"), market=PROBE_MARKET)
        with open(os.path.join(PROBE_DIR, "import-%d.json" % aid)) as f:
            seen = json.load(f)
        self.assertIn(b"<IMPORT_SOURCE>", base64.b64decode(seen["argv"][1]))


if __name__ == "__main__":
    harness.main()
