#!/usr/bin/env python3
"""The HTTP front end and login throttling of a real marketd.

Idle and slow clients must not starve a legitimate call; the front end
answers 404/405/413 itself and keeps connections alive; a storm of wrong
passwords must not stall other users, and every failed call of a
system.multicall counts towards the back-off.

Timing bounds here are "not starved" checks, generous for a loaded 2-core
machine; throughput figures belong to bench/rpc_bench.py."""

import sys
sys.dont_write_bytecode = True

import http.client
import socket
import statistics
import threading
import time
import xmlrpc.client

import harness
from harness import AUTHENTICATION

D = None


def setUpModule():
    global D
    D = harness.module_daemon(name="front")


def tearDownModule():
    harness.stop_module_daemon(D)


def raw_request(d, method, path, body=b"", headers=(), timeout=30):
    """One request on a fresh connection; returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        if body or method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except OSError:
                pass        # the server may answer and close before the end
        resp = conn.getresponse()
        try:
            data = resp.read()
        except (ConnectionResetError, http.client.IncompleteRead):
            data = b""
        return resp.status, resp, data
    finally:
        conn.close()


def version_call(session):
    return xmlrpc.client.dumps((session,), "one.system.version").encode()


class Connections(harness.TestCase):

    IDLE = 100
    SLOW = 20

    def test_idle_and_slow_clients_do_not_starve_a_call(self):
        socks = []
        stop = threading.Event()

        def trickle(s):
            # Headers announce a body that comes one byte a second.
            try:
                s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                          b"Content-Length: 100000\r\n\r\n")
                while not stop.wait(1):
                    s.sendall(b"<")
            except OSError:
                pass

        threads = []
        try:
            for _ in range(self.IDLE):
                socks.append(socket.create_connection(("127.0.0.1", D.port), timeout=5))
            for _ in range(self.SLOW):
                s = socket.create_connection(("127.0.0.1", D.port), timeout=5)
                socks.append(s)
                t = threading.Thread(target=trickle, args=(s,), daemon=True)
                t.start()
                threads.append(t)
            time.sleep(0.5)
            for i in range(3):
                t0 = time.monotonic()
                try:
                    r = D._call("one.system.version", (D.session,), timeout=10)
                except (OSError, http.client.HTTPException) as e:
                    self.fail("a call behind %d idle and %d slow connections failed: %r"
                              % (self.IDLE, self.SLOW, e))
                elapsed = time.monotonic() - t0
                self.assertIs(r[0], True)
                self.assertLess(elapsed, 2.0, "call %d waited %.1f s behind idle and slow "
                                "connections" % (i, elapsed))
        finally:
            stop.set()
            for s in socks:
                s.close()
            for t in threads:
                t.join(5)
        self.assertTrue(D.alive())

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", D.port, timeout=10)
        try:
            ports = set()
            for _ in range(20):
                conn.request("POST", "/RPC2", version_call(D.session),
                             {"Content-Type": "text/xml"})
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                reply = xmlrpc.client.loads(resp.read())[0][0]
                self.assertIs(reply[0], True)
                ports.add(conn.sock.getsockname()[1])
            self.assertEqual(len(ports), 1, "each call used a new connection")
        finally:
            conn.close()

    def test_oversized_body_413(self):
        status, _, _ = raw_request(D, "POST", "/RPC2", b"<" * (3 * 1024 * 1024),
                                   [("Content-Type", "text/xml")])
        self.assertEqual(status, 413)

    def test_oversized_chunked_body_413(self):
        sock = socket.create_connection(("127.0.0.1", D.port), timeout=30)
        try:
            sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"<" * 65536)
            try:
                for _ in range(40):         # 2.5 MiB
                    sock.sendall(chunk)
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass
            head = sock.recv(4096)
            self.assertTrue(head.startswith(b"HTTP/1.1 413"), head[:100])
        finally:
            sock.close()

    def test_body_at_the_limit_is_read(self):
        # Just under 2 MiB: read and answered with a fault, not a 413.
        body = b"<methodCall>" + b" " * (2 * 1024 * 1024 - 100) + b"</methodCall>"
        status, _, data = raw_request(D, "POST", "/RPC2", body, [("Content-Type", "text/xml")])
        self.assertEqual(status, 200)
        with self.assertRaises(xmlrpc.client.Fault):
            xmlrpc.client.loads(data)

    def test_other_paths_404(self):
        for method, path in (("POST", "/"), ("POST", "/RPC3"), ("GET", "/"),
                             ("GET", "/index.html"), ("POST", "/RPC2/x")):
            with self.subTest(method=method, path=path):
                status, _, _ = raw_request(D, method, path, b"x" if method == "POST" else b"")
                self.assertEqual(status, 404)

    def test_other_methods_405(self):
        for method in ("GET", "PUT", "DELETE"):
            with self.subTest(method=method):
                status, resp, _ = raw_request(D, method, "/RPC2")
                self.assertEqual(status, 405)
                self.assertEqual(resp.getheader("Allow"), "POST")

    def test_multicall_and_list_methods(self):
        with D.proxy() as p:
            names = p.system.listMethods()
            self.assertIn("one.marketapp.info", names)
            self.assertIn("system.multicall", names)
            out = p.system.multicall([
                {"methodName": "one.system.version", "params": [D.session]},
                {"methodName": "one.user.info", "params": [D.session, -1]},
            ])
        self.assertEqual(len(out), 2)
        self.assertIs(out[0][0][0], True)
        self.assertIs(out[1][0][0], True)


def auth_failure(reply):
    return isinstance(reply, list) and reply[0] is False and reply[2] == AUTHENTICATION


class LoginThrottling(harness.TestCase):

    def test_wrong_password_storm_does_not_stall_others(self):
        d = harness.fresh_daemon(self, name="storm")
        d.user("victim")
        _, bystander = d.user("bystander")
        d.ok("one.user.info", -1, session=bystander)   # its session is now known
        stop = threading.Event()
        guesses = []

        def guess(n):
            i = 0
            with d.proxy(timeout=30) as p:
                while not stop.is_set():
                    try:
                        r = p.one.system.version("victim:guess-%d-%d" % (n, i))
                        guesses.append(auth_failure(r))
                    except (OSError, http.client.HTTPException):
                        guesses.append(None)
                    i += 1

        threads = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(8)]
        for t in threads:
            t.start()
        times = []
        try:
            time.sleep(0.5)
            # At least 20 calls, and as many as it takes for the storm to
            # be well under way (a loaded machine hashes the first guesses
            # slowly).
            deadline = time.monotonic() + 20
            with d.proxy(timeout=30) as p:
                while len(times) < 20 or (len(guesses) < 40 and time.monotonic() < deadline):
                    t0 = time.monotonic()
                    r = p.one.user.info(bystander, -1)
                    times.append(time.monotonic() - t0)
                    self.assertIs(r[0], True, r)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreaterEqual(len(guesses), 40)
        self.assertTrue(all(g is True for g in guesses), "a guess was not refused cleanly")
        self.assertLess(statistics.median(times), 0.25,
                        "another user's calls took %s s during the storm"
                        % ["%.2f" % t for t in times])
        # The median says whether the storm stalls others (0.52 s when
        # hashing held the core lock); one slow call is the machine's (2.06 s
        # once under ASan with both cores busy), a caller queued behind the
        # storm would wait far longer.
        self.assertLess(max(times), 5.0, "a call of another user took %.2f s" % max(times))
        log = d.read_log()
        lines = [l for l in log.splitlines() if "failed login" in l]
        self.assertGreater(len(lines), 0, "failed logins are not logged")
        self.assertLess(len(lines), len(guesses) / 4, "every failed login was logged")

    def test_multicall_guesses_each_count(self):
        d = harness.fresh_daemon(self, name="multicall")
        _, session = d.user("target", password="Right-Password-1")
        calls = [{"methodName": "one.system.version", "params": ["target:wrong-%d" % i]}
                 for i in range(50)]
        with d.proxy(timeout=60) as p:
            out = p.system.multicall(calls)
        self.assertEqual(len(out), 50)
        for r in out:
            self.assertTrue(auth_failure(r[0]), r)
        # 50 failures: the right password is now turned down too, with the
        # same answer as a wrong one...
        r = d.rpc("one.user.info", -1, session=session)
        self.assertTrue(auth_failure(r), "the right password was checked right after "
                        "50 failed guesses in one multicall: %r" % (r,))
        # ...while oneadmin, whose session is known, is not affected.
        self.assertIs(d.rpc("one.system.version")[0], True)

    def test_few_failures_do_not_lock_out(self):
        d = harness.fresh_daemon(self, name="fewfail")
        _, session = d.user("clumsy")
        for i in range(3):
            self.assertTrue(auth_failure(d.rpc("one.user.info", -1,
                                               session="clumsy:typo-%d" % i)))
        self.assertIs(d.rpc("one.user.info", -1, session=session)[0], True)


if __name__ == "__main__":
    harness.main()
