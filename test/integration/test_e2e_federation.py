#!/usr/bin/env python3
"""End to end: a federation of three marketd zones (issue 13).

A master (zone 0) and two slaves (zones 1 and 2) run on loopback ports
with their own databases, the real drivers and a private nginx that
publishes zone 1's http market.  The tests check what share/doc/
federation.md promises: shared objects made through any zone show in every
zone with the same ids; uploads only into markets of the local zone; an
app uploaded in zone 1 exports in zone 2 with the same bytes; a killed
master leaves the slaves serving reads and refusing writes clearly, and
nothing committed is lost; a slave killed during its catch-up resumes at
the index it recorded and applies nothing twice; a slave behind a trimmed
log copies the tables whole; concurrent writes through every zone leave
identical shared tables; only the server credential reads the log.

A second, small federation (master with LOG_RETENTION = 200) reaches its
master through a relay (below) that can hold the log's replies and cap
their size, so a catch-up can be cut at a chosen point.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_federation.py
"""

import sys
sys.dont_write_bytecode = True

import http.server
import os
import re
import sqlite3
import tempfile
import threading
import time
import urllib.request
import xmlrpc.client

import harness
from harness import APP_READY, APP_ERROR, tmpl, xint, xtext

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import nginx  # noqa: E402
from nginx import Nginx  # noqa: E402

SHARED = ("user_pool", "group_pool", "marketplace_pool", "marketplaceapp_pool", "zone_pool")
AUTHENTICATION, AUTHORIZATION = 0x100, 0x200
IMAGE_READY, IMAGE_ERROR = 1, 5
SERVER_SECRET = "fed-" + os.urandom(8).hex()
PASSWORD = "pw-" + os.urandom(8).hex()


class Zone(harness.Daemon):
    """marketd on the real drivers, in a federation."""

    def __init__(self, name, mode, zone_id, master_url=None, retention=None):
        self.fed = (mode, zone_id, master_url, retention)
        super().__init__(name=name, password=PASSWORD, real_drivers=True,
                         write_auth=(mode != "SLAVE"))
        self.session = "oneadmin:%s" % PASSWORD

    def _prepare(self):
        mode, zone_id, master_url, retention = self.fed
        self.extra_conf = ('FEDERATION = [ MODE = "%s", ZONE_ID = %d, SERVER_AUTH = %s%s%s ]\n'
                           % (mode, zone_id, harness.q(AUTH_FILE),
                              ', MASTER_ONED = %s' % harness.q(master_url) if master_url else "",
                              ', LOG_RETENTION = %d' % retention if retention else ""))
        super()._prepare()
        if not self.write_auth:
            # The harness reads the session from here; a slave has no
            # oneadmin of its own (it comes from the master).
            self.set_auth_file("oneadmin:%s\n" % PASSWORD)

    def fedlog_index(self):
        return int(xml_of(self.ok("one.zone.raftstatus")).findtext("FEDLOG_INDEX"))

    def applied_in_db(self):
        """The slave's recorded applied index, read from its database."""
        with db(self) as c:
            row = c.execute("SELECT value FROM fed_state WHERE key='fedlog_applied'").fetchone()
        return int(row[0]) if row else 0


def xml_of(text):
    return harness.xml(text)


def db(zone):
    return sqlite3.connect("file:%s?mode=ro" % os.path.join(zone.data_dir, "marketd.db"),
                           uri=True, timeout=10)


def dump(zone):
    """The shared tables of @zone, every column of every row."""
    out = {}
    with db(zone) as c:
        for t in SHARED:
            out[t] = c.execute("SELECT * FROM %s ORDER BY oid" % t).fetchall()
    return out


# -- a relay between a slave and its master ---------------------------------------------

class Relay(http.server.ThreadingHTTPServer):
    """Forwards POST /RPC2 to the master.  Records every call (method,
    session, params) and, for one.zone.fedlog, the indexes of the entries
    the reply carried.  `cap` rewrites the log's max entries; `allow`, when
    not None, is how many more fedlog calls pass: the next ones wait until
    `opened` is set."""

    daemon_threads = True

    def __init__(self, master_url):
        self.master_url = master_url
        self.calls = []
        self.delivered = []         # [(first, last)] of the entries replied
        self.cap = 0
        self.allow = None
        self.opened = threading.Event()
        self.opened.set()
        self.holding = threading.Event()
        self.mu = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                params, method = xmlrpc.client.loads(body)
                with outer.mu:
                    outer.calls.append((method, params[0], params[1:]))
                    hold = False
                    if method == "one.zone.fedlog" and params[1] >= 0:
                        if outer.cap:
                            params = params[:4] + (outer.cap,)
                            body = xmlrpc.client.dumps(params, method).encode()
                        if outer.allow is not None:
                            if outer.allow == 0:
                                hold = True
                            else:
                                outer.allow -= 1
                if hold:
                    outer.holding.set()
                    outer.opened.wait(120)
                req = urllib.request.Request(outer.master_url, data=body,
                                             headers={"Content-Type": "text/xml"})
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(req, timeout=60) as resp:
                        reply = resp.read()
                except OSError:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if method == "one.zone.fedlog" and params[1] >= 0:
                    value = xmlrpc.client.loads(reply)[0][0]
                    if value[0]:
                        idx = [int(i) for i in re.findall(r'<C I="(\d+)"', value[1])]
                        if idx:
                            with outer.mu:
                                outer.delivered.append((idx[0], idx[-1]))
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass            # the slave was killed meanwhile

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/RPC2" % self.server_address[1]

    def stop(self):
        self.opened.set()
        self.shutdown()
        self.server_close()


# -- the module's federation -------------------------------------------------------------

TMP = None
AUTH_FILE = None
M = S1 = S2 = None
WEB = None
ZONES = []


def start_slave(name, zone_id, master, master_url=None):
    """Register zone @zone_id on @master with the slave's endpoint, then
    start it (its port is chosen before the zone is created)."""
    s = Zone(name, "SLAVE", zone_id, master_url or master.url)
    s._prepare()
    zid = master.ok("one.zone.allocate", tmpl(NAME=name, ENDPOINT=s.url))
    if zid != zone_id:
        raise harness.HarnessError("zone %s got id %d, not %d" % (name, zid, zone_id))
    return s.start()


def setUpModule():
    global TMP, AUTH_FILE, M, S1, S2, WEB, ZONES, S1_STARTED
    TMP = tempfile.mkdtemp(prefix="mkt-it-fed-")
    try:
        AUTH_FILE = os.path.join(TMP, "server_auth")
        with open(AUTH_FILE, "w") as f:
            f.write("serveradmin:%s\n" % SERVER_SECRET)
        os.chmod(AUTH_FILE, 0o600)
        M = Zone("fed-master", "MASTER", 0).start()
        S1_STARTED = time.monotonic()
        S1 = start_slave("fed-zone1", 1, M)
        S2 = start_slave("fed-zone2", 2, M)
        ZONES = [M, S1, S2]
        WEB = Nginx(os.path.join(TMP, "nginx"), S1.public_dir).start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        harness.tear_down_module([S2, S1, M], [WEB], TMP)
    finally:
        nginx.stop_all()


name = harness.unique_name


class FederationCase(harness.TestCase):

    def converge(self, master, slaves, timeout=10):
        """Wait until every slave has applied the master's whole log."""
        def done():
            last = master.fedlog_index()
            return all(s.fedlog_index() >= last for s in slaves)
        self.wait_for(done, timeout=timeout, what="the slaves to apply the master's log")

    def assertSameTables(self, master, slaves):
        want = dump(master)
        for s in slaves:
            got = dump(s)
            for t in SHARED:
                self.assertEqual(got[t], want[t], "table %s of zone %s differs from the "
                                 "master's" % (t, s.fed[1]))


class Federation(FederationCase):

    def test_a_everything_shows_in_every_zone(self):
        uid, _ = S1.user(name("fred"))
        market = S2.market(name("m2"))
        app = M.app(name("vmt"), M.market(name("m0")))
        group = S2.group(name("g"))
        start = time.monotonic()
        for z in ZONES:
            self.wait_for(lambda: z.rpc("one.marketapp.info", app)[0], timeout=2,
                          what="app %d in zone %s" % (app, z.fed[1]))
        self.assertLess(time.monotonic() - start, 2.0)
        for z in ZONES:
            self.assertTrue(xtext(z.info("user", uid), "NAME").startswith("fred"))
            m = z.info("market", market)
            self.assertEqual(xtext(m, "ZONE_ID"), "2", "a market records the zone it was "
                             "created in")
            self.assertEqual(xint(z.info("marketapp", app), "ID"), app)
            self.assertEqual(xint(z.info("group", group), "ID"), group)
        # Zones are shared objects too, with oned's ZONE document.
        pool = xml_of(S2.ok("one.zonepool.info"))
        self.assertEqual(sorted(int(e.text) for e in pool.findall("ZONE/ID")), [0, 1, 2])
        self.assertChildren(pool.find("ZONE"), ["ID", "NAME", "STATE", "TEMPLATE",
                                                "SERVER_POOL"])
        self.assertEqual(xtext(xml_of(S1.ok("one.zone.info", 2)), "TEMPLATE/ENDPOINT"), S2.url)
        self.assertEqual(xtext(xml_of(M.ok("one.zone.info", 0)), "NAME"), "OpenNebula")

    def test_b_proxied_calls_answer_as_the_master(self):
        market = M.market(name("mp"))
        # A proxied call's error is the master's own.
        r = S1.rpc("one.market.chmod", 99999, 1, 1, 1, 1, 1, 1, 1, 1, 1)
        self.assertFailure(r, "one.market.chmod", contains="99999")
        # A user's own permissions are checked on the master.
        uid, session = S1.user(name("eve"))
        self.assertFailure(S2.rpc("one.market.rename", market, "stolen", session=session),
                           "one.market.rename", code=AUTHORIZATION)
        # The reply comes once this zone shows the change.
        S2.ok("one.market.rename", market, "renamed-%d" % market)
        self.assertEqual(xtext(S2.info("market", market), "NAME"), "renamed-%d" % market)
        zid = S1.ok("one.zone.allocate", tmpl(NAME=name("extra"), ENDPOINT="http://127.0.0.1:9/RPC2"))
        self.assertEqual(xtext(xml_of(S2.ok("one.zone.info", zid)), "TEMPLATE/ENDPOINT"),
                         "http://127.0.0.1:9/RPC2")
        S2.ok("one.zone.rename", zid, "gone-%d" % zid)
        S1.ok("one.zone.delete", zid)
        self.converge(M, [S1, S2])
        for z in ZONES:
            self.assertFalse(z.rpc("one.zone.info", zid)[0])
        self.assertFailure(M.rpc("one.zone.delete", 0), "one.zone.delete",
                           contains="this zone")

    def test_c_uploads_only_into_markets_of_the_local_zone(self):
        market = S1.ok("one.market.allocate",
                       tmpl(NAME=name("web1"), MARKET_MAD="http", BASE_URL=WEB.url(),
                            PUBLIC_DIR=S1.public_dir))
        img2 = S2.image(name("img"))
        # Zone 1's monitor of the market writes its capacity, replicated to
        # zone 2 whenever it ends: that must be over before the tables are
        # compared, or it is taken for the upload's doing.  Zone 1's loop
        # makes its first pass FIRST_PASS_DELAY (5 s) after its start; one
        # pass asked for here covers a market made after that.
        time.sleep(max(0.0, S1_STARTED + 6 - time.monotonic()))

        def passes():
            st = S1.info("market", market).find("MONITORING")
            return (xint(st, "PASSES"), xtext(st, "STATE")) if st is not None else (0, "")

        done = passes()[0]
        S1.ok("one.market.monitor", market)
        self.wait_for(lambda: passes()[0] > done and passes()[1] != "RUNNING", timeout=10,
                      what="zone 1's monitor of the market")
        capacity = ("TOTAL_MB", "FREE_MB", "USED_MB")
        self.wait_for(lambda: [xint(S2.info("market", market), k) for k in capacity] ==
                      [xint(S1.info("market", market), k) for k in capacity], timeout=10,
                      what="zone 1's monitor of the market in zone 2")
        before = dump(S2)
        r = S2.rpc("one.marketapp.allocate", tmpl(NAME=name("x"), ORIGIN_ID=str(img2)), market)
        self.assertFailure(r, "one.marketapp.allocate",
                           contains="Marketplace %d is in zone 1, not in this zone (2)" % market)
        self.assertEqual(dump(S2), before, "a refused upload changed the shared tables")

    def test_d_app_of_zone_1_exports_in_zone_2(self):
        market = S1.ok("one.market.allocate",
                       tmpl(NAME=name("web"), MARKET_MAD="http", BASE_URL=WEB.url(),
                            PUBLIC_DIR=S1.public_dir))
        img = S1.image(name("orig"), size=3 << 20)
        aid = S1.ok("one.marketapp.allocate", tmpl(NAME=name("app"), ORIGIN_ID=str(img)),
                    market)
        a = S1.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
        self.assertEqual(xint(a, "STATE"), APP_READY, a.findtext("TEMPLATE/ERROR"))
        self.wait_for(lambda: S2.rpc("one.marketapp.info", aid)[0] and
                      xint(S2.info("marketapp", aid), "STATE") == APP_READY,
                      timeout=2, what="the app READY in zone 2")
        # Zone 2 may not delete it through the driver: its zone is 1.
        self.assertFailure(S2.rpc("one.marketapp.delete", aid), "one.marketapp.delete",
                           contains="zone 1")
        iid = S2.ok("one.marketapp.export", aid, 1, name("copy"))
        if isinstance(iid, str):
            iid = int(xml_of(iid).findtext(".//IMAGE/ID") or xml_of(iid).findtext(".//ID"))
        i = S2.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=60)
        self.assertEqual(xint(i, "STATE"), IMAGE_READY, i.findtext("TEMPLATE/ERROR"))
        src = xtext(S1.info("image", img), "SOURCE")
        dst = xtext(i, "SOURCE")
        with open(src, "rb") as a_, open(dst, "rb") as b_:
            self.assertTrue(a_.read() == b_.read(), "the export in zone 2 differs from "
                            "the image uploaded in zone 1")
        # Images stay zone-local: the new image is zone 2's only.
        self.assertFalse(S1.rpc("one.image.info", iid)[0] and
                         xtext(S1.info("image", iid), "NAME") == xtext(i, "NAME"))

    def test_e_only_the_server_credential_reads_the_log(self):
        args = (1, "0", 0, 10)
        self.assertFailure(M.rpc("one.zone.fedlog", *args,
                                 session="serveradmin:not-the-secret"),
                           "one.zone.fedlog", code=AUTHENTICATION)
        self.assertFailure(M.rpc("one.zone.fedlog", *args), "one.zone.fedlog",
                           code=AUTHORIZATION, contains="server user")
        _, session = M.user(name("mallory"))
        self.assertFailure(M.rpc("one.zone.fedlog", *args, session=session + ":oneadmin"),
                           "one.zone.fedlog", code=AUTHENTICATION)
        self.assertFailure(M.rpc("one.zone.fedlog", *args,
                                 session="serveradmin:wrong:oneadmin"),
                           "one.zone.fedlog", code=AUTHENTICATION)
        self.assertFailure(M.rpc("one.zone.fedwrite", "<CHANGES/>", session=session),
                           "one.zone.fedwrite", code=AUTHORIZATION)
        # Acting for a user with a wrong secret is refused, also for writes.
        self.assertFailure(M.rpc("one.user.allocate", name("u"), "p", "", [],
                                 session="serveradmin:bad:oneadmin"),
                           "one.user.allocate", code=AUTHENTICATION)
        # The server acts for a user named with the uid the zone knows.
        self.assertFailure(M.rpc("one.group.allocate", name("g"),
                                 session="serveradmin:%s:oneadmin:7" % SERVER_SECRET),
                           "one.group.allocate", code=AUTHENTICATION)
        M.ok("one.group.allocate", name("g"),
             session="serveradmin:%s:oneadmin:0" % SERVER_SECRET)
        good = M.rpc("one.zone.fedlog", *args, session="serveradmin:" + SERVER_SECRET)
        self.assertOk(good, "one.zone.fedlog")
        self.assertEqual(xml_of(good[1]).tag, "FEDLOG")
        # A slave has no log to give, whoever asks.
        self.assertFailure(S1.rpc("one.zone.fedlog", *args,
                                  session="serveradmin:" + SERVER_SECRET),
                           "one.zone.fedlog", code=AUTHORIZATION)
        self.assertFailure(S1.rpc("one.zone.fedlog", *args,
                                  session="serveradmin:%s:oneadmin" % SERVER_SECRET),
                           "one.zone.fedlog", code=AUTHENTICATION)

    def test_f_concurrent_writes_leave_identical_tables(self):
        markets = {z: z.market(name("cw")) for z in ZONES}
        errors = []
        made = []
        mu = threading.Lock()

        def writer(z, k):
            try:
                for i in range(12):
                    n = "c%d-%d-%d" % (z.fed[1], k, i)
                    uid, _ = z.user(n)
                    mid = z.market(n)
                    z.ok("one.market.chmod", markets[z], 1, 1, 0, 1, 0, 0, i % 2, 0, 0)
                    z.ok("one.market.update", mid, 'NOTE="%s"' % n, 1)
                    aid = z.app(n, markets[z])
                    z.ok("one.marketapp.update", aid, 'K="%d"' % i, 1)
                    with mu:
                        made.append((uid, mid, aid))
            except BaseException as e:
                errors.append("zone %s: %r" % (z.fed[1], e))

        threads = [threading.Thread(target=writer, args=(z, k)) for z in ZONES for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(made), 3 * 3 * 12)
        self.converge(M, [S1, S2])
        self.assertSameTables(M, [S1, S2])
        uids = [u for u, _, _ in made]
        self.assertEqual(len(set(uids)), len(uids), "two zones handed out the same id")

    def test_g_master_killed_slaves_read_refuse_writes_then_catch_up(self):
        market = M.market(name("before"))
        self.converge(M, [S1, S2])
        committed = []
        stop = threading.Event()

        def write_until_killed():
            while not stop.is_set():
                try:
                    r = M.rpc("one.user.allocate", name("w"), "pw", "", [])
                except Exception:
                    return
                if r[0]:
                    committed.append(r[1])

        t = threading.Thread(target=write_until_killed)
        t.start()
        self.wait_for(lambda: len(committed) >= 20, timeout=20, what="writes on the master")
        M.kill()
        self.addCleanup(lambda: M.running() or M.start())
        stop.set()
        t.join(30)
        before1 = dump(S1)
        for s in (S1, S2):
            self.assertEqual(xtext(s.info("market", market), "NAME")[:6], "before")
            s.ok("one.userpool.info")
            for call in (("one.user.allocate", name("nope"), "pw", "", []),
                         ("one.market.chmod", market, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                         ("one.market.allocate", tmpl(NAME=name("nope"), MARKET_MAD="http",
                                                      BASE_URL="http://x/",
                                                      PUBLIC_DIR=s.public_dir))):
                start = time.monotonic()
                r = s.rpc(*call)
                self.assertFailure(r, call[0], contains="master zone 0 unreachable")
                self.assertLess(time.monotonic() - start, 5, "a refusal must be quick")
        self.assertEqual(dump(S1), before1, "a refused write changed the replica")
        M.start()
        self.converge(M, [S1, S2], timeout=20)
        for s in ZONES:
            pool = xml_of(s.ok("one.userpool.info"))
            ids = {int(e.text) for e in pool.findall("USER/ID")}
            self.assertEqual(set(committed) - ids, set(), "committed users lost in zone %s"
                             % s.fed[1])
        S2.user(name("after"))
        self.converge(M, [S1, S2])
        self.assertSameTables(M, [S1, S2])

    def test_h_zone_list_shows_endpoints_and_lag(self):
        r = S1.cli("zone", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"ID\s+NAME\s+ENDPOINT\s+INDEX\s+LAG")
        for z in ZONES:
            row = [l for l in lines[1:] if l.split()[0] == str(z.fed[1])]
            self.assertEqual(len(row), 1, r.stdout)
            self.assertIn(z.url, row[0])


class CatchUp(FederationCase):
    """A second federation whose slave reaches the master through a Relay."""

    def setUp(self):
        self.master = Zone(name("cu-master"), "MASTER", 0, retention=200).start()
        self.addCleanup(self.master.cleanup)
        self.relay = Relay(self.master.url)
        self.addCleanup(self.relay.stop)
        self.slave = start_slave(name("cu-zone"), 1, self.master, self.relay.url)
        self.addCleanup(self.slave.cleanup)
        self.market = self.master.market(name("cu"))
        self.converge(self.master, [self.slave])

    def changes(self, n):
        for i in range(n):
            self.master.ok("one.market.update", self.market, 'N="%d"' % i, 1)

    def applied_ranges(self):
        return [(int(a), int(b)) for a, b in
                re.findall(r"applied log entries (\d+)\.\.(\d+)", self.slave.read_log())]

    def test_killed_during_catch_up_resumes_at_its_index(self):
        self.slave.kill()
        self.changes(150)
        # The relay lets three replies of 20 entries through, then holds.
        with self.relay.mu:
            self.relay.cap = 20
            self.relay.allow = 3
            self.relay.opened.clear()
            self.relay.holding.clear()
            mark = len(self.relay.delivered)
        self.slave._spawn()
        self.assertTrue(self.relay.holding.wait(30), "the slave did not ask a fourth time")
        self.slave.kill()
        got = self.relay.delivered[mark:]
        self.assertEqual(len(got), 3)
        self.assertEqual(self.slave.applied_in_db(), got[-1][1],
                         "the recorded index is not the last entry applied")
        resume_from = got[-1][1]
        with self.relay.mu:
            self.relay.allow = None
            calls = len(self.relay.calls)
        self.relay.opened.set()
        self.slave.start()
        self.converge(self.master, [self.slave])
        first = [p for m, s, p in self.relay.calls[calls:]
                 if m == "one.zone.fedlog" and p[0] >= 0][0]
        self.assertEqual(int(first[1]), resume_from, "the restarted slave did not ask "
                         "for the entries after its recorded index")
        ranges = self.applied_ranges()
        for (a0, b0), (a1, b1) in zip(ranges, ranges[1:]):
            self.assertEqual(a1, b0 + 1, "entries applied twice or skipped: %r" % ranges)
        self.assertSameTables(self.master, [self.slave])
        # Slave to master traffic is signed with the server credential only.
        for method, session, _ in self.relay.calls:
            self.assertTrue(session.startswith("serveradmin:"), (method, session))
            self.assertNotIn(PASSWORD, session)

    def test_behind_a_trimmed_log_copies_the_tables_whole(self):
        self.slave.kill()
        self.master.user(name("while-down"))
        self.changes(450)
        # 200 entries kept: the slave's next one is gone.
        with db(self.master) as c:
            first = c.execute("SELECT MIN(idx) FROM changelog").fetchone()[0]
        self.assertGreater(first, self.slave.applied_in_db() + 1)
        self.slave.start()
        self.converge(self.master, [self.slave])
        self.assertIn("copying the shared tables", self.slave.read_log())
        self.assertSameTables(self.master, [self.slave])
        self.master.user(name("after-copy"))
        self.converge(self.master, [self.slave])
        self.assertSameTables(self.master, [self.slave])


if __name__ == "__main__":
    harness.main()
