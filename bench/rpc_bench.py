#!/usr/bin/env python3
"""XML-RPC throughput and latency of a real marketd (a benchmark, not a test).

Starts marketd from $MKT_BUILDDIR (test/integration/harness.py), creates a
marketplace and an app, then drives one.system.version and
one.marketapp.info from RPC_BENCH_CLIENTS (8) keep-alive clients for
RPC_BENCH_SECONDS (10) each, with ab (apache2-utils) when it is installed,
else with Python http.client threads (slower clients: the figures are then
a floor).  Prints one table row per call: requests/s, p50, p99; with ab,
one more row for clients that open a new connection for every call.

    MKT_BUILDDIR=. MKT_SRCDIR=. python3 bench/rpc_bench.py
"""

import sys
sys.dont_write_bytecode = True

import http.client
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import harness  # noqa: E402

CLIENTS = int(os.environ.get("RPC_BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("RPC_BENCH_SECONDS", "10"))


def run_ab(port, body, keep_alive=True):
    """(requests/s, p50 ms, p99 ms, failed) from ab (-k: keep-alive)."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(body)
        f.flush()
        out = subprocess.run(
            ["ab", "-q"] + (["-k"] if keep_alive else []) +
            ["-c", str(CLIENTS), "-t", str(SECONDS), "-n", "10000000",
             "-p", f.name, "-T", "text/xml", "http://127.0.0.1:%d/RPC2" % port],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"^\s+50%\s+(\d+)", out, re.M).group(1))
    p99 = float(re.search(r"^\s+99%\s+(\d+)", out, re.M).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    complete = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    kept = re.search(r"Keep-Alive requests:\s+(\d+)", out)
    kept = int(kept.group(1)) if kept else 0
    if keep_alive and kept < complete * 0.99:
        print("warning: only %d of %d requests reused a connection" % (kept, complete))
    return rps, p50, p99, failed + (int(non2xx.group(1)) if non2xx else 0)


def run_python(port, body, keep_alive=True):
    """The same with keep-alive http.client connections in threads."""
    times, failed = [], []
    deadline = time.monotonic() + SECONDS

    def client():
        mine, bad = [], 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
            resp = conn.getresponse()
            resp.read()
            bad += resp.status != 200
            mine.append(time.monotonic() - t0)
        conn.close()
        times.extend(mine)
        failed.append(bad)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    q = statistics.quantiles(times, n=100)
    return len(times) / elapsed, q[49] * 1000, q[98] * 1000, sum(failed)


def main():
    d = harness.Daemon(name="rpcbench")
    try:
        d.start()
        m = d.market("bench")
        app = d.app("bench-app", m)
        calls = [("one.system.version", xmlrpc.client.dumps((d.session,), "one.system.version")),
                 ("one.marketapp.info",
                  xmlrpc.client.dumps((d.session, app), "one.marketapp.info"))]
        tool = "ab -k" if shutil.which("ab") else "python http.client"
        run = run_ab if shutil.which("ab") else run_python
        print("%d keep-alive clients (%s), %g s per call, marketd from %s"
              % (CLIENTS, tool, SECONDS, harness.BUILDDIR))
        print("%-30s %10s %9s %9s %7s" % ("call", "req/s", "p50 ms", "p99 ms", "failed"))
        for name, body in calls:
            rps, p50, p99, failed = run(d.port, body.encode())
            print("%-30s %10.0f %9.1f %9.1f %7d" % (name, rps, p50, p99, failed))
        if run is run_ab:
            # What clients that open a connection per call (oned's own
            # xmlrpc-c client, scripts) get.
            rps, p50, p99, failed = run_ab(d.port, calls[0][1].encode(), keep_alive=False)
            print("%-30s %10.0f %9.1f %9.1f %7d" % ("one.system.version, no k-a", rps, p50,
                                                   p99, failed))
        d.stop()
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
