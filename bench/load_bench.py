#!/usr/bin/env python3
"""Load (issue 10's bench; not a test): LOAD_CLIENTS (64) concurrent clients
with keep-alive connections, mixed reads and writes, for LOAD_SECONDS (60),
while LOAD_IDLE (100) idle connections and LOAD_SLOW (20) slow ones (a
request trickled a byte every 100 ms) stay open.

Each client in turn: reads (one.marketapp.info, one.marketpool.info, a
user's one.marketapppool.info), merge-updates its own attribute C<k> of a
shared app with a counter, chmods a market, allocates and deletes an app of
its own.  Checks at the end:
  - no failure but the intended ones (none are expected here);
  - no lost update: each shared app holds every client's last counter;
  - no deadlock: the run ends, marketd still answers.
Prints calls/s and p50/p99 of reads and writes, from 4 processes of 16
threads (Python's clients: the figures are a floor).

    MKT_BUILDDIR=. MKT_SRCDIR=. python3 bench/load_bench.py
"""

import sys
sys.dont_write_bytecode = True

import http.client
import multiprocessing
import os
import random
import socket
import threading
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import harness  # noqa: E402
from harness import tmpl  # noqa: E402

CLIENTS = int(os.environ.get("LOAD_CLIENTS", "64"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
IDLE = int(os.environ.get("LOAD_IDLE", "100"))
SLOW = int(os.environ.get("LOAD_SLOW", "20"))
PROCS = 4
SHARED_APPS = 8


class Client:
    """One keep-alive connection speaking XML-RPC."""

    def __init__(self, port, session):
        self.port = port
        self.session = session
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, *args):
        body = xmlrpc.client.dumps((self.session,) + args, method).encode()
        try:
            self.conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            # The server closed an idle keep-alive connection: once more.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
            resp = self.conn.getresponse()
            data = resp.read()
        return xmlrpc.client.loads(data)[0][0]


def client_loop(k, port, session, setup, deadline, out):
    rng = random.Random(k)
    c = Client(port, session)
    reads, writes, failures = [], [], []
    counters = {}
    market, apps = setup["market"], setup["apps"]
    n = 0

    def timed(bucket, method, *args):
        t0 = time.monotonic()
        r = c.call(method, *args)
        bucket.append(time.monotonic() - t0)
        if not r[0]:
            failures.append("%s: %s" % (method, r[1]))
        return r

    while time.monotonic() < deadline:
        n += 1
        app = apps[rng.randrange(len(apps))]
        timed(reads, "one.marketapp.info", app)
        timed(reads, "one.marketpool.info")
        timed(reads, "one.marketapppool.info", -3, -1, -1)
        if timed(writes, "one.marketapp.update", app, 'C%d="%d"' % (k, n), 1)[0]:
            counters[app] = n
        timed(writes, "one.market.chmod", market, 1, 1, 0, 1, 0, 0, n % 2, 0, 0)
        r = timed(writes, "one.marketapp.allocate",
                  tmpl(NAME="load-%d-%d" % (k, n), TYPE="VMTEMPLATE", ORIGIN_ID="0"), market)
        if r[0]:
            timed(writes, "one.marketapp.delete", r[1])
    out.append((reads, writes, failures, counters, k))


def process_main(first, count, port, session, setup, deadline, queue):
    out = []
    threads = [threading.Thread(target=client_loop,
                                args=(first + i, port, session, setup, deadline, out))
               for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def idle_connections(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    return socks


def slow_client(port, session, deadline, results):
    """A request sent a byte every 100 ms, over and over."""
    body = xmlrpc.client.dumps((session,), "one.system.version").encode()
    head = ("POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)).encode()
    done = cut = 0
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            for i in range(len(head + body)):
                if time.monotonic() > deadline:
                    break
                s.sendall((head + body)[i:i + 1])
                time.sleep(0.1)
            else:
                s.recv(65536)
                done += 1
            s.close()
        except OSError:
            cut += 1        # the server may close a connection this slow
            time.sleep(0.5)
    results.append((done, cut))


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main():
    d = harness.Daemon(name="bench-load")
    d.start()
    try:
        market = d.market("load")
        d.ok("one.market.chmod", market, 1, 1, 0, 1, 0, 0, 1, 0, 0)
        apps = [d.app("shared-%d" % i, market) for i in range(SHARED_APPS)]
        setup = {"market": market, "apps": apps}
        idle = idle_connections(d.port, IDLE)
        deadline = time.monotonic() + SECONDS
        slow_results = []
        slow = [threading.Thread(target=slow_client,
                                 args=(d.port, d.session, deadline, slow_results))
                for _ in range(SLOW)]
        for t in slow:
            t.start()
        queue = multiprocessing.Queue()
        per = CLIENTS // PROCS
        procs = [multiprocessing.Process(target=process_main,
                                         args=(i * per, per, d.port, d.session, setup,
                                               deadline, queue))
                 for i in range(PROCS)]
        t0 = time.monotonic()
        for p in procs:
            p.start()
        results = []
        for _ in procs:
            results += queue.get(timeout=SECONDS + 300)
        for p in procs:
            p.join()
        elapsed = time.monotonic() - t0
        for t in slow:
            t.join()
        alive = d.alive()
        reads = [x for r in results for x in r[0]]
        writes = [x for r in results for x in r[1]]
        failures = [x for r in results for x in r[2]]
        # Each client's last counter on each shared app must be there.
        lost = 0
        for app in apps:
            t = harness.xml(d.ok("one.marketapp.info", app)).find("TEMPLATE")
            for r in results:
                n = r[3].get(app)
                if n is not None and t.findtext("C%d" % r[4]) != str(n):
                    lost += 1
        for s in idle:
            s.close()
        print("%d clients for %.0f s, %d idle and %d slow connections open"
              % (CLIENTS, elapsed, IDLE, SLOW))
        print("%-8s %9s %9s %9s %9s" % ("", "calls", "calls/s", "p50 ms", "p99 ms"))
        for name, v in (("reads", reads), ("writes", writes)):
            print("%-8s %9d %9.0f %9.1f %9.1f" % (name, len(v), len(v) / elapsed, pct(v, 0.5),
                                                  pct(v, 0.99)))
        print("failures %d%s; lost updates %d; marketd %s; slow clients: %d requests "
              "answered, %d connections cut by the server"
              % (len(failures), (" (%s)" % failures[:3]) if failures else "", lost,
                 "answering" if alive else "NOT ANSWERING",
                 sum(r[0] for r in slow_results), sum(r[1] for r in slow_results)))
        if failures or lost or not alive:
            sys.exit(1)
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
