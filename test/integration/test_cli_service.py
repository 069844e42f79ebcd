#!/usr/bin/env python3
"""marketctl's service and binding commands against the real marketd, the
real osb driver ($MKT_BUILDDIR/drivers/osb) and the test broker
(test/osb_broker.py): `service create/list/show/update/delete` with --wait,
--plan by id, name or SERVICE/PLAN, --param and --params, `binding
create/show/list/delete`, the credentials shown to the instance's owner
only, the warning about bindings that expire within a day, and the errors
of bad plans and parameters.  Effects are checked through the API
(xmlrpc.client).

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_cli_service.py
"""

import sys
sys.dont_write_bytecode = True

import json
import os
import re
import time

import harness
from harness import tmpl, xint, xml, xtext

import osbsetup  # noqa: E402
from osbsetup import SMALL, wait  # noqa: E402,F401

READY, FAILED = 1, 4
ID_RE = re.compile(r"^ID: (\d+)\s*$", re.M)
SMALL_PLAN = "fixture-db (small)"      # the app NAME the osb driver gives a plan
LARGE_PLAN = "fixture-db/large"        # its SERVICE_NAME/PLAN_NAME
ASYNC_PLAN = "fixture-db/async"
ENV = None
D = None
B = None
MARKET = None


def setUpModule():
    global ENV, D, B, MARKET
    harness.marketctl_path()
    ENV = osbsetup.BrokerMarket("cli-osb", shared_plans=("db/small", "db/large"))
    D, B, MARKET = ENV.daemon, ENV.broker, ENV.market


def tearDownModule():
    if ENV:
        ENV.stop()


def plan_app(key):
    return ENV.plan_app(key)


def gone(kind, oid):
    return ENV.gone(kind, oid)


def instance(iid):
    return xml(D.ok("one.serviceinstance.info", iid))


def binding(bid, session=None):
    return xml(D.ok("one.servicebinding.info", bid, session=session))


def gone(kind, oid):
    r = D.rpc("one.%s.info" % kind, oid)
    return r[0] is False and r[2] == harness.NO_EXISTS


def write(name, text):
    path = os.path.join(D.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class CLITestCase(harness.TestCase):

    def run_ok(self, *args, **kw):
        p = D.cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "marketctl %s failed (%d)\nstdout: %s\nstderr: %s"
                         % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return p

    def run_fail(self, rc, *args, **kw):
        p = D.cli(*args, **kw)
        self.assertEqual(p.returncode, rc, "marketctl %s: expected exit %d, got %d\n"
                         "stdout: %s\nstderr: %s" % (" ".join(map(str, args)), rc,
                                                     p.returncode, p.stdout, p.stderr))
        return p

    def created_id(self, p):
        m = ID_RE.search(p.stdout)
        self.assertIsNotNone(m, "no 'ID: <n>' line in %r" % p.stdout)
        return int(m.group(1))

    def create(self, name, plan=SMALL_PLAN, *extra, as_user=()):
        p = self.run_ok(*as_user, "service", "create", name, "--plan", plan, "--wait", *extra)
        iid = self.created_id(p)
        self.assertIn("service instance %d: READY" % iid, p.stderr)
        return iid


class Plans(CLITestCase):

    def test_app_list_shows_service_apps(self):
        p = self.run_ok("app", "list", "--market", "broker")
        row = next(line for line in p.stdout.splitlines() if SMALL_PLAN in line)
        self.assertRegex(row, r"\bSERVICE\b")
        p = self.run_ok("app", "show", plan_app("db/small"))
        self.assertRegex(p.stdout, r"(?m)^TYPE\s+: SERVICE$")


class Instances(CLITestCase):

    def test_create_show_list_update_delete(self):
        iid = self.create("cli-db-1", SMALL_PLAN, "--param", "size=S",
                          "--param", "replicas=2", "--param", "backup=true")
        x = instance(iid)
        self.assertEqual(xint(x, "STATE"), READY)
        self.assertEqual(xint(x, "MARKETPLACEAPP_ID"), plan_app("db/small"))
        self.assertEqual(json.loads(xtext(x, "PARAMETERS")),
                         {"size": "S", "replicas": 2, "backup": True})
        uuid = xtext(x, "UUID")
        # What the broker got: the same JSON object.
        self.assertEqual(B.requests(route="provision", iid=uuid)[-1]["body"]["parameters"],
                         {"size": "S", "replicas": 2, "backup": True})

        p = self.run_ok("service", "show", "cli-db-1")
        self.assertRegex(p.stdout, r"(?m)^STATE\s+: READY$")
        self.assertIn(uuid, p.stdout)
        self.assertIn('"replicas": 2', p.stdout)       # PARAMETERS, pretty printed
        p = self.run_ok("service", "list")
        row = next(line for line in p.stdout.splitlines() if "cli-db-1" in line)
        self.assertIn("rdy", row.split())
        data = json.loads(self.run_ok("service", "show", str(iid), "--json").stdout)
        self.assertEqual(data["SERVICE_INSTANCE"]["ID"], str(iid))

        p = self.run_ok("service", "update", "cli-db-1", "--param", "size=M", "--wait")
        self.assertIn("service instance %d: READY" % iid, p.stderr)
        self.assertEqual(json.loads(xtext(instance(iid), "PARAMETERS")), {"size": "M"})
        self.assertTrue(B.requests(route="update", iid=uuid))

        p = self.run_ok("service", "delete", str(iid), "--wait")
        self.assertIn("service instance %d: deleted" % iid, p.stderr)
        self.assertTrue(gone("serviceinstance", iid))
        self.assertTrue(B.requests(route="deprovision", iid=uuid))

    def test_async_plan_prints_each_state(self):
        p = self.run_ok("service", "create", "cli-async-1", "--plan", ASYNC_PLAN, "--wait")
        iid = self.created_id(p)
        self.assertEqual(xint(instance(iid), "STATE"), READY)
        self.assertLess(p.stderr.index("service instance %d: PROVISIONING" % iid),
                        p.stderr.index("service instance %d: READY" % iid))
        p = self.run_ok("service", "delete", "cli-async-1", "--wait")
        self.assertIn("DEPROVISIONING", p.stderr)
        self.assertIn("service instance %d: deleted" % iid, p.stderr)

    def test_plan_by_id_and_params_file(self):
        path = write("params.json", '{"size": "L", "replicas": 1}')
        iid = self.create("cli-db-file", str(plan_app("db/large")), "--params", path,
                          "--param", "replicas=3")
        self.assertEqual(json.loads(xtext(instance(iid), "PARAMETERS")),
                         {"size": "L", "replicas": 3})
        p = self.run_ok("service", "create", "cli-db-stdin", "--plan", LARGE_PLAN,
                        "--params", "-", input='{"size": "M", "name": "x1"}')
        iid2 = self.created_id(p)
        self.assertEqual(json.loads(xtext(instance(iid2), "PARAMETERS")),
                         {"size": "M", "name": "x1"})
        for i in (iid, iid2):
            self.run_ok("service", "delete", str(i), "--wait")

    def test_project(self):
        gid = D.group("cli-proj")
        iid = self.create("cli-db-proj", SMALL_PLAN, "--project", "cli-proj")
        self.assertEqual(xint(instance(iid), "PROJECT"), gid)
        p = self.run_fail(1, "service", "create", "cli-db-noproj", "--plan", SMALL_PLAN,
                          "--project", "no-such-group")
        self.assertIn("no-such-group", p.stderr)
        self.run_ok("service", "delete", str(iid), "--wait")

    def test_failed_provision_exits_1_with_the_error(self):
        B.inject("provision", status=409, count=1)
        p = self.run_fail(1, "service", "create", "cli-db-409", "--plan", SMALL_PLAN, "--wait")
        iid = self.created_id(p)
        x = instance(iid)
        self.assertEqual(xint(x, "STATE"), FAILED)
        self.assertIn("service instance %d is in state FAILED: " % iid, p.stderr)
        self.assertIn(xtext(x, "ERROR"), p.stderr)
        self.run_ok("service", "delete", str(iid), "--wait")

    def test_failed_update_exits_1(self):
        iid = self.create("cli-db-upd", SMALL_PLAN)
        B.inject("update", status=400, count=1)
        p = self.run_fail(1, "service", "update", str(iid), "--param", "size=L", "--wait")
        x = instance(iid)
        self.assertEqual(xint(x, "STATE"), READY)
        self.assertIn("its operation failed: " + xtext(x, "ERROR"), p.stderr)
        self.run_ok("service", "delete", str(iid), "--wait")


class Errors(CLITestCase):

    def test_unknown_plan(self):
        p = self.run_fail(1, "service", "create", "cli-x", "--plan", "no such plan")
        self.assertIn("plan 'no such plan' not found", p.stderr)
        self.assertNotIn("ID:", p.stdout)

    def test_missing_plan_is_a_usage_error(self):
        p = self.run_fail(2, "service", "create", "cli-x")
        self.assertIn("--plan", p.stderr)

    def test_bad_param(self):
        for bad in ("novalue", "=3"):
            with self.subTest(bad=bad):
                p = self.run_fail(2, "service", "create", "cli-x", "--plan", SMALL_PLAN,
                                  "--param", bad)
                self.assertIn("invalid --param '%s': expected KEY=VALUE" % bad, p.stderr)

    def test_bad_params_file(self):
        path = write("list.json", "[1, 2]")
        p = self.run_fail(1, "service", "create", "cli-x", "--plan", SMALL_PLAN,
                          "--params", path)
        self.assertIn("not a JSON object", p.stderr)
        path = write("broken.json", "{size: S")
        p = self.run_fail(1, "service", "create", "cli-x", "--plan", SMALL_PLAN,
                          "--params", path)
        self.assertIn("not JSON", p.stderr)

    def test_params_the_schema_refuses(self):
        before = len(B.requests(route="provision"))
        p = self.run_fail(1, "service", "create", "cli-x", "--plan", SMALL_PLAN,
                          "--param", "size=XL")
        self.assertIn("PARAMETERS", p.stderr)
        self.assertEqual(len(B.requests(route="provision")), before)

    def test_update_needs_something(self):
        p = self.run_fail(2, "service", "update", "0")
        self.assertIn("--plan", p.stderr)


class Bindings(CLITestCase):

    def test_credentials_for_the_owner_only(self):
        _, s_owner = D.user("cli-owner")
        _, s_other = D.user("cli-other")
        owner = ("--user", "cli-owner", "--password", s_owner.split(":", 1)[1])
        other = ("--user", "cli-other", "--password", s_other.split(":", 1)[1])
        iid = self.create("cli-bound", SMALL_PLAN, as_user=owner)
        p = self.run_ok(*owner, "binding", "create", "cli-bound", "--name", "b1",
                        "--param", "role=ro", "--wait")
        bid = self.created_id(p)
        self.assertIn("service binding %d: READY" % bid, p.stderr)
        creds = json.loads(xtext(binding(bid, session=s_owner), "CREDENTIALS"))
        self.assertTrue(creds)

        p = self.run_ok(*owner, "binding", "show", "b1")
        self.assertRegex(p.stdout, r"(?m)^STATE\s+: READY$")
        self.assertRegex(p.stdout, r"(?m)^EXPIRES\s+: never$")
        section = p.stdout.split("\nCREDENTIALS\n", 1)[1]
        text = section.split("\n\n", 1)[0]
        self.assertEqual(json.loads(text), creds)
        self.assertEqual(p.stderr, "")
        data = json.loads(self.run_ok(*owner, "binding", "show", str(bid), "--json").stdout)
        self.assertEqual(json.loads(data["SERVICE_BINDING"]["CREDENTIALS"]), creds)

        # Another user allowed to see the binding does not see its credentials.
        self.run_ok(*owner, "binding", "chmod", str(bid), "604")
        p = self.run_ok(*other, "binding", "show", str(bid))
        self.assertIn("not visible to you", p.stdout)
        for v in creds.values():
            if isinstance(v, str) and len(v) >= 8:
                self.assertNotIn(v, p.stdout)

        p = self.run_ok(*owner, "binding", "list")
        row = next(line for line in p.stdout.splitlines() if " b1 " in line)
        self.assertIn("never", row)
        p = self.run_ok(*owner, "service", "show", str(iid))
        self.assertRegex(p.stdout, r"(?m)^%d$" % bid)

        # Deleting the instance unbinds first.
        p = self.run_ok(*owner, "service", "delete", str(iid), "--wait")
        self.assertIn("service instance %d: deleted" % iid, p.stderr)
        self.assertTrue(gone("servicebinding", bid))

    def test_binding_delete_wait(self):
        iid = self.create("cli-unbind", SMALL_PLAN)
        bid = self.created_id(self.run_ok("binding", "create", str(iid), "--wait"))
        self.assertEqual(xtext(binding(bid), "NAME"), "binding-%d" % bid)
        p = self.run_ok("binding", "delete", str(bid), "--wait")
        self.assertIn("service binding %d: deleted" % bid, p.stderr)
        self.assertTrue(gone("servicebinding", bid))
        self.run_ok("service", "delete", str(iid), "--wait")

    def test_expiry_within_a_day_is_warned(self):
        B.set_binding_expiry(3600, plan_id=SMALL["db/large"])
        try:
            iid = self.create("cli-expiring", LARGE_PLAN, "--param", "size=S")
            bid = self.created_id(self.run_ok("binding", "create", str(iid), "--name",
                                              "soon", "--wait"))
        finally:
            B.set_binding_expiry(None, plan_id=SMALL["db/large"])
        self.assertGreater(xint(binding(bid), "EXPIRES"), time.time() + 3000)
        warning = re.compile(r"warning: service binding %d \(soon\) expires within a day, "
                             r"at .* \(in (1h00m|5\dm)\)" % bid)
        p = self.run_ok("binding", "list")
        self.assertRegex(p.stderr, warning)
        row = next(line for line in p.stdout.splitlines() if " soon " in line)
        self.assertRegex(row, r" !")
        p = self.run_ok("binding", "show", "soon")
        self.assertRegex(p.stderr, warning)
        self.assertRegex(p.stdout, r"(?m)^EXPIRES\s+: .* !$")
        # --json output stays clean JSON; the warning is on stderr.
        p = self.run_ok("binding", "list", "--json")
        json.loads(p.stdout)
        self.assertRegex(p.stderr, warning)
        self.run_ok("service", "delete", str(iid), "--wait")

    def test_bind_a_missing_instance(self):
        p = self.run_fail(1, "binding", "create", "no-such-instance")
        self.assertIn("service instance 'no-such-instance' not found", p.stderr)


class Help(CLITestCase):

    def test_help(self):
        p = self.run_ok("--help")
        for words in ("service create NAME --plan APP", "binding create INSTANCE"):
            self.assertIn(words, p.stdout)
        p = self.run_ok("service", "create", "--help")
        for opt in ("--plan APP", "--project GROUP", "--param KEY=VALUE", "--params FILE|-",
                    "--wait"):
            self.assertIn(opt, p.stdout)
        p = self.run_ok("binding", "--help")
        for verb in ("list", "show", "create", "delete"):
            self.assertIn("binding " + verb, p.stdout)


if __name__ == "__main__":
    harness.main(needs=("marketd", "marketctl"))
