#!/usr/bin/env python3
"""End to end: one user's slow sources do not stall everyone's transfers.

marketd with the real drivers, a small worker pool and small TRANSFER
limits, against a Python web server on 127.0.0.1 that sends its bodies at
the rate a test asks for.  Checked here:
  - a source under MIN_RATE for MIN_RATE_WINDOW fails the copy with the
    rate in TEMPLATE/ERROR, leaves no file, and is not retried;
  - a copy that takes longer than TIMEOUT fails with that message;
  - the same limits bind a driver's import and export (the http driver);
  - a user with MAX_PER_USER transfers running is refused a new one (image,
    IMAGE app), while another user's copy goes through the free worker;
  - one.image.delete of an image being copied is accepted at once, cancels
    the copy, and leaves neither the image nor a partial file.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_transfer_fair.py
"""

import sys
sys.dont_write_bytecode = True

import hashlib
import http.server
import os
import tempfile
import threading
import time
import urllib.parse

import harness
from harness import ACTION, APP_ERROR, APP_READY, tmpl, xint, xtext

MB = 1 << 20
IMAGE_READY, IMAGE_ERROR = 1, 5
MIN_RATE = 1024                 # bytes/s
WINDOW = 2                      # s
MAX_PER_USER = 2
WORKERS = 3                     # alice's 2 + one for everyone else
TRANSFER = ('TRANSFER = [ TIMEOUT = "%d", MIN_RATE = "%d", MIN_RATE_WINDOW = "%d", '
            'MAX_PER_USER = "%d" ]\n')
SLOW_RATE = 100                 # bytes/s: far under MIN_RATE
STEADY_RATE = 64 * 1024         # bytes/s: over MIN_RATE, yet minutes for BIG
BIG = 64 * MB
SMALL = 256 * 1024


PATTERN = hashlib.sha256(b"marketd").digest() * (MB // 32)     # 1 MiB


def content(offset, n):
    """Bytes [@offset, @offset + @n) of every /blob: not all alike, and
    made as they are sent (a BIG body is never held whole)."""
    out = bytearray()
    while n > 0:
        o = offset % MB
        k = min(n, MB - o)
        out += PATTERN[o:o + k]
        offset += k
        n -= k
    return bytes(out)


class Web:
    """A threading web server on 127.0.0.1.

    /blob/<size>?rate=R&id=X   @size bytes, R bytes a second (default: all
                               at once); X names the request in `active`
    /market/<name>             a file of PUBLIC_DIR, at `market_rate`
    `active[X]` counts the open responses of id X."""

    def __init__(self, public_dir):
        self.public_dir = public_dir
        self.market_rate = None
        self.active = {}
        self.lock = threading.Lock()
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                parts = url.path.strip("/").split("/")
                if parts[0] == "blob" and len(parts) == 2:
                    size, read, rate = int(parts[1]), content, q.get("rate")
                elif parts[0] == "market" and len(parts) == 2:
                    try:
                        with open(os.path.join(web.public_dir, parts[1]), "rb") as f:
                            data = f.read()
                    except OSError:
                        self.send_error(404)
                        return
                    size, read, rate = len(data), lambda o, n: data[o:o + n], web.market_rate
                else:
                    self.send_error(404)
                    return
                web.serve(self, q.get("id", url.path), size, read, int(rate) if rate else None)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass    # clients that give up mid-body are the point

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, handler, rid, size, read, rate):
        """@size bytes of read(offset, n), @rate a second (None: at once)."""
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        with self.lock:
            self.active[rid] = self.active.get(rid, 0) + 1
        step = max(1, rate // 10) if rate else MB
        try:
            for offset in range(0, size, step):
                handler.wfile.write(read(offset, min(step, size - offset)))
                handler.wfile.flush()
                if rate:
                    time.sleep(0.1)
        except OSError:
            handler.close_connection = True
        finally:
            with self.lock:
                self.active[rid] -= 1

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.server.server_address[1], path)

    def blob(self, size, rate=None, rid=None):
        query = [("rate", rate), ("id", rid)]
        query = "&".join("%s=%s" % (k, v) for k, v in query if v is not None)
        return self.url("blob/%d%s" % (size, "?" + query if query else ""))

    def open_responses(self, rid):
        with self.lock:
            return self.active.get(rid, 0)


class FairDaemon(harness.Daemon):
    """The real drivers, a pool of WORKERS, small TRANSFER limits, the
    loopback allowed to users, no proxy variables."""

    def __init__(self, timeout=60, **kw):
        conf = (TRANSFER % (timeout, MIN_RATE, WINDOW, MAX_PER_USER) +
                'IMPORT_ALLOWED_NETWORKS = "127.0.0.0/8"\n'
                "MONITORING_INTERVAL_MARKET = 100000\n")
        super().__init__(real_drivers=True, name="fair", extra_conf=conf,
                         market_mad='WORKERS = "%d", TIMEOUT = "60"' % WORKERS, **kw)

    def start(self):
        super().start()
        # Market 0's catalog is on the Internet: its monitor pass must not
        # take one of the few workers.
        self.ok("one.market.enable", 0, False)
        return self


D = WEB = MARKET = TMP = None
ALICE = BOB = None


def setUpModule():
    global D, WEB, MARKET, TMP, ALICE, BOB
    TMP = tempfile.mkdtemp(prefix="mkt-it-fair-")
    try:
        D = FairDaemon().start()
        WEB = Web(D.public_dir).start()
        MARKET = D.ok("one.market.allocate",
                      tmpl(NAME="web", MARKET_MAD="http", BASE_URL=WEB.url("market"),
                           PUBLIC_DIR=D.public_dir))
        D.ok("one.market.chmod", MARKET, 1, 1, 0, 0, 0, 0, 1, 0, 0)
        ALICE = D.user("alice")[1]
        BOB = D.user("bob")[1]
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    harness.tear_down_module([D], [WEB], TMP)


name = harness.unique_name


def message(x):
    return x.findtext("TEMPLATE/ERROR") or ""


def image(path, session=None, daemon=None):
    d = daemon or D
    return d.ok("one.image.allocate", tmpl(NAME=name("img"), PATH=path), 1, session=session)


def temp_files(directory):
    """Temporary files under @directory, at any depth."""
    return sorted(os.path.join(root, f) for root, _dirs, files in os.walk(directory)
                  for f in files if ".part." in f)


def datastore_dir(d=None):
    return (d or D).info("datastore", 1).findtext("BASE_PATH")


def done_bytes(d, iid):
    p = d.info("image", iid).find("PROGRESS")
    return int(p.findtext("DONE")) if p is not None else -1


def images():
    return len(harness.xml(D.ok("one.imagepool.info", -2, -1, -1)).findall("IMAGE"))


def gone(d, kind, oid):
    r = d.rpc("one.%s.info" % kind, oid)
    return r[0] is False and r[2] == harness.NO_EXISTS


class Limits(harness.TestCase):

    def test_slow_source_fails_with_the_rate(self):
        rid = name("slow")
        start = time.monotonic()
        iid = image(WEB.blob(SMALL, rate=SLOW_RATE, rid=rid), session=ALICE)
        img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=30)
        elapsed = time.monotonic() - start
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("transfer too slow: under %d bytes/s for %d s" % (MIN_RATE, WINDOW),
                      message(img))
        self.assertLess(elapsed, WINDOW + 8, "given up after the window, not retried")
        self.assertFalse(os.path.exists(xtext(img, "SOURCE")), "no image file")
        self.assertEqual(temp_files(datastore_dir()), [], "no temporary file")
        self.wait_for(lambda: WEB.open_responses(rid) == 0, what="the connection to close")

    def test_timeout(self):
        d = FairDaemon(timeout=2)
        self.addCleanup(d.cleanup)
        d.start()
        start = time.monotonic()
        iid = image(WEB.blob(BIG, rate=STEADY_RATE), daemon=d)
        img = d.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=30)
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("transfer took longer than 2 s", message(img))
        self.assertLess(time.monotonic() - start, 8)
        self.assertEqual(temp_files(datastore_dir(d)), [])

    def test_driver_import_too_slow(self):
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME=name("app"), IMPORT_SOURCE=WEB.blob(SMALL, rate=SLOW_RATE)),
                   MARKET)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
        self.assertEqual(xint(app, "STATE"), APP_ERROR)
        self.assertIn("transfer too slow: under %d bytes/s for %d s" % (MIN_RATE, WINDOW),
                      message(app))
        self.assertEqual(temp_files(D.public_dir), [])

    def test_driver_export_too_slow(self):
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME=name("app"), IMPORT_SOURCE=WEB.blob(SMALL)), MARKET)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
        self.assertEqual(xint(app, "STATE"), APP_READY, message(app))
        WEB.market_rate = SLOW_RATE
        try:
            iid = D.ok("one.marketapp.export", aid, 1, name("exp"))
            img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=30)
        finally:
            WEB.market_rate = None
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("transfer too slow: under %d bytes/s for %d s" % (MIN_RATE, WINDOW),
                      message(img))
        self.assertFalse(os.path.exists(xtext(img, "SOURCE")))
        self.assertEqual(temp_files(datastore_dir()), [])


class Fairness(harness.TestCase):

    def test_cap_per_user_and_others_go_on(self):
        rids = [name("steady") for _ in range(MAX_PER_USER)]
        slow = [image(WEB.blob(BIG, rate=STEADY_RATE, rid=r), session=ALICE) for r in rids]
        self.addCleanup(lambda: [D.rpc("one.image.delete", i) for i in slow])
        self.wait_for(lambda: all(WEB.open_responses(r) for r in rids), timeout=10,
                      what="alice's copies to run")
        before = images()

        r = D.rpc("one.image.allocate", tmpl(NAME=name("img"), PATH=WEB.blob(SMALL)), 1,
                  session=ALICE)
        self.assertFailure(r, "one.image.allocate", ACTION,
                           contains=["too many transfers: user alice has %d running"
                                     % MAX_PER_USER,
                                     "TRANSFER MAX_PER_USER = %d" % MAX_PER_USER])
        r = D.rpc("one.marketapp.allocate",
                  tmpl(NAME=name("app"), IMPORT_SOURCE=WEB.blob(SMALL)), MARKET,
                  session=ALICE)
        self.assertFailure(r, "one.marketapp.allocate", ACTION, contains="too many transfers")
        self.assertEqual(images(), before, "a refused call creates nothing")

        # The third worker is free for bob, whose copy is not held up.
        start = time.monotonic()
        iid = image(WEB.blob(SMALL), session=BOB)
        img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=30)
        self.assertEqual(xint(img, "STATE"), IMAGE_READY, message(img))
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(img.findtext("TEMPLATE/MD5"), hashlib.md5(content(0, SMALL)).hexdigest())
        for i in slow:
            self.assertEqual(xint(D.info("image", i), "STATE"), 4, "alice's still LOCKED")

        # One of alice's ends: she may start another.
        self.assertEqual(D.ok("one.image.delete", slow[0]), slow[0])
        self.wait_for(lambda: WEB.open_responses(rids[0]) == 0, timeout=10,
                      what="the cancelled copy's connection to close")
        iid = image(WEB.blob(SMALL), session=ALICE)
        img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=30)
        self.assertEqual(xint(img, "STATE"), IMAGE_READY, message(img))

    def test_delete_during_copy(self):
        rid = name("del")
        iid = image(WEB.blob(BIG, rate=STEADY_RATE, rid=rid), session=ALICE)
        self.wait_for(lambda: done_bytes(D, iid) > 0, timeout=10, what="the copy to start")
        source = xtext(D.info("image", iid), "SOURCE")
        self.assertTrue(temp_files(datastore_dir()), "the copy writes a temporary file")

        start = time.monotonic()
        self.assertEqual(D.ok("one.image.delete", iid), iid)
        self.assertLess(time.monotonic() - start, 1, "delete does not wait for the copy")
        self.assertTrue(gone(D, "image", iid))
        self.wait_for(lambda: WEB.open_responses(rid) == 0, timeout=5,
                      what="the copy to stop reading")
        self.wait_for(lambda: not temp_files(datastore_dir()), timeout=5,
                      what="the temporary file to go")
        self.assertLess(time.monotonic() - start, 3)
        self.assertFalse(os.path.exists(source))
        self.wait_for(lambda: "image %d deleted during its copy: copy cancelled" % iid
                      in D.read_log(), what="the cancel to be logged")
        self.assertTrue(D.alive())

    def test_delete_during_driver_export(self):
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME=name("app"), IMPORT_SOURCE=WEB.blob(4 * MB)), MARKET)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
        self.assertEqual(xint(app, "STATE"), APP_READY, message(app))
        WEB.market_rate = STEADY_RATE
        try:
            iid = D.ok("one.marketapp.export", aid, 1, name("exp"))
            self.wait_for(lambda: done_bytes(D, iid) > 0, timeout=10,
                          what="the export to start")
            source = xtext(D.info("image", iid), "SOURCE")
            self.assertTrue(temp_files(datastore_dir()), "the driver writes a temporary file")
            self.assertEqual(D.ok("one.image.delete", iid), iid)
            self.assertTrue(gone(D, "image", iid))
            self.wait_for(lambda: not temp_files(datastore_dir()), timeout=10,
                          what="the export's temporary file to go")
        finally:
            WEB.market_rate = None
        self.assertFalse(os.path.exists(source))
        self.wait_for(lambda: "image %d deleted during its copy: copy cancelled" % iid
                      in D.read_log(), what="the cancel to be logged")


if __name__ == "__main__":
    harness.main()
