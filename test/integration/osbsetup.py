"""A marketd on the real osb driver, with the test broker (test/osb_broker.py)
as one of its markets: what the osb integration tests share.

    env = osbsetup.BrokerMarket("e2e-osb")      # broker, daemon, market, plans
    env.plan_app("db/small")                    # the app id of a SMALL plan
    ...
    env.stop()
"""

import os
import sys
import time

import harness
from harness import tmpl, xint, xml, xtext

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import osb_broker  # noqa: E402
from osb_broker import SMALL  # noqa: E402,F401  (re-exported for the tests)

DRIVERS = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
EXTRA_CONF = "MONITORING_INTERVAL_MARKET = 100000\n"


def wait(cond, what, timeout=30):
    """Poll @cond until it returns something true; that is returned."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


class BrokerMarket:
    """The broker (in this process), a daemon on the built drivers, and
    market "broker" (usable by everyone) monitored once."""

    def __init__(self, name, shared_plans=(), driver_dir=DRIVERS):
        self.password = "broker-pw-" + os.urandom(6).hex()
        self.broker = osb_broker.Broker(user="mkt", password=self.password,
                                        async_delay=1.0).start()
        self.daemon = harness.Daemon(name=name, driver_dir=driver_dir,
                                     extra_conf=EXTRA_CONF).start()
        d = self.daemon
        self.market = d.ok("one.market.allocate",
                           tmpl(NAME="broker", MARKET_MAD="osb", BROKER_URL=self.broker.url,
                                BROKER_USERNAME="mkt", BROKER_PASSWORD=self.password))
        d.ok("one.market.chmod", self.market, *harness.chmod_args("644"))
        d.ok("one.market.monitor", self.market)
        wait(lambda: len(self.plans()) >= 5, "the catalog's plans")
        for key in shared_plans:
            d.ok("one.marketapp.chmod", self.plan_app(key), *harness.chmod_args("644"))

    def stop(self):
        harness.stop_module_daemon(self.daemon)
        self.broker.stop()

    def plans(self):
        """{IMPORT_ID: app element} of the broker market."""
        pool = xml(self.daemon.ok("one.marketapppool.info", -2, -1, -1))
        return {xtext(a, "TEMPLATE/IMPORT_ID"): a for a in pool.findall("MARKETPLACEAPP")
                if xint(a, "MARKETPLACE_ID") == self.market}

    def plan_app(self, key):
        """The app id of SMALL's "service/plan"."""
        service, _ = key.split("/")
        return xint(self.plans()["%s:%s" % (SMALL[service], SMALL[key])], "ID")

    def gone(self, kind, oid):
        r = self.daemon.rpc("one.%s.info" % kind, oid)
        return r[0] is False and r[2] == harness.NO_EXISTS
