#!/usr/bin/env python3
"""Protocol robustness, concurrency and lifecycle (restart, SIGHUP, crash)
of a real marketd.

The protocol tests share one daemon, and check at the end of each that the
daemon still answers and that its database did not change; restart and crash
tests use daemons of their own."""

import sys
sys.dont_write_bytecode = True

import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
import xmlrpc.client

import harness
from harness import NO_EXISTS, RPC_API, pool_ids, tmpl, xint, xml, xtext

D = None
M = None
U = None            # a plain user's id (targets for calls that must fail)
US = None           # and its session


def setUpModule():
    global D, M, U, US
    D = harness.module_daemon(name="robust")
    M = D.market("robust")
    U, US = D.user("robust-user")
    D.ok("one.market.chmod", M, *harness.chmod_args("644"))
    D.app("robust-app", M)
    D.app("robust-user-app", M, session=US)


def tearDownModule():
    harness.stop_module_daemon(D)


_VOLATILE = re.compile(r"<(TOTAL_MB|FREE_MB|USED_MB)>[^<]*</\1>")


def snapshot(d):
    """Everything the database holds, as seen through the API (monitor
    figures blanked: a monitor pass may update them at any time)."""
    markets = _VOLATILE.sub("", d.ok("one.marketpool.info"))
    apps = d.ok("one.marketapppool.info", -2, -1, -1)
    users = sorted((xint(u, "ID"), xtext(u, "NAME"), xint(u, "GID"))
                   for u in xml(d.ok("one.userpool.info")).findall("USER"))
    groups = sorted((xint(g, "ID"), xtext(g, "NAME"))
                    for g in xml(d.ok("one.grouppool.info")).findall("GROUP"))
    return {"markets": markets, "apps": apps, "users": users, "groups": groups}


def call_xml(method, *params):
    return xmlrpc.client.dumps(params, method).encode("utf-8")


def http_post(d, body, content_type="text/xml", path="/RPC2", timeout=30):
    """POST raw bytes with http.client; the body is sent from a second
    thread so that an early answer (e.g. 413 before the body is read) is
    still received.  Returns (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("User-Agent", "mkt-integration-test")
        conn.endheaders()

        sock = conn.sock    # http.client drops conn.sock once it has the answer

        def sender():
            try:
                view = memoryview(body)
                for off in range(0, len(body), 65536):
                    sock.sendall(view[off:off + 65536])
            except OSError:
                pass        # the server may close early after answering

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        resp = conn.getresponse()
        try:
            data = resp.read()
        except (ConnectionResetError, http.client.IncompleteRead) as e:
            # A server that answers before reading the whole body and then
            # closes makes the kernel send a RST, which may cut the body of
            # its answer short: the status line is what counts.
            data = getattr(e, "partial", b"") or b""
        t.join(timeout)
        return resp.status, data
    finally:
        conn.close()


class Snapshot(harness.TestCase):
    """Each test must leave the shared daemon alive and its data unchanged."""

    def setUp(self):
        self.before = snapshot(D)

    def tearDown(self):
        self.assertTrue(D.alive(), "marketd stopped answering (status %s)"
                        % (D.proc.returncode if D.proc else None))
        self.assertEqual(snapshot(D), self.before, "the database changed")


class UnknownMethod(Snapshot):

    def test_unknown_method(self):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            D.rpc("one.market.nosuch", 1)
        self.assertEqual(cm.exception.faultCode, -506)
        self.assertEqual(cm.exception.faultString, "Method 'one.market.nosuch' not defined")

    def test_unknown_method_bad_session(self):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            D.rpc("one.nosuch", session="nobody:x")
        self.assertEqual(cm.exception.faultCode, -506)

    def test_unknown_method_no_params(self):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            D.rpc_nosession("nosuch")
        self.assertEqual(cm.exception.faultCode, -506)


class WrongParameters(Snapshot):

    def check(self, method, *params):
        with self.subTest(method=method, params=repr(params)[:60]):
            self.assertRejected(lambda: D.rpc_nosession(method, *params))
            self.assertTrue(D.alive())

    def test_wrong_types(self):
        s = D.session
        self.check("one.market.info", s, "abc")
        self.check("one.market.info", s, 1.5)
        self.check("one.market.info", s, [M])
        self.check("one.market.info", s, {"id": M})
        self.check("one.market.info", s, True)
        self.check("one.market.info", s, xmlrpc.client.Binary(b"\x00\x01"))
        self.check("one.market.info", 123, M)
        self.check("one.market.info", [s], M)
        self.check("one.market.allocate", s, 42)
        self.check("one.market.allocate", s, ["NAME=x"])
        self.check("one.market.enable", s, M, "yes")
        self.check("one.market.update", s, M, 'A="1"', "merge")
        self.check("one.market.chmod", s, M, 1, 1, 1, "1", 0, 0, 0, 0, 0)
        self.check("one.marketapp.allocate", s, tmpl(NAME="wt", ORIGIN_ID="1"), "100")
        self.check("one.marketapppool.info", s, "x", -1, -1)
        self.check("one.marketapp.lock", s, 0, "use", False)
        self.check("one.user.allocate", s, "wt-user", "pw", "core", "notarray")
        self.check("one.user.allocate", s, "wt-user2", "pw", "core", ["x"])
        self.check("one.user.allocate", s, 5, "pw", "core", [])
        self.check("one.user.passwd", s, U, 1234)
        self.check("one.group.allocate", s, 7)
        D.ok("one.user.info", -1, session=US)     # its password is unchanged

    def test_too_few_parameters(self):
        s = D.session
        self.check("one.market.info")
        self.check("one.market.info", s)
        self.check("one.market.allocate", s)
        self.check("one.market.update", s, M)
        self.check("one.market.rename", s, M)
        self.check("one.market.chmod", s, M, 1, 1)
        self.check("one.market.chown", s, M)
        self.check("one.market.enable", s, M)
        self.check("one.marketapp.allocate", s, tmpl(NAME="tf", ORIGIN_ID="1"))
        self.check("one.marketapp.lock", s, 0)
        self.check("one.marketapppool.info", s, -2)
        self.check("one.user.allocate", s, "tf-user")
        self.check("one.user.passwd", s, U)
        self.check("one.group.allocate", s)
        self.check("one.system.version")

    def test_large_integers(self):
        s = D.session
        # i8 values where an int is expected: rejected or "not found",
        # never a crash and never a truncated id that hits another object.
        body = ("<?xml version='1.0'?><methodCall><methodName>one.market.info</methodName>"
                "<params><param><value><string>%s</string></value></param>"
                "<param><value><i8>%d</i8></value></param></params></methodCall>"
                % (s, (1 << 32) + M)).encode()
        status, data = http_post(D, body)
        self.assertEqual(status, 200)
        try:
            reply = xmlrpc.client.loads(data)[0][0]
        except xmlrpc.client.Fault:
            return
        self.assertIs(reply[0], False, "a 64-bit id must not alias market %d: %r" % (M, reply))
        self.assertIn(reply[2], (RPC_API, NO_EXISTS))


class ExtraParameters(Snapshot):

    def test_pool_extra(self):
        self.assertEqual(pool_ids(D.ok("one.marketpool.info", -2, -1, -1),
                                  "MARKETPLACE_POOL", "MARKETPLACE"),
                         pool_ids(D.ok("one.marketpool.info"),
                                  "MARKETPLACE_POOL", "MARKETPLACE"))

    def test_info_extra(self):
        self.assertEqual(xint(xml(D.ok("one.market.info", M, False, "x", 7)), "ID"), M)
        self.assertEqual(xtext(xml(D.ok("one.user.info", -1, True, 9)), "NAME"), "oneadmin")
        D.ok("one.system.version", 1, "x")
        D.ok("one.marketapppool.info", -2, -1, -1, 5)
        D.ok("one.grouppool.info", 1)
        D.ok("one.userpool.info", 1, 2)

    def test_allocate_extra(self):
        mid = D.ok("one.market.allocate",
                   tmpl(NAME="extra", MARKET_MAD="http", BASE_URL="http://x/",
                        PUBLIC_DIR=D.public_dir), "extra", 1)
        D.ok("one.market.delete", mid, "extra")
        self.before = snapshot(D)


class MalformedHTTP(Snapshot):

    def check_answer(self, status, data):
        """200 with an XML-RPC fault, or a 4xx (whose body may be cut short)."""
        if status == 200:
            try:
                result = xmlrpc.client.loads(data)
            except xmlrpc.client.Fault:
                return
            except Exception as e:
                self.fail("200 answer that is not a fault (%s): %r" % (e, data[:300]))
            self.fail("malformed request answered with a result: %r" % (result,))
        self.assertTrue(400 <= status < 500, "expected a fault or a 4xx, got %d %r"
                        % (status, data[:300]))

    def post(self, body, **kw):
        status, data = http_post(D, body, **kw)
        self.check_answer(status, data)
        self.assertTrue(D.alive())

    def test_not_xml(self):
        self.post(b"this is not xml at all")

    def test_empty(self):
        self.post(b"")

    def test_truncated(self):
        full = call_xml("one.market.allocate", D.session,
                        tmpl(NAME="trunc", MARKET_MAD="http", BASE_URL="http://x/",
                             PUBLIC_DIR=D.public_dir))
        for cut in (len(full) // 3, len(full) // 2, len(full) - 5):
            with self.subTest(cut=cut):
                self.post(full[:cut])

    def test_huge_garbage(self):
        self.post(os.urandom(1536 * 1024))

    def test_oversized_garbage(self):
        # Larger than any sane request size limit: a 413 is the expected
        # answer, but any 4xx or a fault will do.
        self.post(os.urandom(4 * 1024 * 1024))

    def test_oversized_garbage_text(self):
        self.post(b"<methodCall>" + b"A" * (3 * 1024 * 1024))

    def test_non_utf8(self):
        body = ("<?xml version='1.0' encoding='UTF-8'?><methodCall>"
                "<methodName>one.market.allocate</methodName><params>"
                "<param><value><string>%s</string></value></param>"
                "<param><value><string>NAME=\"bad" % D.session).encode()
        body += b"\xff\xfe\xc3\x28\x80" + ("\"\nMARKET_MAD=\"http\"\nBASE_URL=\"http://x/\"\n"
                                           "PUBLIC_DIR=\"%s\"</string></value></param>"
                                           "</params></methodCall>" % D.public_dir).encode()
        self.post(body)

    def test_undecodable_body_stays_off_stderr(self):
        # "<\0\0\0" makes libxml2 read the body as UCS-4, which it cannot
        # convert; it says so through its process-wide handler, which
        # printed two lines a request to marketd's stderr (the journal).
        err_at = os.path.getsize(D.stderr_path)
        log_at = len(D.read_log())
        start = time.monotonic()
        for _ in range(30):
            self.post(b"<\0\0\0=")
            self.post(b"\0<\0\0")     # a parser error: "encoding not supported UCS4 3412"
        elapsed = time.monotonic() - start
        with open(D.stderr_path, "rb") as f:
            f.seek(err_at)
            err = f.read()
        self.assertNotIn(b"encoding error", err)
        self.assertNotIn(b"I/O error", err)
        self.assertNotIn(b"parser error", err)
        lines = [l for l in D.read_log()[log_at:].splitlines() if "[xml][D]" in l]
        self.assertTrue(any("libxml2: input conversion failed" in l for l in lines), lines)
        # At most a line a second: without the limit, 60 or more.
        self.assertLessEqual(len(lines), int(elapsed) + 2, lines)

    def test_non_utf8_method_name(self):
        self.post(b"<?xml version='1.0'?><methodCall><methodName>one.\xff\xfe</methodName>"
                  b"<params></params></methodCall>")

    def test_no_method_name(self):
        self.post(b"<?xml version='1.0'?><methodCall><params></params></methodCall>")

    def test_wrong_root(self):
        self.post(b"<?xml version='1.0'?><methodResponse><params/></methodResponse>")

    def test_unknown_value_type(self):
        self.post(("<?xml version='1.0'?><methodCall><methodName>one.market.info</methodName>"
                   "<params><param><value><string>%s</string></value></param>"
                   "<param><value><bogus>1</bogus></value></param></params></methodCall>"
                   % D.session).encode())

    def test_bad_int(self):
        self.post(("<?xml version='1.0'?><methodCall><methodName>one.market.info</methodName>"
                   "<params><param><value><string>%s</string></value></param>"
                   "<param><value><int>12abc</int></value></param></params></methodCall>"
                   % D.session).encode())

    def test_bad_i8(self):
        # xmlrpc-c 1.33's <i8> parser formats its fault from a missing
        # argument: any content strtoll() rejects crashed the daemon
        # before authentication (found by test/fuzz/rpc_fuzz.c).
        for v in ("12x", "-", "1.5", "99999999999999999999", "<![CDATA[7 ]]>"):
            for elem in ("i8", "ex:i8"):
                with self.subTest(value=v, elem=elem):
                    self.post(("<?xml version='1.0'?><methodCall><methodName>one.market.info"
                               "</methodName><params><param><value><string>x:y</string></value>"
                               "</param><param><value><%s>%s</%s></value></param></params>"
                               "</methodCall>" % (elem, v, elem)).encode())

    def test_deep_nesting(self):
        depth = 5000
        body = ("<?xml version='1.0'?><methodCall><methodName>one.market.info</methodName>"
                "<params><param><value><string>%s</string></value></param><param>"
                % D.session + "<value><array><data>" * depth + "<value><int>1</int></value>"
                + "</data></array></value>" * depth + "</param></params></methodCall>").encode()
        status, data = http_post(D, body)
        if status == 200:
            try:
                reply = xmlrpc.client.loads(data)[0][0]
            except xmlrpc.client.Fault:
                reply = None
            if reply is not None:
                self.assertIs(reply[0], False)
                self.assertEqual(reply[2], RPC_API)
        else:
            self.assertTrue(400 <= status < 500, status)
        self.assertTrue(D.alive())

    # The audit's bodies (issue 10): nesting that a character-counting
    # guard miscounts.  Each crashed marketd (stack exhaustion) before
    # bodies were read by a parser that counts depth itself.
    AUDIT_LEVELS = 40000

    def audit_body(self, inner):
        return (b"<methodCall><methodName>x</methodName><params>" + inner
                + b"</params></methodCall>")

    def test_deep_nesting_behind_attribute(self):
        n = self.AUDIT_LEVELS
        self.post(self.audit_body(b'<a x="/>">' * n + b"</a>" * n))

    def test_deep_nesting_after_comment(self):
        n = self.AUDIT_LEVELS
        self.post(self.audit_body(b"<!--" + b"</a>" * n + b"-->" + b"<a>" * n + b"</a>" * n))

    def test_deep_nesting_in_cdata_is_text(self):
        # Markup inside CDATA is text: not nesting, and the call goes on
        # to be an ordinary unknown-method fault.
        n = self.AUDIT_LEVELS
        self.post(self.audit_body(b"<param><value><string><![CDATA[" + b"<a>" * n
                                  + b"]]></string></value></param>"))

    def test_deep_nesting_fault_says_why(self):
        body = self.audit_body(b"<a>" * 100 + b"</a>" * 100)
        status, data = http_post(D, body)
        self.assertEqual(status, 200)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            xmlrpc.client.loads(data)
        self.assertIn("deeper than 64", cm.exception.faultString)

    def test_doctype_refused(self):
        # Internal entities would let a short body expand (and nest) in
        # xmlrpc-c's parser: XML-RPC has no use for a DTD.
        body = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "<v>1</v>">]>'
                b"<methodCall><methodName>one.system.version</methodName><params>"
                b"<param><value><string>&a;</string></value></param></params></methodCall>")
        status, data = http_post(D, body)
        self.assertEqual(status, 200)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            xmlrpc.client.loads(data)
        self.assertIn("DOCTYPE", cm.exception.faultString)
        self.assertTrue(D.alive())

    def test_ordinary_call_still_served(self):
        with D.proxy() as p:
            self.assertIs(p.one.system.version(D.session)[0], True)

    def test_many_in_a_row(self):
        for i in range(20):
            self.post(os.urandom(1000 + i))

    def test_stalled_client_does_not_block_others(self):
        sock = socket.create_connection(("127.0.0.1", D.port), timeout=5)
        try:
            sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Content-Length: 1000\r\n\r\n<?xml version")
            t0 = time.monotonic()
            with D.proxy(timeout=5) as p:
                r = p.one.system.version(D.session)
            self.assertIs(r[0], True)
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            sock.close()


class Concurrency(harness.TestCase):

    THREADS = 8
    CALLS = 50

    def test_parallel_allocate_info_update(self):
        mid = D.market("conc")
        errors = []
        results = {}
        start = threading.Barrier(self.THREADS)

        def worker(t):
            apps, markets, last_desc = [], [], {}
            try:
                start.wait(10)
                for i in range(self.CALLS):
                    op = i % 5
                    if op in (1, 2) and not apps:
                        op = 3      # nothing to look at yet (an allocate failed)
                    if op == 0:
                        name = "c%d-%d" % (t, i)
                        r = D.rpc("one.marketapp.allocate",
                                  tmpl(NAME=name, ORIGIN_ID="1", TYPE="VMTEMPLATE"), mid)
                        if r[0] is True:
                            apps.append((r[1], name))
                    elif op == 1:
                        r = D.rpc("one.marketapp.info", apps[-1][0])
                        if r[0] is True and xtext(xml(r[1]), "NAME") != apps[-1][1]:
                            errors.append("thread %d: app %d has the wrong name"
                                          % (t, apps[-1][0]))
                    elif op == 2:
                        desc = "t%d-i%d" % (t, i)
                        r = D.rpc("one.marketapp.update", apps[-1][0],
                                  tmpl(DESCRIPTION=desc), 1)
                        last_desc[apps[-1][0]] = desc
                    elif op == 3:
                        r = D.rpc("one.market.info", mid)
                    else:
                        r = D.rpc("one.market.allocate",
                                  tmpl(NAME="cm%d-%d" % (t, i), MARKET_MAD="http",
                                       BASE_URL="http://x/", PUBLIC_DIR=D.public_dir))
                        if r[0] is True:
                            markets.append(r[1])
                    if not (isinstance(r, list) and r[0] is True):
                        errors.append("thread %d call %d (op %d): %r" % (t, i, op, r))
            except Exception as e:          # noqa: BLE001 - reported below
                errors.append("thread %d: %r" % (t, e))
            results[t] = (apps, markets, last_desc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(self.THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        self.assertFalse([th for th in threads if th.is_alive()], "threads hung")
        self.assertEqual(errors, [])
        app_ids = [a for t in results for a, _ in results[t][0]]
        market_ids = [m for t in results for m in results[t][1]]
        per_thread = (self.CALLS + 4) // 5
        self.assertEqual(len(app_ids), self.THREADS * per_thread)
        self.assertEqual(len(market_ids), self.THREADS * per_thread)
        self.assertEqual(len(set(app_ids)), len(app_ids), "duplicate app ids")
        self.assertEqual(len(set(market_ids)), len(market_ids), "duplicate market ids")
        self.assertNotIn(mid, market_ids)
        # Everything is really there, with the last update applied, and the
        # market lists every app (concurrent updates of MARKETPLACEAPPS).
        pool = {xint(e, "ID"): e for e in
                xml(D.ok("one.marketapppool.info", -2, -1, -1)).findall("MARKETPLACEAPP")}
        for t in results:
            apps, _, last_desc = results[t]
            for aid, name in apps:
                self.assertIn(aid, pool)
                self.assertEqual(xtext(pool[aid], "NAME"), name)
                if aid in last_desc:
                    self.assertEqual(xtext(pool[aid], "DESCRIPTION"), last_desc[aid])
        listed = [int(e.text) for e in D.info("market", mid).find("MARKETPLACEAPPS")]
        self.assertEqual(sorted(listed), sorted(app_ids))
        mpool = pool_ids(D.ok("one.marketpool.info"), "MARKETPLACE_POOL", "MARKETPLACE")
        self.assertTrue(set(market_ids) <= set(mpool))
        check_consistency(self, D)


def check_consistency(testcase, d):
    """Apps and markets agree: every app's market exists and lists it, and
    every id a market lists is an app of that market."""
    markets = {xint(m, "ID"): m for m in
               xml(d.ok("one.marketpool.info")).findall("MARKETPLACE")}
    apps = {xint(a, "ID"): a for a in
            xml(d.ok("one.marketapppool.info", -2, -1, -1)).findall("MARKETPLACEAPP")}
    for aid, a in apps.items():
        mid = xint(a, "MARKETPLACE_ID")
        testcase.assertIn(mid, markets, "app %d refers to missing market %d" % (aid, mid))
        listed = [int(e.text) for e in markets[mid].find("MARKETPLACEAPPS")]
        testcase.assertIn(aid, listed, "market %d does not list its app %d" % (mid, aid))
        testcase.assertEqual(xtext(a, "MARKETPLACE"), xtext(markets[mid], "NAME"))
    for mid, m in markets.items():
        for e in m.find("MARKETPLACEAPPS"):
            aid = int(e.text)
            testcase.assertIn(aid, apps, "market %d lists missing app %d" % (mid, aid))
            testcase.assertEqual(xint(apps[aid], "MARKETPLACE_ID"), mid)


def run_threads(n, target, timeout=120):
    barrier = threading.Barrier(n)
    out = [None] * n

    def wrap(i):
        try:
            barrier.wait(10)
            out[i] = target(i)
        except Exception as e:      # noqa: BLE001 - returned to the test
            out[i] = e
    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise AssertionError("threads hung")
    return out


class Races(harness.TestCase):

    def test_same_app_name_in_parallel(self):
        body = tmpl(NAME="race-app", ORIGIN_ID="1", TYPE="VMTEMPLATE")
        replies = run_threads(8, lambda i: D.rpc("one.marketapp.allocate", body, M))
        wins = [r for r in replies if isinstance(r, list) and r[0] is True]
        self.assertEqual(len(wins), 1, "exactly one allocation may win: %r" % (replies,))
        for r in replies:
            if r is not wins[0]:
                harness.assert_failure(r, "one.marketapp.allocate", harness.ALLOCATE,
                                       contains="NAME is already taken")
        check_consistency(self, D)

    def test_same_market_name_in_parallel(self):
        body = tmpl(NAME="race-market", MARKET_MAD="http", BASE_URL="http://x/",
                    PUBLIC_DIR=D.public_dir)
        replies = run_threads(8, lambda i: D.rpc("one.market.allocate", body))
        wins = [r for r in replies if isinstance(r, list) and r[0] is True]
        self.assertEqual(len(wins), 1, "exactly one allocation may win: %r" % (replies,))
        for r in replies:
            if r is not wins[0]:
                harness.assert_failure(
                    r, "one.market.allocate", harness.ALLOCATE,
                    exact="[one.market.allocate] Error allocating a new marketplace. "
                          "NAME is already taken by MARKETPLACE %d" % wins[0][1])

    def test_delete_market_while_allocating(self):
        mid = D.market("race-del")
        seed = D.app("race-del-seed", mid)

        gone = threading.Event()

        def worker(i):
            if i == 0:
                # Mid-way, make the market public (PUBLIC=yes drivers may be
                # deleted with their apps) and delete it.
                try:
                    time.sleep(0.1)
                    D.ok("one.market.update", mid,
                         tmpl(MARKET_MAD="one",
                              ENDPOINT="http://127.0.0.1:%d/" % harness.closed_port()), 1)
                    return "deleted" if D.rpc("one.market.delete", mid)[0] is True else "refused"
                finally:
                    gone.set()
            out = []
            for j in range(200):
                out.append(D.rpc("one.marketapp.allocate",
                                 tmpl(NAME="race-del-%d-%d" % (i, j), ORIGIN_ID="1",
                                      TYPE="VMTEMPLATE"), mid))
                if gone.is_set() and out[-1][0] is False:
                    break
            return out

        results = run_threads(5, worker)
        for r in results:
            self.assertNotIsInstance(r, Exception, repr(r))
        self.assertEqual(results[0], "deleted")
        for replies in results[1:]:
            for r in replies:
                if r[0] is False:
                    # Create disabled (now a "one" market) or market gone.
                    self.assertEqual(len(r), 5, r)
                    self.assertTrue(r[1].startswith("[one.marketapp.allocate] "), r)
        # Whatever the interleaving, apps and markets must agree, also
        # after a restart-free settle time for asynchronous deletes.
        time.sleep(0.5 * harness.SLOW)
        check_consistency(self, D)
        self.assertFailure(D.rpc("one.market.info", mid), "one.market.info",
                           NO_EXISTS, resp_id=mid)
        self.assertFalse(D.rpc("one.marketapp.info", seed)[0])
        self.assertNotIn("race-del-", D.ok("one.marketapppool.info", -2, -1, -1),
                         "apps of the deleted market survived")


class Lifecycle(harness.TestCase):

    def test_listens_only_on_listen_address(self):
        # 127.0.0.2 is loopback too: only a daemon bound to 0.0.0.0 answers.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.2", D.port), timeout=2).close()

    def test_no_pid_file_in_the_foreground(self):
        # -f: the caller knows the pid (README, marketd(8)); nothing is
        # written, and nothing is logged about PID_FILE's directory.
        self.assertFalse(os.path.exists(D.pid_path))
        self.assertNotIn("marketd.pid", D.read_log())

    def test_a_setting_given_twice_stops_marketd(self):
        # The second one would be ignored without a word.
        d = harness.Daemon(name="twice", extra_conf='DRIVER_DIR = "/nonexistent"\n')
        self.addCleanup(d.cleanup)
        with self.assertRaises(harness.HarnessError):
            d.start()
        with open(d.stderr_path) as f:
            self.assertIn("DRIVER_DIR is set 2 times; set it once", f.read())

    def test_pid_file_when_daemonized(self):
        d = harness.Daemon(name="daemonized")
        self.addCleanup(d.cleanup)
        d._prepare()
        subprocess.run([d.binary, "-c", d.conf_path], env=d.env(), cwd=d.dir, check=True,
                       stdin=subprocess.DEVNULL, timeout=harness.START_TIMEOUT)
        deadline = time.monotonic() + harness.START_TIMEOUT
        while not os.path.exists(d.pid_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(d.pid_path) as f:
            pid = int(f.read().strip())
        try:
            os.kill(pid, 0)
        finally:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + harness.STOP_TIMEOUT
        while os.path.exists(d.pid_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(d.pid_path), "PID_FILE left after SIGTERM")

    def test_sighup_reopens_log(self):
        self.assertTrue(os.path.exists(D.log_path))
        rotated = D.log_path + ".1"
        os.rename(D.log_path, rotated)
        D.signal(signal.SIGHUP)

        def reopened():
            D.ok("one.system.version")
            D.ok("one.market.info", M)
            return os.path.exists(D.log_path)
        self.wait_for(reopened, timeout=5, what="a new %s after SIGHUP" % D.log_path)
        for _ in range(3):
            D.signal(signal.SIGHUP)
            time.sleep(0.05)
            self.assertTrue(D.alive())
        D.market("after-hup")
        self.assertTrue(D.running())

    def test_restart_keeps_everything(self):
        d = harness.fresh_daemon(self, name="restart")
        g = d.group("rs-group")
        g2 = d.group("rs-group2")
        uid, us = d.user("rs-user", password="rs-pw", groups=[g])
        uid2, _ = d.user("rs-user2")
        m1 = d.market("rs-m1", EXTRA="x")
        m2 = d.market("rs-m2")
        m3 = d.market("rs-m3")
        d.ok("one.market.chmod", m1, *harness.chmod_args("644"))
        d.ok("one.market.chown", m2, uid, g)
        d.ok("one.market.enable", m2, False)
        a1 = d.app("rs-a1", m1, session=us, DESCRIPTION="d1", VERSION="1.0")
        a2 = d.app("rs-a2", m1)
        a3 = d.app("rs-a3", m1)
        d.ok("one.marketapp.lock", a2, 1, False)
        d.ok("one.marketapp.chmod", a1, *harness.chmod_args("640"))
        # Delete the newest of each kind: their ids must not come back.
        d.ok("one.marketapp.delete", a3)
        self.wait_for(lambda: d.rpc("one.marketapp.info", a3)[0] is False, what="app delete")
        d.ok("one.market.delete", m3)
        d.ok("one.user.delete", uid2)
        d.ok("one.group.delete", g2)

        def full():
            snap = snapshot(d)
            snap["info"] = [_VOLATILE.sub("", d.ok("one.market.info", i)) for i in (m1, m2)]
            snap["info"] += [d.ok("one.marketapp.info", i) for i in (a1, a2)]
            snap["info"] += [d.ok("one.user.info", i) for i in (0, uid)]
            snap["info"] += [d.ok("one.group.info", i) for i in (0, 1, g)]
            return snap

        before = full()
        check_consistency(self, d)
        d.restart()                 # SIGTERM, exit status 0, same dir and port
        self.assertEqual(full(), before)
        check_consistency(self, d)
        d.ok("one.user.info", -1, session=us)
        self.assertGreater(d.market("rs-m4"), m3)
        self.assertGreater(d.app("rs-a4", m1), a3)
        self.assertGreater(d.user("rs-user3")[0], uid2)
        self.assertGreater(d.group("rs-group3"), g2)
        # The lock survived: the locked app still refuses MANAGE actions.
        r = d.rpc("one.marketapp.rename", a2, "rs-x")
        harness.assert_failure(r, "one.marketapp.rename", harness.AUTHORIZATION,
                               contains="is locked")
        d.stop()

    def test_crash_keeps_acknowledged_writes(self):
        d = harness.fresh_daemon(self, name="crash")
        m = d.market("crash-m")
        a = d.app("crash-a", m)
        d.ok("one.marketapp.update", a, tmpl(DESCRIPTION="acked"), 1)
        d.kill()                    # SIGKILL: no chance to flush anything
        d.start()
        self.assertEqual(xtext(d.info("market", m), "NAME"), "crash-m")
        self.assertEqual(xtext(d.info("marketapp", a), "DESCRIPTION"), "acked")
        self.assertGreater(d.market("crash-m2"), m)
        d.stop()

    def test_sigterm_while_busy(self):
        d = harness.fresh_daemon(self, name="busy")
        m = d.market("busy-m")
        stop = threading.Event()
        done = []

        def hammer():
            i = 0
            while not stop.is_set():
                try:
                    d.rpc("one.marketapp.allocate",
                          tmpl(NAME="b%d-%d" % (threading.get_ident(), i), ORIGIN_ID="1",
                               TYPE="VMTEMPLATE"), m)
                    done.append(1)
                except Exception:
                    pass
                i += 1

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        try:
            d.stop()                # must still exit 0
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        d.start()
        listed = [int(e.text) for e in d.info("market", m).find("MARKETPLACEAPPS")]
        apps = pool_ids(d.ok("one.marketapppool.info", -2, -1, -1),
                        "MARKETPLACEAPP_POOL", "MARKETPLACEAPP")
        self.assertEqual(sorted(listed), apps, "MARKETPLACEAPPS and the app table disagree")
        d.stop()


if __name__ == "__main__":
    harness.main()
