#!/usr/bin/env python3
"""An Open Service Broker as a marketplace, at scale (issue 12's bench).

The real marketd and osb driver against the test broker (test/osb_broker.py)
on 127.0.0.1:

  catalog          BENCH_OSB_SERVICES x BENCH_OSB_PLANS plans (default
                   1 000 x 5): first monitor pass, and an unchanged one
                   (targets: < 1 s, and 0 rows written)
  provisions       BENCH_OSB_PROVISIONS (default 200) instances allocated at
                   once on plans whose provision is async and takes
                   BENCH_OSB_DELAY (default 2) s: time until the last is
                   READY (target: < 5 s on 2 cores), and how many
                   last_operation calls the broker got (bounded by the
                   polling backoff, not a busy loop)
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("MKT_SRCDIR") or os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("MKT_BUILDDIR") or SRC)
sys.path.insert(0, os.path.join(SRC, "test", "integration"))
sys.path.insert(0, os.path.join(SRC, "test"))
import harness  # noqa: E402
from harness import tmpl, xint, xml, xtext  # noqa: E402
import osb_broker  # noqa: E402

SERVICES = int(os.environ.get("BENCH_OSB_SERVICES", "1000"))
PLANS = int(os.environ.get("BENCH_OSB_PLANS", "5"))
PROVISIONS = int(os.environ.get("BENCH_OSB_PROVISIONS", "200"))
DELAY = float(os.environ.get("BENCH_OSB_DELAY", "2"))
CONF = "MONITORING_INTERVAL_MARKET = 100000\n"
MARKET_MAD = 'WORKERS = "32", TIMEOUT = "600"'


def monitor(d, mid):
    before = d.info("market", mid).find("MONITORING")
    passes = xint(before, "PASSES") if before is not None else 0
    t0 = time.monotonic()
    d.ok("one.market.monitor", mid)
    while True:
        st = d.info("market", mid).find("MONITORING")
        if st is not None and xint(st, "PASSES") > passes and xtext(st, "STATE") != "RUNNING":
            break
        time.sleep(0.02)
    wall = time.monotonic() - t0
    if xtext(st, "STATE") != "DONE":
        raise SystemExit("monitor failed: %s" % xtext(st, "MESSAGE"))
    return st, wall


def main():
    # A process of its own: in this one it would share the interpreter's
    # lock with the client timing the calls.
    broker = osb_broker.BrokerProcess(user="bench", password="bench-pw",
                                      catalog="big:%dx%d" % (SERVICES, PLANS), mode="async",
                                      async_delay=DELAY).start()
    d = harness.Daemon(name="bench-osb", extra_conf=CONF, market_mad=MARKET_MAD,
                       driver_dir=os.path.join(BUILD, "drivers"))
    d.start()
    try:
        mid = d.ok("one.market.allocate", tmpl(NAME="broker", MARKET_MAD="osb",
                                               BROKER_URL=broker.url, BROKER_USERNAME="bench",
                                               BROKER_PASSWORD="bench-pw"))
        print("%-34s %8s %8s %8s %8s" % ("catalog of %dx%d plans" % (SERVICES, PLANS),
                                         "wall s", "apply s", "added", "rows"))
        for name in ("first pass (target < 1 s)", "unchanged (target 0 rows)"):
            st, wall = monitor(d, mid)
            print("%-34s %8.3f %8.3f %8d %8d" % (name, wall, xint(st, "APPLY_MS") / 1000.0,
                                                 xint(st, "APPS_ADDED"),
                                                 xint(st, "ROWS_WRITTEN")))
        pool = xml(d.ok("one.marketapppool.info", -2, -1, -1))
        # Plans whose schema requires no parameter: "{}" is valid for them.
        apps = [xint(a, "ID") for a in pool.findall("MARKETPLACEAPP")
                if xint(a, "MARKETPLACE_ID") == mid and
                '"required"' not in (xtext(a, "TEMPLATE/SCHEMAS") or "")][:PROVISIONS]
        polls0 = broker.last_operation_calls()
        t0 = time.monotonic()
        ids = [d.ok("one.serviceinstance.allocate",
                    tmpl(NAME="bench-%d" % i, APP=str(app), PARAMETERS="{}"))
               for i, app in enumerate(apps)]
        allocated = time.monotonic() - t0
        ready = failed = 0
        while time.monotonic() - t0 < 120:
            pool = xml(d.ok("one.serviceinstancepool.info", -2, -1, -1))
            states = [xint(x, "STATE") for x in pool.findall("SERVICE_INSTANCE")]
            ready = states.count(1)
            failed = states.count(4)
            if ready + failed >= len(ids):
                break
            time.sleep(0.05)
        last = time.monotonic() - t0
        polls = broker.last_operation_calls() - polls0
        print("%-34s %8.3f s allocated, last READY at %.3f s (target < 5 s): "
              "%d READY, %d FAILED; %d last_operation calls (%.1f per instance)"
              % ("%d async provisions of %.0f s" % (len(ids), DELAY), allocated, last,
                 ready, failed, polls, polls / max(1, len(ids))))
        if broker.violations():
            print("broker noticed protocol mistakes: %s" % broker.violations()[:5])
    finally:
        d.cleanup()
        broker.stop()


if __name__ == "__main__":
    main()
