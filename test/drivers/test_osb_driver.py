"""Tests of the osb market driver (an Open Service Broker, OSB API v2.17).

Starts the test broker (test/osb_broker.py) in this process on 127.0.0.1
and runs the built driver ($MKT_BUILDDIR/drivers/osb) the way marketd does
(through the conformance kit's Runner: the document on stdin, "-" as
argv[1] because BROKER_PASSWORD is a secret):
  - monitor: APP lines decoded and checked (names, ids, YES/NO flags, JSON
    attributes), byte-identical output, skipped plans, failures;
  - provision, update, deprovision, bind, unbind, last_operation, sync and
    async, Retry-After, failed operations, 410 Gone;
  - every row of the spec's orphan-mitigation table (exit 4) and the
    refusals (exit 1), for provision and bind; deletes and updates never 4;
  - the headers the broker received; BROKER_PASSWORD nowhere in stdout,
    stderr or argv;
  - the conformance kit with monitor and the service actions.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. python3 test/drivers/test_osb_driver.py -v
Environment knobs:
    MKT_BUILDDIR, MKT_SRCDIR   build and source trees (set by make check)
    MKT_TEST_WRAPPER=valgrind  run the driver under valgrind
    MKT_TEST_KEEP=1            keep the temporary directory
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import osb_broker  # noqa: E402
import test_http_driver as base  # noqa: E402  (valgrind and sanitizer settings)

kit = base.kit
BUILDDIR = base.BUILDDIR
OSB_DIR = os.path.join(BUILDDIR, "drivers", "osb")
SLOW = base.SLOW
USER = "broker-user"
PASSWORD = "Pw-9f3a7c1e-do-not-print"
S = osb_broker.SMALL
ALL_ACTIONS = ("monitor",) + kit.SERVICE_ACTIONS
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "ALL_PROXY", "all_proxy")
MARKET_ID = 7
APP_ID = 42


def decode_template(b64):
    return kit.parse_template_text(base64.b64decode(b64, validate=True).decode("utf-8"))


def result(run):
    return dict(kit.parse_result(run.stdout))


class OsbDriverTest(unittest.TestCase):

    wrapper = base.VALGRIND if base.WRAPPER == "valgrind" else None

    @classmethod
    def setUpClass(cls):
        if not os.access(os.path.join(OSB_DIR, "provision"), os.X_OK):
            raise RuntimeError("%s/provision is missing: build first (make)" % OSB_DIR)
        cls.saved_env = {k: os.environ.pop(k) for k in PROXY_VARS if k in os.environ}
        cls.tmp = tempfile.mkdtemp(prefix="mkt-osb-test-")
        # Every argv a driver got, through a wrapper that logs it.
        cls.argv_log = os.path.join(cls.tmp, "argv.log")
        wrapper = os.path.join(cls.tmp, "argv-wrapper")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s'\nexec \"$@\"\n" % cls.argv_log)
        os.chmod(wrapper, 0o755)
        cls.broker = osb_broker.Broker(user=USER, password=PASSWORD, async_delay=0.5).start()
        cls.runner = kit.Runner(OSB_DIR, timeout=60 * SLOW,
                                wrapper=wrapper + (" " + cls.wrapper if cls.wrapper else ""),
                                pass_env=base.SANITIZER_ENV,
                                scratch=os.path.join(cls.tmp, "scratch"))
        os.makedirs(cls.runner.scratch)
        cls.outputs = []

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        os.environ.update(cls.saved_env)
        if os.environ.get("MKT_TEST_KEEP"):
            print("kept %s" % cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.broker.reset()
        self.seq = 0

    def tearDown(self):
        self.assertEqual(self.broker.violations(), [], "the broker saw protocol mistakes")

    # -- helpers -------------------------------------------------------------------

    def market_attrs(self, **over):
        attrs = {"BROKER_URL": self.broker.url + "/", "BROKER_USERNAME": USER,
                 "BROKER_PASSWORD": PASSWORD}
        attrs.update(over)
        return [(k, v) for k, v in attrs.items() if v is not None]

    def market(self, **over):
        return kit.market_xml(MARKET_ID, "osb", self.market_attrs(**over))

    def run_action(self, action, doc, obj_id=APP_ID, arg=None):
        run = self.runner.run(action, doc, obj_id, arg)
        self.outputs.append(run.stdout + run.stderr)
        self.assertFalse(run.timed_out, run.describe())
        self.assertEqual(run.stray, [], "no process left behind")
        return run

    def monitor(self, **over):
        return self.run_action("monitor", kit.action_document("monitor", self.market(**over)),
                               MARKET_ID)

    def app(self, plan="db/small", retrievable=True, extra=()):
        service = S[plan.split("/")[0]]
        attrs = [("BINDINGS_RETRIEVABLE", "YES" if retrievable else "NO")] + list(extra)
        return kit.service_app_xml(APP_ID, MARKET_ID, service, S[plan], attrs)

    def doc(self, action, plan="db/small", iid="inst-1", bid=None, market=None, app=None,
            **kw):
        return kit.service_document(action, market or self.market(), app or self.app(plan),
                                    iid, request_id=kw.pop("request_id", "req-%s" % action),
                                    uid=kw.pop("uid", 5), uname=kw.pop("uname", "alice"),
                                    project=kw.pop("project", "100"), binding_uuid=bid, **kw)

    def act(self, action, status=0, **kw):
        run = self.run_action(action, self.doc(action, **kw))
        self.assertEqual(run.status, status, run.describe())
        if status == 0:
            self.assertEqual(run.errors, [], run.stderr)
            return result(run)
        self.assertEqual(run.stdout, "", "nothing on stdout when failing")
        self.assertEqual(len(run.errors), 1, run.stderr)
        return run

    def provision(self, plan="db/small", iid="inst-1", **kw):
        return self.act("provision", plan=plan, iid=iid, **kw)

    def bind(self, plan="db/small", iid="inst-1", bid="bind-1", **kw):
        return self.act("bind", plan=plan, iid=iid, bid=bid, **kw)

    def poll(self, kind, plan="db/small", iid="inst-1", bid=None, status=0, **kw):
        return self.act("last_operation", plan=plan, iid=iid, bid=bid, kind=kind,
                        status=status, **kw)

    def poll_until_done(self, kind, **kw):
        for _ in range(40):
            r = self.poll(kind, **kw)
            if r["STATE"] != "in progress":
                return r
            time.sleep(float(r.get("RETRY_AFTER", "0.2")) or 0.2)
        self.fail("%s still in progress" % kind)

    # -- monitor ---------------------------------------------------------------------

    def apps(self, run):
        attrs = kit.parse_result(run.stdout)
        self.assertEqual([k for k, _ in attrs if k != "APP"], ["CATALOG_DIGEST"],
                         "monitor prints its catalog's digest and APP lines only")
        return [decode_template(v) for k, v in attrs if k == "APP"]

    @staticmethod
    def app_lines(run):
        return [line for line in run.stdout.splitlines() if line.startswith("APP=")]

    def test_monitor_apps(self):
        run = self.monitor()
        self.assertEqual(run.status, 0, run.describe())
        apps = self.apps(run)
        self.assertEqual([dict(a)["NAME"] for a in apps], [
            "fixture-db (small)", "fixture-db (large)", "fixture-db (async)",
            "fixture-vault (expiring)", "fixture-vault (nobind)", "fixture-queue (basic)"])
        small = apps[0]
        self.assertEqual([k for k, _ in small], [
            "NAME", "IMPORT_ID", "TYPE", "ORIGIN_ID", "SIZE", "DESCRIPTION", "VERSION",
            "SERVICE_ID", "SERVICE_NAME", "SERVICE_DESCRIPTION", "PLAN_ID", "PLAN_NAME",
            "FREE", "BINDABLE", "PLAN_UPDATEABLE", "BINDING_ROTATABLE",
            "INSTANCES_RETRIEVABLE", "BINDINGS_RETRIEVABLE", "SENSITIVE", "TAGS",
            "DISPLAY_NAME", "SCHEMAS", "MAINTENANCE_INFO", "METADATA"])
        a = dict(small)
        self.assertEqual(a["IMPORT_ID"], "%s:%s" % (S["db"], S["db/small"]))
        self.assertEqual((a["TYPE"], a["ORIGIN_ID"], a["SIZE"]), ("SERVICE", "-1", "0"))
        self.assertEqual(a["DESCRIPTION"], "Plan small of fixture-db")
        self.assertEqual(a["VERSION"], "1.0.0")
        self.assertEqual((a["SERVICE_ID"], a["PLAN_ID"]), (S["db"], S["db/small"]))
        self.assertEqual(a["TAGS"], "sql, fixture")
        self.assertEqual(a["DISPLAY_NAME"], "Small")
        self.assertEqual(json.loads(a["MAINTENANCE_INFO"]),
                         {"version": "1.0.0", "description": "release 1.0"})
        catalog = self.broker.get_catalog()
        plan = catalog["services"][0]["plans"][0]
        self.assertEqual(json.loads(a["SCHEMAS"]), plan["schemas"])
        self.assertEqual(json.loads(a["METADATA"]), plan["metadata"])
        flags = lambda app: {k: dict(app)[k] for k in (  # noqa: E731
            "FREE", "BINDABLE", "PLAN_UPDATEABLE", "BINDING_ROTATABLE",
            "INSTANCES_RETRIEVABLE", "BINDINGS_RETRIEVABLE", "SENSITIVE")}
        self.assertEqual(flags(small), {
            "FREE": "YES", "BINDABLE": "YES", "PLAN_UPDATEABLE": "YES", "BINDING_ROTATABLE": "NO",
            "INSTANCES_RETRIEVABLE": "YES", "BINDINGS_RETRIEVABLE": "YES", "SENSITIVE": "NO"})
        large = dict(apps[1])
        self.assertEqual(large["FREE"], "NO")
        self.assertEqual(json.loads(large["COSTS"]), catalog["services"][0]["plans"][1]
                         ["metadata"]["costs"])
        self.assertEqual(dict(apps[2])["MAXIMUM_POLLING_DURATION"], "600")
        expiring = dict(apps[3])
        self.assertEqual(flags(apps[3]), {
            "FREE": "YES", "BINDABLE": "YES", "PLAN_UPDATEABLE": "NO", "BINDING_ROTATABLE": "YES",
            "INSTANCES_RETRIEVABLE": "YES", "BINDINGS_RETRIEVABLE": "NO", "SENSITIVE": "YES"})
        self.assertEqual(expiring["EXPIRY_DAYS"], "1")
        self.assertEqual(dict(apps[4])["BINDABLE"], "NO", "the plan's bindable wins")
        queue = dict(apps[5])
        self.assertEqual((queue["BINDABLE"], queue["VERSION"]), ("NO", "2.0.0"))

    def test_monitor_deterministic(self):
        first = self.monitor()
        self.assertEqual(first.status, 0, first.describe())
        self.assertEqual(self.monitor().stdout, first.stdout, "same catalog, same bytes")

        def reverse(v):
            if isinstance(v, dict):
                return {k: reverse(v[k]) for k in reversed(list(v))}
            if isinstance(v, list):
                return [reverse(e) for e in v]
            return v
        self.broker.set_catalog(reverse(self.broker.get_catalog()))
        self.assertEqual(self.app_lines(self.monitor()), self.app_lines(first),
                         "members reordered in every object: the same APP lines")

    def test_monitor_catalog_digest(self):
        def digest_of(run):
            return dict(kit.parse_result(run.stdout)).get("CATALOG_DIGEST")

        def monitor_sending(digest):
            doc = kit.action_document("monitor", self.market(),
                                      extra="<CATALOG_DIGEST>%s</CATALOG_DIGEST>" % digest)
            run = self.run_action("monitor", doc, MARKET_ID)
            self.assertEqual(run.status, 0, run.describe())
            return run

        first = self.monitor()
        digest = digest_of(first)
        self.assertRegex(digest, r"^[0-9a-f]{64}$")
        calls = self.broker.count("catalog")
        run = monitor_sending(digest)
        self.assertEqual(kit.parse_result(run.stdout), [("CATALOG_UNCHANGED", digest)])
        self.assertEqual(self.broker.count("catalog"), calls + 1, "the catalog is still fetched")
        # Another body (even the same catalog reordered) is answered whole.
        self.broker.update_plan(S["db/small"], {"description": "now smaller"})
        run = monitor_sending(digest)
        self.assertNotEqual(digest_of(run), digest)
        self.assertEqual(len(self.app_lines(run)), len(self.app_lines(first)))
        self.assertIn("now smaller", "".join(
            dict(a).get("DESCRIPTION", "") for a in self.apps(run)))
        # A failed fetch is a failure, whatever digest was sent.
        self.broker.inject("catalog", status=500)
        run = self.run_action("monitor", kit.action_document(
            "monitor", self.market(), extra="<CATALOG_DIGEST>%s</CATALOG_DIGEST>" % digest_of(run)),
            MARKET_ID)
        self.assertEqual((run.status, run.stdout), (1, ""), run.describe())

    def test_monitor_skips_bad_plans(self):
        self.broker.add_plan(S["db"], {"id": "", "name": "noid"})
        self.broker.add_plan(S["db"], {"id": "p-flag", "name": "badflag", "free": "yes"})
        self.broker.add_plan(S["db"], {"id": S["db/small"], "name": "dup"})
        self.broker.add_service({"id": "s-noname", "plans": [{"id": "p-orphan", "name": "x"}]})
        run = self.monitor()
        self.assertEqual(run.status, 0, run.describe())
        self.assertEqual(len(self.apps(run)), 6)
        warns = " | ".join(run.lines("WARN"))
        for needle in ("noid", "p-flag", "free is a string", "same id", "s-noname, \"\") skipped: it has no name"):
            self.assertIn(needle, warns)

    def test_monitor_failures(self):
        self.broker.inject("catalog", status=500, description="catalog down")
        run = self.monitor()
        self.assertEqual(run.status, 1, run.describe())
        self.assertEqual(run.stdout, "")
        self.assertIn("GET /v2/catalog: HTTP 500", run.errors[0])
        self.assertIn("catalog down", run.errors[0])
        self.broker.inject("catalog", kind="garbage")
        run = self.monitor()
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("malformed body", run.errors[0])
        self.broker.inject("catalog", status=200, body={"plans": []}, kind="status")
        run = self.monitor()
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("not a broker catalog", run.errors[0])
        run = self.monitor(BROKER_PASSWORD="wrong")
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("HTTP 401", run.errors[0])

    # -- headers and secrets ------------------------------------------------------------

    def test_headers(self):
        self.assertEqual(self.monitor().status, 0)
        self.provision(request_id="9b1a5e7c-0000-4000-8000-000000000001", uid=17,
                       uname="bob")
        mon, prov = self.broker.requests(route="catalog")[0], \
            self.broker.requests(route="provision")[0]
        auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        for e in (mon, prov):
            self.assertEqual(e["headers"]["X-Broker-API-Version"], "2.17")
            self.assertEqual(e["headers"]["Authorization"], auth)
        self.assertRegex(mon["request_identity"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                         r"[89ab][0-9a-f]{3}-[0-9a-f]{12}$", "monitor: a fresh GUID")
        self.assertNotIn("X-Broker-API-Originating-Identity", mon["headers"])
        self.assertEqual(prov["request_identity"], "9b1a5e7c-0000-4000-8000-000000000001")
        self.assertEqual(prov["originating_identity"],
                         {"platform": "marketd", "value": {"user_id": "17", "user_name": "bob"}})
        self.assertEqual(prov["headers"]["Content-Type"], "application/json")

    def test_api_version_and_platform(self):
        self.broker.set_min_api_version("2.18")
        run = self.monitor()
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("HTTP 412", run.errors[0])
        self.assertEqual(self.monitor(API_VERSION="2.18").status, 0)
        self.provision(market=self.market(API_VERSION="2.18", PLATFORM="meshmarketplace"))
        e = self.broker.requests(route="provision")[0]
        self.assertEqual(e["headers"]["X-Broker-API-Version"], "2.18")
        self.assertEqual(e["originating_identity"]["platform"], "meshmarketplace")
        self.assertEqual(e["body"]["context"]["platform"], "meshmarketplace")

    def test_password_never_shown(self):
        shown_url = self.broker.url.replace("://", "://%s:%s@" % (USER, PASSWORD))
        run = self.act("provision", status=1,
                       market=self.market(BROKER_URL=shown_url, BROKER_PASSWORD="wrong"))
        self.assertIn("***@127.0.0.1", run.errors[0])
        self.provision()
        self.bind()
        self.assertEqual(self.monitor().status, 0)
        for out in self.outputs:
            self.assertNotIn(PASSWORD, out)
        with open(self.argv_log) as f:
            argv = f.read()
        self.assertNotIn(PASSWORD, argv)
        self.assertNotIn(base64.b64encode(PASSWORD.encode()).decode()[:16], argv)
        self.assertIn("\n-\n", "\n" + argv, "the document goes on stdin only")

    # -- provision, update, deprovision -------------------------------------------------

    def test_provision_sync(self):
        r = self.provision(parameters='{"size": "M", "replicas": 2}',
                           app=self.app(extra=[("MAINTENANCE_INFO",
                                                '{"version": "1.0.0"}')]))
        self.assertEqual(r, {"STATE": "succeeded", "HTTP_STATUS": "201",
                             "DASHBOARD_URL": "%s/dashboard/inst-1" % self.broker.url})
        body = self.broker.requests(route="provision")[0]["body"]
        self.assertEqual(body, {
            "service_id": S["db"], "plan_id": S["db/small"],
            "context": {"platform": "marketd", "project_id": "100",
                        "instance_name": "driver-check-instance"},
            "organization_guid": "100", "space_guid": "100",
            "parameters": {"size": "M", "replicas": 2},
            "maintenance_info": {"version": "1.0.0"}})
        self.assertEqual(self.broker.requests(route="provision")[0]["query"],
                         {"accepts_incomplete": "true"})
        r = self.provision(parameters='{"size": "M", "replicas": 2}',
                           app=self.app(extra=[("MAINTENANCE_INFO", '{"version": "1.0.0"}')]))
        self.assertEqual((r["STATE"], r["HTTP_STATUS"]), ("succeeded", "200"),
                         "an identical instance exists")

    # -- batches ------------------------------------------------------------------

    def batch(self, *docs, status=0):
        body = "<MARKET_DRIVER_BATCH>%s</MARKET_DRIVER_BATCH>" % "".join(
            d[d.index("<MARKET_DRIVER_ACTION_DATA>"):] for d in docs)
        run = self.run_action("batch", body, 0)
        self.assertEqual(run.status, status, run.describe())
        if status:
            self.assertEqual(run.stdout, "")
            return run
        calls = {}
        for key, value in kit.parse_result(run.stdout):
            self.assertEqual(key, "CALL", run.stdout)
            v = dict(value)
            self.assertNotIn(int(v["INDEX"]), calls, "one answer per call")
            out = base64.b64decode(v["RESULT"]).decode()
            calls[int(v["INDEX"])] = (int(v["STATUS"]), dict(kit.parse_result(out)) if out else {},
                                      v["ERROR"])
        self.assertEqual(sorted(calls), list(range(len(docs))))
        self.assertNotIn(PASSWORD, run.stdout + run.stderr)
        return [calls[i] for i in range(len(docs))]

    def test_batch_runs_each_call_as_its_own(self):
        self.broker.inject("provision", status=400, error="BadRequest",
                           description="no such size", iid="inst-bad")
        n = 20
        docs = [self.doc("provision", iid="inst-%d" % i) for i in range(n)]
        docs.append(self.doc("provision", iid="inst-bad"))
        docs.append(self.doc("provision", iid="../x"))            # refused before any call
        docs.append(kit.action_document("monitor", self.market()))  # not a batch action
        calls = self.batch(*docs)
        for i in range(n):
            self.assertEqual(calls[i], (0, {"STATE": "succeeded", "HTTP_STATUS": "201",
                                            "DASHBOARD_URL": "%s/dashboard/inst-%d"
                                            % (self.broker.url, i)}, ""))
        status, res, err = calls[n]
        self.assertEqual((status, res), (1, {}))
        self.assertIn("HTTP 400", err)
        self.assertIn("no such size", err)
        self.assertEqual(calls[n + 1][0], 2)
        self.assertIn("SERVICE_INSTANCE/UUID", calls[n + 1][2])
        self.assertEqual(calls[n + 2][0], 3)
        self.assertIn("monitor", calls[n + 2][2])
        self.assertEqual(self.broker.count("provision"), n + 1)
        self.assertEqual(sorted(self.broker.instances()),
                         sorted("inst-%d" % i for i in range(n)))
        # Each call keeps its own request identity and user.
        ids = sorted(r["headers"].get("X-Broker-API-Request-Identity")
                     for r in self.broker.requests(route="provision"))
        self.assertEqual(ids, sorted(["req-provision"] * (n + 1)))

    def test_batch_of_polls_and_an_orphan(self):
        self.broker.set_delay(2 * SLOW)
        ops = [self.provision(plan="db/async", iid="a-%d" % i)["OPERATION"] for i in range(3)]
        self.broker.inject("provision", status=500, iid="orphan")
        calls = self.batch(*([self.doc("last_operation", plan="db/async", iid="a-%d" % i,
                                       kind="provision", operation=op)
                              for i, op in enumerate(ops)] +
                             [self.doc("provision", iid="orphan")]))
        self.assertEqual([c[1].get("STATE") for c in calls[:3]], ["in progress"] * 3)
        self.assertEqual(calls[3][0], 4, "a 500 to a provision: orphan mitigation")

    def test_batch_that_cannot_be_read_fails_whole(self):
        run = self.batch("<MARKET_DRIVER_ACTION_DATA><ACTION>provision</ACTION>"
                         "</MARKET_DRIVER_ACTION_DATA>", status=0)
        self.assertEqual(run[0][0], 2)
        run = self.run_action("batch", "<NOT_A_BATCH/>", 0)
        self.assertEqual((run.status, run.stdout), (2, ""), run.describe())
        self.assertIn("MARKET_DRIVER_BATCH", run.stderr)
        self.assertEqual(self.broker.count(), 0)

    def test_provision_async_and_poll(self):
        self.broker.set_retry_after(1)
        self.broker.set_delay(2 * SLOW)     # still running at the first poll
        r = self.provision(plan="db/async")
        self.assertEqual((r["STATE"], r["HTTP_STATUS"]), ("in progress", "202"))
        self.assertTrue(r["OPERATION"])
        p = self.poll("provision", plan="db/async", operation=r["OPERATION"])
        self.assertEqual((p["STATE"], p["RETRY_AFTER"], p["HTTP_STATUS"]),
                         ("in progress", "1", "200"))
        self.assertEqual(p["DESCRIPTION"], "provision in progress")
        q = self.broker.requests(route="instance_last_operation")[0]["query"]
        self.assertEqual(q, {"service_id": S["db"], "plan_id": S["db/async"],
                             "operation": r["OPERATION"]})
        time.sleep(1)
        p = self.poll_until_done("provision", plan="db/async", operation=r["OPERATION"])
        self.assertEqual(p["STATE"], "succeeded")

    def test_poll_failed_and_retry_after_date(self):
        self.broker.fail_operations(op="update", description="no capacity")
        self.broker.set_mode("async", op="update")
        self.provision()
        r = self.act("update", update=(S["db/large"], '{"size": "L"}', S["db/small"]))
        self.assertEqual(r["STATE"], "in progress")
        self.broker.set_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
        time.sleep(0.6)
        p = self.poll("update", operation=r["OPERATION"])
        self.assertEqual(p, {"STATE": "failed", "DESCRIPTION": "no capacity",
                             "INSTANCE_USABLE": "YES", "UPDATE_REPEATABLE": "YES",
                             "RETRY_AFTER": "0", "HTTP_STATUS": "200"})

    def test_poll_errors(self):
        run = self.poll("provision", iid="never-made", status=1)
        self.assertIn("HTTP 404", run.errors[0])
        self.provision()
        self.act("deprovision")
        run = self.poll("provision", status=1)
        self.assertIn("HTTP 410", run.errors[0], "410 is success only for a delete")
        self.broker.inject("instance_last_operation", status=200, body={"state": "done"})
        run = self.poll("deprovision", status=1)
        self.assertIn("HTTP 200", run.errors[0])

    def test_update(self):
        self.provision()
        r = self.act("update", update=(S["db/large"], '{"size": "L"}', ""))
        self.assertEqual(r, {"STATE": "succeeded", "HTTP_STATUS": "200",
                             "DASHBOARD_URL": "%s/dashboard/inst-1" % self.broker.url})
        body = self.broker.requests(route="update")[0]["body"]
        self.assertEqual(body["plan_id"], S["db/large"])
        self.assertEqual(body["previous_values"], {"plan_id": S["db/small"],
                                                  "service_id": S["db"]})
        self.assertEqual(body["parameters"], {"size": "L"})
        run = self.act("update", status=1, plan="db/large",
                       update=(S["db/large"], '{"size": "XL"}', ""))
        self.assertIn("HTTP 400: ValidationError", run.errors[0])
        for kw in ({"status": 500}, {"status": 201, "kind": "status"},
                   {"kind": "timeout", "seconds": 4}):
            self.broker.inject("update", **kw)
            self.act("update", status=1, plan="db/large", market=self.market(TIMEOUT="2"),
                     update=(S["db/large"], "", ""))

    def test_deprovision_and_gone(self):
        self.provision()
        r = self.act("deprovision")
        self.assertEqual(r, {"STATE": "succeeded", "HTTP_STATUS": "200"})
        self.assertEqual(self.broker.requests(route="deprovision")[0]["query"], {
            "accepts_incomplete": "true", "service_id": S["db"], "plan_id": S["db/small"]})
        r = self.act("deprovision")
        self.assertEqual(r, {"STATE": "succeeded", "GONE": "YES", "HTTP_STATUS": "410"})

    def test_deprovision_async_polled_gone(self):
        self.broker.set_delete_poll("gone")
        r = self.provision(plan="queue/basic")
        self.assertEqual(r["STATE"], "in progress")
        self.poll_until_done("provision", plan="queue/basic", operation=r.get("OPERATION", ""))
        r = self.act("deprovision", plan="queue/basic")
        self.assertEqual(r["STATE"], "in progress")
        time.sleep(0.6)
        p = self.poll("deprovision", plan="queue/basic", operation=r["OPERATION"])
        self.assertEqual(p, {"STATE": "succeeded", "GONE": "YES", "HTTP_STATUS": "410"})

    def test_deletes_never_orphan(self):
        self.provision()
        for kw in ({"status": 500}, {"status": 422, "error": "ConcurrencyError"},
                   {"kind": "timeout", "seconds": 4}, {"kind": "close"}):
            self.broker.inject("deprovision", **kw)
            self.act("deprovision", status=1, market=self.market(TIMEOUT="2"))
        self.assertEqual(self.act("deprovision")["STATE"], "succeeded")

    # -- bind, unbind ---------------------------------------------------------------------

    def test_bind_unbind(self):
        self.broker.set_binding_expiry(3600)
        self.provision()
        r = self.bind(binding_parameters='{"role": "ro"}')
        self.assertEqual((r["STATE"], r["HTTP_STATUS"]), ("succeeded", "201"))
        b = self.broker.binding("inst-1", "bind-1")
        self.assertEqual(json.loads(r["CREDENTIALS"]), b["credentials"])
        self.assertRegex(r["EXPIRES_AT"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(json.loads(r["ENDPOINTS"])[0]["port" + "s"], ["5432"])
        body = self.broker.requests(route="bind")[0]["body"]
        self.assertEqual(body, {"service_id": S["db"], "plan_id": S["db/small"],
                                "context": {"platform": "marketd", "project_id": "100",
                                            "instance_name": "driver-check-instance"},
                                "bind_resource": {}, "parameters": {"role": "ro"}})
        r = self.act("unbind", bid="bind-1")
        self.assertEqual(r, {"STATE": "succeeded", "HTTP_STATUS": "200"})
        r = self.act("unbind", bid="bind-1")
        self.assertEqual(r, {"STATE": "succeeded", "GONE": "YES", "HTTP_STATUS": "410"})

    def test_bind_async_fetches_credentials(self):
        self.broker.set_mode("async", op="bind")
        self.provision()
        r = self.bind()
        self.assertEqual(r["STATE"], "in progress")
        self.assertNotIn("CREDENTIALS", r)
        time.sleep(0.6)
        p = self.poll("bind", bid="bind-1", binding_operation=r.get("OPERATION", ""))
        self.assertEqual(p["STATE"], "succeeded")
        self.assertEqual(json.loads(p["CREDENTIALS"]),
                         self.broker.binding("inst-1", "bind-1")["credentials"])
        self.assertEqual(len(self.broker.requests(route="get_binding")), 1)

    # -- orphan mitigation -------------------------------------------------------------------

    ORPHAN_ROWS = [
        ("500", {"status": 500}),
        ("503", {"status": 503}),
        ("timeout", {"kind": "timeout", "seconds": 4}),
        ("cut connection", {"kind": "close"}),
        ("201, truncated JSON", {"kind": "malformed_json", "status": 201}),
        ("201, not JSON", {"kind": "garbage", "status": 201}),
        ("201, a field of the wrong type", {"kind": "status", "status": 201, "apply": True,
                                            "body": {"dashboard_url": 5, "credentials": "x"}}),
        ("202, truncated JSON", {"kind": "malformed_json", "status": 202}),
        ("202, operation not a string", {"kind": "status", "status": 202, "apply": True,
                                         "body": {"operation": 7}}),
        ("204", {"kind": "status", "status": 204, "apply": True, "body": {}}),
        ("203", {"kind": "status", "status": 203, "apply": True, "body": {}}),
    ]
    REFUSED_ROWS = [
        ("400", {"status": 400, "error": "BadRequest"}),
        ("409", {"status": 409}),
        ("422", {"status": 422, "error": "AsyncRequired"}),
        ("408", {"status": 408}),
        ("401", {"status": 401}),
        ("200, not JSON", {"kind": "garbage", "status": 200}),
    ]

    def check_rows(self, route, action, rows, status):
        for name, fault in rows:
            with self.subTest(action=action, row=name):
                self.broker.inject(route, **fault)
                kw = {"bid": "bind-x"} if action == "bind" else {"iid": "inst-x"}
                run = self.act(action, status=status, market=self.market(TIMEOUT="2"), **kw)
                if status == 4:
                    self.assertIn("orphan mitigation", run.errors[0])
                self.assertIn("broker %s: PUT /v2/service_instances/" % self.broker.url,
                              run.errors[0])
                if name[0].isdigit() and "truncated" not in name:
                    self.assertIn("HTTP %s" % name[:3], run.errors[0])
                # Clean up whatever the broker made, as marketd would.
                self.broker.clear_faults()
                self.act("unbind" if action == "bind" else "deprovision", **kw)

    def test_provision_orphan_rows(self):
        self.check_rows("provision", "provision", self.ORPHAN_ROWS, 4)

    def test_provision_refused_rows(self):
        self.check_rows("provision", "provision", self.REFUSED_ROWS, 1)

    def test_bind_orphan_rows(self):
        self.provision()
        self.check_rows("bind", "bind", self.ORPHAN_ROWS, 4)

    def test_bind_refused_rows(self):
        self.provision()
        self.check_rows("bind", "bind", self.REFUSED_ROWS, 1)

    def test_unreachable_broker_is_not_orphan(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        run = self.act("provision", status=1,
                       market=self.market(BROKER_URL="http://127.0.0.1:%d" % port))
        self.assertIn("127.0.0.1:%d" % port, run.errors[0])

    # -- bad input -------------------------------------------------------------------------------

    def test_bad_input(self):
        cases = [
            ("provision", {"market": self.market(BROKER_PASSWORD=None)}, "BROKER_PASSWORD"),
            ("provision", {"market": self.market(BROKER_URL="ftp://x")}, "BROKER_URL"),
            ("provision", {"market": self.market(TIMEOUT="soon")}, "TIMEOUT"),
            ("provision", {"parameters": "[1, 2]"}, "PARAMETERS"),
            ("provision", {"iid": "../catalog"}, "SERVICE_INSTANCE/UUID"),
            ("provision", {"project": ""}, "PROJECT"),
            ("bind", {}, "SERVICE_BINDING/UUID"),
            ("update", {}, "UPDATE/PLAN_ID"),
            ("last_operation", {"kind": "resize"}, "OPERATION_KIND"),
            ("last_operation", {"kind": "provision", "bid": "b"}, "SERVICE_BINDING"),
            ("last_operation", {"kind": "bind"}, "SERVICE_BINDING/UUID"),
            ("deprovision", {"request_id": ""}, "REQUEST/ID"),
        ]
        for action, kw, needle in cases:
            with self.subTest(action=action, needle=needle):
                run = self.act(action, status=2, **kw)
                self.assertIn(needle, run.errors[0])
        self.assertEqual(self.broker.count(), 0, "no call made on bad input")

    # -- the conformance kit ----------------------------------------------------------------------

    def test_conformance_kit(self):
        tpl = os.path.join(self.tmp, "osb.tpl")
        with open(tpl, "w") as f:
            for k, v in self.market_attrs():
                f.write('%s = "%s"\n' % (k, v))
        cmd = [sys.executable, kit.__file__, "--market-template", tpl,
               "--actions", ",".join(ALL_ACTIONS), "--timeout", str(60 * SLOW), OSB_DIR]
        if self.wrapper:
            cmd[2:2] = ["--wrapper", self.wrapper]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertRegex(proc.stdout, r"\n\d+ passed, 0 failed")
        self.assertNotIn(PASSWORD, proc.stdout)


if __name__ == "__main__":
    unittest.main()
