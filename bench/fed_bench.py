#!/usr/bin/env python3
"""Federation replication (issue 13's bench; not a test).

A master and two slaves (the real marketd, test/integration/
test_e2e_federation.py's Zone) on loopback:

  burst      BENCH_FED_CHANGES (10 000) app updates on the master, sent
             as fast as 4 clients can (system.multicall of 100): time
             from the first write until both slaves have applied the last
             one (target < 5 s on 2 cores), and the tail after the last
             write returned
  steady     BENCH_FED_RATE (200) changes/s for BENCH_FED_SECONDS (10) s:
             replication lag p50/p99, from the write's reply to the slave's
             FEDLOG_INDEX reaching the master's index after it (each slave
             polled every 2 ms, so figures carry up to 2 ms of that)
  catch-up   slave 2 stopped during BENCH_FED_CATCHUP (50 000) changes,
             then started: time from its start until it has applied them

    MKT_BUILDDIR=. MKT_SRCDIR=. python3 bench/fed_bench.py
"""

import sys
sys.dont_write_bytecode = True

import os
import shutil
import statistics
import tempfile
import threading
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "test"))
import harness  # noqa: E402
import test_e2e_federation as fed  # noqa: E402

CHANGES = int(os.environ.get("BENCH_FED_CHANGES", "10000"))
RATE = float(os.environ.get("BENCH_FED_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_FED_SECONDS", "10"))
CATCHUP = int(os.environ.get("BENCH_FED_CATCHUP", "50000"))
CLIENTS = 4
BATCH = 100


def updates(zone, apps, n, clients=CLIENTS):
    """@n one.marketapp.update calls on @zone, in multicalls of BATCH."""
    per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    errors = []

    def client(k, count):
        proxy = zone.proxy(timeout=120)
        done = 0
        while done < count:
            m = xmlrpc.client.MultiCall(proxy)
            size = min(BATCH, count - done)
            for j in range(size):
                m.one.marketapp.update(zone.session, apps[(k + done + j) % len(apps)],
                                       'BENCH="%d-%d"' % (k, done + j), 1)
            for r in m():
                if not r[0]:
                    errors.append(r[1])
            done += size

    threads = [threading.Thread(target=client, args=(k, c)) for k, c in enumerate(per)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("updates failed: %s" % errors[:3])


def wait_applied(slaves, index, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        if all(s.fedlog_index() >= index for s in slaves):
            return time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit("slaves did not reach index %d" % index)
        time.sleep(0.005)


def burst(m, slaves, apps):
    t0 = time.monotonic()
    updates(m, apps, CHANGES)
    written = time.monotonic()
    done = wait_applied(slaves, m.fedlog_index())
    print("%-44s %9.3f s  (writes took %.3f s, tail %.3f s after the last)"
          % ("burst of %d changes: both slaves applied" % CHANGES, done - t0,
             written - t0, done - written))


def steady(m, slaves, apps):
    samples = []            # (t after the write, master index then)
    seen = {s: [] for s in slaves}       # [(t, index)] as each slave advanced
    stop = threading.Event()

    def watch(s):
        proxy = s.proxy()
        last = -1
        while not stop.is_set():
            idx = int(harness.xml(proxy.one.zone.raftstatus(s.session)[1])
                      .findtext("FEDLOG_INDEX"))
            if idx != last:
                seen[s].append((time.monotonic(), idx))
                last = idx
            time.sleep(0.002)

    watchers = [threading.Thread(target=watch, args=(s,)) for s in slaves]
    for w in watchers:
        w.start()
    proxy = m.proxy()
    t0 = time.monotonic()
    n = int(RATE * SECONDS)
    for i in range(n):
        due = t0 + i / RATE
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        proxy.one.marketapp.update(m.session, apps[i % len(apps)], 'STEADY="%d"' % i, 1)
        after = time.monotonic()
        samples.append((after, int(harness.xml(proxy.one.zone.raftstatus(m.session)[1])
                                   .findtext("FEDLOG_INDEX"))))
    wait_applied(slaves, samples[-1][1])
    time.sleep(0.05)
    stop.set()
    for w in watchers:
        w.join()
    lags = []
    for s in slaves:
        points = seen[s]
        k = 0
        for t, idx in samples:
            while k < len(points) and points[k][1] < idx:
                k += 1
            if k < len(points):
                lags.append(max(0.0, points[k][0] - t) * 1000)
    lags.sort()
    rate = n / (samples[-1][0] - t0)
    print("%-44s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms (%.0f changes/s sent)"
          % ("steady %g changes/s for %g s: lag" % (RATE, SECONDS), statistics.median(lags),
             lags[int(len(lags) * 0.99) - 1], lags[-1], rate))


def catch_up(m, s, apps):
    s.stop()
    t0 = time.monotonic()
    updates(m, apps, CATCHUP)
    written = time.monotonic() - t0
    target = m.fedlog_index()
    t1 = time.monotonic()
    s.start()                 # returns once it serves: it catches up first
    serving = time.monotonic()
    done = wait_applied([s], target)
    print("%-44s %9.3f s  (serving after %.3f s; the %d writes took %.3f s)"
          % ("catch-up of %d changes by a restarted slave" % CATCHUP, done - t1,
             serving - t1, CATCHUP, written))


def main():
    tmp = tempfile.mkdtemp(prefix="mkt-bench-fed-")
    fed.AUTH_FILE = os.path.join(tmp, "server_auth")
    with open(fed.AUTH_FILE, "w") as f:
        f.write("serveradmin:%s\n" % fed.SERVER_SECRET)
    os.chmod(fed.AUTH_FILE, 0o600)
    zones = []
    try:
        m = fed.Zone("bench-fed-master", "MASTER", 0)
        zones.append(m.start())
        for zid in (1, 2):
            zones.append(fed.start_slave("bench-fed-zone%d" % zid, zid, m))
        slaves = zones[1:]
        market = m.market("bench")
        apps = [m.app("bench-%d" % i, market) for i in range(100)]
        wait_applied(slaves, m.fedlog_index())
        burst(m, slaves, apps)
        steady(m, slaves, apps)
        catch_up(m, slaves[1], apps)
    finally:
        for z in reversed(zones):
            z.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
