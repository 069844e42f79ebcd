#!/usr/bin/env python3
"""Issue 12 end to end: an Open Service Broker as a marketplace.

The real marketd with the real osb driver ($MKT_BUILDDIR/drivers/osb)
against the test broker (test/osb_broker.py) on 127.0.0.1: the catalog's
plans become SERVICE apps, instances are provisioned (sync and async) and
deprovisioned, bindings hand out credentials to the instance's owner only,
sealed at rest, and OSB's orphan mitigation and a restart in the middle of
an async provision are followed through.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_osb.py
"""

import sys
sys.dont_write_bytecode = True

import json
import os
import sqlite3
import time

import harness
from harness import ALLOCATE, tmpl, xint, xml, xtext

import osbsetup  # noqa: E402
from osbsetup import SMALL, wait  # noqa: E402

READY, FAILED = 1, 4
ENV = None
D = None
B = None
MARKET = None
PASSWORD = None


def setUpModule():
    global ENV, D, B, MARKET, PASSWORD
    ENV = osbsetup.BrokerMarket("e2e-osb")
    D, B, MARKET, PASSWORD = ENV.daemon, ENV.broker, ENV.market, ENV.password


def tearDownModule():
    if ENV:
        ENV.stop()


def plans():
    return ENV.plans()


def plan_app(key):
    return ENV.plan_app(key)


def gone(kind, oid):
    return ENV.gone(kind, oid)


def instance(iid, session=None):
    return xml(D.ok("one.serviceinstance.info", iid, session=session))


def monitor_pass():
    """One whole monitor pass of the broker's market, started now.  A
    trigger while a pass runs is dropped, so each one waits for the end of
    its pass (a slow, e.g. sanitizer, build made 4 triggers 3 passes)."""
    def passes():
        st = xml(D.ok("one.market.info", MARKET)).find("MONITORING")
        if st is None:
            return 0, ""
        return xint(st, "PASSES"), xtext(st, "STATE")
    wait(lambda: passes()[1] != "RUNNING", "the running pass")
    before = passes()[0]
    D.ok("one.market.monitor", MARKET)
    wait(lambda: (lambda n, state: n > before and state != "RUNNING")(*passes()),
         "a monitor pass")


def wait_instance(iid, states, timeout=30):
    return wait(lambda: (lambda x: x if xint(x, "STATE") in states else None)(instance(iid)),
                "instance %d in %s" % (iid, states), timeout)


def gone(kind, oid):
    r = D.rpc("one.%s.info" % kind, oid)
    return r[0] is False and r[2] == harness.NO_EXISTS


def provision(key, name, session=None, **attrs):
    return D.ok("one.serviceinstance.allocate",
                tmpl(NAME=name, APP=str(plan_app(key)), **attrs), session=session)


class Catalog(harness.TestCase):

    def test_plans_are_service_apps(self):
        apps = plans()
        a = apps["%s:%s" % (SMALL["db"], SMALL["db/small"])]
        self.assertEqual(xint(a, "TYPE"), 4)
        self.assertEqual(xint(a, "STATE"), READY)
        self.assertEqual(xtext(a, "TEMPLATE/SERVICE_ID"), SMALL["db"])
        self.assertEqual(xtext(a, "TEMPLATE/PLAN_ID"), SMALL["db/small"])
        self.assertIn("small", xtext(a, "NAME"))
        self.assertTrue(json.loads(xtext(a, "TEMPLATE/SCHEMAS")))

    def test_password_hidden_from_others(self):
        _, s = D.user("osb-peek")
        m = xml(D.ok("one.market.info", MARKET, session=s))
        self.assertEqual(xtext(m, "TEMPLATE/BROKER_PASSWORD"), "****")

    def test_service_apps_not_allocatable(self):
        r = D.rpc("one.marketapp.allocate", tmpl(NAME="fake", TYPE="SERVICE"), MARKET)
        self.assertFailure(r, "one.marketapp.allocate", ALLOCATE, contains="SERVICE")


class Instances(harness.TestCase):

    def test_sync_provision_to_ready_and_deprovision(self):
        iid = provision("db/small", "sync-1")
        x = wait_instance(iid, (READY,))
        uuid = xtext(x, "UUID")
        self.assertTrue(B.requests(route="provision", iid=uuid))
        D.ok("one.serviceinstance.delete", iid)
        wait(lambda: gone("serviceinstance", iid), "the instance dropped")
        self.assertTrue(B.requests(route="deprovision", iid=uuid))

    def test_async_provision_polls_to_ready(self):
        iid = provision("db/async", "async-1")
        x = wait_instance(iid, (READY,), timeout=40)
        uuid = xtext(x, "UUID")
        self.assertTrue(B.requests(route="instance_last_operation", iid=uuid))
        self.assertEqual(B.violations(), [])

    def test_parameters_refused_before_any_broker_call(self):
        before = len(B.requests(route="provision"))
        r = D.rpc("one.serviceinstance.allocate",
                  tmpl(NAME="badparams", APP=str(plan_app("db/small")),
                       PARAMETERS='{"size": "not a number", "unknown": 1}'))
        self.assertIs(r[0], False)
        self.assertIn("PARAMETERS", r[1])
        self.assertEqual(len(B.requests(route="provision")), before)

    def test_orphan_mitigation_after_a_500(self):
        B.inject("provision", status=500, count=1)
        iid = provision("db/small", "orphan-1")
        x = wait_instance(iid, (FAILED,))
        uuid = xtext(x, "UUID")
        wait(lambda: B.requests(route="deprovision", iid=uuid), "the orphan mitigation DELETE")
        wait(lambda: xtext(instance(iid), "OPERATION_KIND") == "", "mitigation to end")
        # Nothing left at the broker: the user's delete drops it at once.
        n = len(B.requests(route="deprovision", iid=uuid))
        D.ok("one.serviceinstance.delete", iid)
        self.assertTrue(gone("serviceinstance", iid))
        self.assertEqual(len(B.requests(route="deprovision", iid=uuid)), n)

    def test_a_refusal_is_no_orphan(self):
        B.inject("provision", status=409, count=1)
        iid = provision("db/small", "conflict-1")
        x = wait_instance(iid, (FAILED,))
        self.assertIn("409", xtext(x, "ERROR"))
        time.sleep(1)
        self.assertFalse(B.requests(route="deprovision", iid=xtext(x, "UUID")))


class Lifecycle(harness.TestCase):

    def test_plan_update_to_another_plan(self):
        iid = provision("db/small", "upd-1")
        wait_instance(iid, (READY,))
        D.ok("one.serviceinstance.update", iid,
             tmpl(PLAN=str(plan_app("db/large")), PARAMETERS='{"size": "M"}'))
        x = wait(lambda: (lambda x: x if xint(x, "STATE") == READY and
                          xint(x, "MARKETPLACEAPP_ID") == plan_app("db/large") else None)(
            instance(iid)), "the update")
        self.assertEqual(xtext(x, "PLAN_ID"), SMALL["db/large"])
        patch = B.requests(route="update", iid=xtext(x, "UUID"))[-1]
        self.assertEqual(patch["body"]["plan_id"], SMALL["db/large"])
        self.assertEqual(patch["body"]["parameters"], {"size": "M"})

    def test_update_of_a_non_updateable_plan_refused(self):
        r = D.rpc("one.serviceinstance.update", 99999, 'PARAMETERS="{}"')
        self.assertIs(r[0], False)

    def test_export_of_a_service_app_provisions(self):
        iid = D.ok("one.marketapp.export", plan_app("db/small"), 1, "exported-1")
        x = wait_instance(iid, (READY,))
        self.assertEqual(xtext(x, "NAME"), "exported-1")

    def test_deprovision_while_provisioning(self):
        B.set_delay(30, plan_id=SMALL["db/async"], op="provision")
        try:
            iid = provision("db/async", "early-delete")
            wait(lambda: xint(instance(iid), "OPERATION_ASYNC") == 1, "the 202")
            D.ok("one.serviceinstance.delete", iid)
            wait(lambda: gone("serviceinstance", iid), "the instance dropped", timeout=40)
            self.assertEqual(B.violations(), [])
        finally:
            B.set_delay(1.0, plan_id=SMALL["db/async"], op="provision")

    def test_broker_down(self):
        B.down()
        try:
            iid = provision("db/small", "down-1")
            x = wait_instance(iid, (FAILED,))
            self.assertRegex(xtext(x, "ERROR"), r"(?i)connect|refused")
            self.assertEqual(xtext(x, "OPERATION_KIND"), "")
        finally:
            B.up()
        D.ok("one.serviceinstance.delete", iid)
        self.assertTrue(gone("serviceinstance", iid))

    def test_plan_gone_from_catalog_kept_while_instances_remain(self):
        app = plan_app("db/large")
        iid = provision("db/large", "keeper-1", PARAMETERS='{"size": "S"}')
        wait_instance(iid, (READY,))
        plan = next(p for sv in B.get_catalog()["services"] for p in sv["plans"]
                    if p["id"] == SMALL["db/large"])
        B.remove_plan(SMALL["db/large"])
        try:
            for _ in range(4):
                monitor_pass()
            a = wait(lambda: (lambda r: xml(r[1]) if r[0] else None)(
                D.rpc("one.marketapp.info", app)), "the plan app")
            self.assertEqual(xint(a, "STATE"), 4)           # DISABLED, still there
            r = D.rpc("one.serviceinstance.allocate", tmpl(NAME="late", APP=str(app)))
            self.assertIs(r[0], False)
        finally:
            B.add_plan(SMALL["db"], plan)
            monitor_pass()
        wait(lambda: xint(xml(D.ok("one.marketapp.info", app)), "STATE") == READY,
             "the plan back in the catalog")


class Bindings(harness.TestCase):

    def test_credentials_for_the_owner_only_and_sealed(self):
        uid, s = D.user("osb-owner")
        _, other = D.user("osb-other")
        D.ok("one.marketapp.chmod", plan_app("db/small"), *harness.chmod_args("644"))
        iid = provision("db/small", "bound-1", session=s)
        wait_instance(iid, (READY,))
        bid = D.ok("one.servicebinding.allocate", iid, 'NAME="b1"', session=s)
        b = wait(lambda: (lambda x: x if xint(x, "STATE") == 1 else None)(
            xml(D.ok("one.servicebinding.info", bid, session=s))), "the binding READY")
        creds = json.loads(xtext(b, "CREDENTIALS"))
        self.assertTrue(creds)
        # Another user allowed to USE it sees the binding, not its credentials.
        D.ok("one.servicebinding.chmod", bid, *harness.chmod_args("604"), session=s)
        ob = xml(D.ok("one.servicebinding.info", bid, session=other))
        self.assertIsNone(ob.find("CREDENTIALS"))
        # Nowhere in clear: not in the database file, not in the log.
        secret = json.dumps(creds)[1:-1]
        value = next(v for v in creds.values() if isinstance(v, str) and len(v) >= 8)
        for path in (os.path.join(D.data_dir, "marketd.db"), D.log_path):
            with open(path, "rb") as f:
                data = f.read()
            self.assertNotIn(value.encode(), data, path)
            self.assertNotIn(PASSWORD.encode(), data, path)
        del secret
        # Deleting the instance unbinds first, then deprovisions.
        D.ok("one.serviceinstance.delete", iid, session=s)
        wait(lambda: gone("serviceinstance", iid), "the instance dropped", timeout=40)
        self.assertTrue(gone("servicebinding", bid))
        unb = B.requests(route="unbind")
        dep = B.requests(route="deprovision")
        self.assertTrue(unb and dep)
        self.assertEqual(B.violations(), [])

    def test_failed_unbind_holds_the_deprovision_until_retried(self):
        iid = provision("db/small", "stuck-1")
        wait_instance(iid, (READY,))
        bid = D.ok("one.servicebinding.allocate", iid, "")
        wait(lambda: xint(xml(D.ok("one.servicebinding.info", bid)), "STATE") == 1, "READY")
        B.inject("unbind", status=500, count=1)
        D.ok("one.serviceinstance.delete", iid)
        b = wait(lambda: (lambda x: x if xint(x, "STATE") == 3 else None)(
            xml(D.ok("one.servicebinding.info", bid))), "the unbind FAILED")
        self.assertIn("500", xtext(b, "ERROR"))
        self.assertEqual(xint(instance(iid), "STATE"), 3)      # waits for it
        uuid = xtext(instance(iid), "UUID")
        self.assertFalse(B.requests(route="deprovision", iid=uuid))
        D.ok("one.serviceinstance.delete", iid)                # tries again
        wait(lambda: gone("serviceinstance", iid), "the instance dropped")
        self.assertTrue(gone("servicebinding", bid))
        self.assertEqual(B.violations(), [])

    def test_sensitive_credentials_shown_once(self):
        iid = provision("vault/expiring", "vault-1")
        wait_instance(iid, (READY,))
        bid = D.ok("one.servicebinding.allocate", iid, "")
        first = wait(lambda: (lambda x: x if xint(x, "STATE") == 1 else None)(
            xml(D.ok("one.servicebinding.info", bid))), "the binding READY")
        self.assertEqual(xint(first, "SENSITIVE"), 1)
        self.assertTrue(json.loads(xtext(first, "CREDENTIALS")))
        again = xml(D.ok("one.servicebinding.info", bid))
        self.assertIsNone(again.find("CREDENTIALS"))
        # Never stored, not even sealed.
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(D.data_dir, "marketd.db"),
                             uri=True)
        try:
            body = db.execute("SELECT body FROM servicebinding_pool WHERE oid = ?",
                              (bid,)).fetchone()[0]
        finally:
            db.close()
        self.assertIn("<SEALED_CREDENTIALS></SEALED_CREDENTIALS>", body)

    def test_short_expiry_unbinds_at_the_broker(self):
        # Only this plan's bindings expire (the bind runs after allocate
        # returns, so the switch must outlive the call).
        B.set_binding_expiry(2, plan_id=SMALL["db/large"])
        iid = provision("db/large", "expiring-1")
        wait_instance(iid, (READY,))
        bid = D.ok("one.servicebinding.allocate", iid, "")
        b = wait(lambda: (lambda x: x if xint(x, "STATE") == 1 else None)(
            xml(D.ok("one.servicebinding.info", bid))), "the binding READY")
        self.assertGreater(xint(b, "EXPIRES"), 0)
        wait(lambda: gone("servicebinding", bid), "the expired binding gone", timeout=30)
        self.assertRegex(D.read_log(), r"service binding %d .*expired" % bid)


class Restart(harness.TestCase):

    def test_sigkill_during_async_provision_then_resume(self):
        B.set_delay(4, plan_id=SMALL["db/async"])
        try:
            iid = provision("db/async", "killed-1")
            wait(lambda: xint(instance(iid), "OPERATION_ASYNC") == 1, "the 202")
            D.kill()
            D.start()
            x = wait_instance(iid, (READY,), timeout=40)
            self.assertEqual(xtext(x, "OPERATION_KIND"), "")
        finally:
            B.set_delay(1.0, plan_id=SMALL["db/async"])


if __name__ == "__main__":
    harness.main()
