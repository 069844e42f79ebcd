#!/usr/bin/env python3
"""Self-test of the test OSB broker (test/osb_broker.py): every route, every
switch, the control endpoint and the process mode, so that the osb driver's
tests can trust it.  Python 3 standard library only (unittest, http.client);
it talks to the broker over HTTP, as the driver will.

Standalone:  python3 test/test_osb_broker.py [-v]
"""

import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get("MKT_SRCDIR") or os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
import osb_broker as ob  # noqa: E402

S = ob.SMALL
USER, PASSWORD = "marketd", "s3cr3t-broker"
ORG = {"organization_guid": "org-1", "space_guid": "space-1"}


class Reply:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data

    @property
    def json(self):
        return json.loads(self.data.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.data[:300])


class Client:
    """A bare OSB client: one connection per call, nothing hidden."""

    def __init__(self, url, user=USER, password=PASSWORD, version="2.17"):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.user, self.password, self.version = user, password, version

    def call(self, method, path, body=None, query=None, headers=None, auth=True,
             version=True, raw=None, timeout=5):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        h = {"Content-Type": "application/json"}
        if version and self.version:
            h["X-Broker-API-Version"] = self.version
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (self.user, self.password)).encode()).decode()
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode()
                                            if body is not None else None)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return Reply(resp.status, dict(resp.getheaders()), resp.read())
        finally:
            conn.close()

    # OSB calls
    def catalog(self, **kw):
        return self.call("GET", "/v2/catalog", **kw)

    def provision(self, iid, service, plan, params=None, accepts=None, extra=None, **kw):
        body = {"service_id": service, "plan_id": plan, "context": {"platform": "marketd"}}
        body.update(ORG)
        if params is not None:
            body["parameters"] = params
        body.update(extra or {})
        q = {"accepts_incomplete": "true"} if accepts else None
        return self.call("PUT", "/v2/service_instances/%s" % iid, body, q, **kw)

    def update(self, iid, service, plan=None, params=None, accepts=None, extra=None, **kw):
        body = {"service_id": service}
        if plan:
            body["plan_id"] = plan
        if params is not None:
            body["parameters"] = params
        body.update(extra or {})
        q = {"accepts_incomplete": "true"} if accepts else None
        return self.call("PATCH", "/v2/service_instances/%s" % iid, body, q, **kw)

    def deprovision(self, iid, service, plan, accepts=None, **kw):
        q = {"service_id": service, "plan_id": plan}
        if accepts:
            q["accepts_incomplete"] = "true"
        return self.call("DELETE", "/v2/service_instances/%s" % iid, query=q, **kw)

    def get_instance(self, iid, **kw):
        return self.call("GET", "/v2/service_instances/%s" % iid, **kw)

    def last_op(self, iid, service, plan, operation=None, **kw):
        q = {"service_id": service, "plan_id": plan}
        if operation:
            q["operation"] = operation
        return self.call("GET", "/v2/service_instances/%s/last_operation" % iid, query=q, **kw)

    def bind(self, iid, bid, service, plan, params=None, accepts=None, extra=None, **kw):
        body = {"service_id": service, "plan_id": plan, "context": {"platform": "marketd"},
                "bind_resource": {}}
        if params is not None:
            body["parameters"] = params
        body.update(extra or {})
        q = {"accepts_incomplete": "true"} if accepts else None
        return self.call("PUT", "/v2/service_instances/%s/service_bindings/%s" % (iid, bid),
                         body, q, **kw)

    def unbind(self, iid, bid, service, plan, accepts=None, **kw):
        q = {"service_id": service, "plan_id": plan}
        if accepts:
            q["accepts_incomplete"] = "true"
        return self.call("DELETE", "/v2/service_instances/%s/service_bindings/%s" % (iid, bid),
                         query=q, **kw)

    def get_binding(self, iid, bid, **kw):
        return self.call("GET", "/v2/service_instances/%s/service_bindings/%s" % (iid, bid), **kw)

    def binding_last_op(self, iid, bid, service, plan, operation=None, **kw):
        q = {"service_id": service, "plan_id": plan}
        if operation:
            q["operation"] = operation
        return self.call("GET", "/v2/service_instances/%s/service_bindings/%s/last_operation"
                         % (iid, bid), query=q, **kw)


def listening_addresses(port):
    """Local addresses listening on @port, from /proc/net/tcp{,6}."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, p = fields[1].split(":")
            if fields[3] == "0A" and int(p, 16) == port:
                out.append(addr)
    return out


def wait_until(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class BrokerTest(unittest.TestCase):
    """A fresh in-process broker (small catalog) per test.  Async operations
    take DELAY seconds, long enough that none ends by itself: the tests end
    them with complete_operations() (test_modes_and_delays and
    TestConcurrency check the clock-driven ending)."""

    DELAY = 30

    def setUp(self):
        self.b = ob.Broker(user=USER, password=PASSWORD, async_delay=self.DELAY,
                           max_lifetime=120).start()
        self.c = Client(self.b.url)

    def tearDown(self):
        self.b.stop()

    def assertStatus(self, reply, status, error=None):
        self.assertEqual(reply.status, status, reply)
        if error is not None:
            self.assertEqual(reply.json.get("error"), error, reply)
        return reply

    def ready_instance(self, iid="i-1", plan="db/small", service="db"):
        self.assertStatus(self.c.provision(iid, S[service], S[plan], accepts=True), 201)
        return iid


# -- catalogs and schemas ---------------------------------------------------------------

class TestCatalogs(unittest.TestCase):
    def check_catalog(self, cat, schemas_checked=50):
        json.dumps(cat)
        self.assertIsInstance(cat["services"], list)
        sids, pids, names = set(), set(), set()
        for s in cat["services"]:
            for k in ("id", "name", "description", "bindable", "plans"):
                self.assertIn(k, s)
            self.assertNotIn(s["id"], sids)
            self.assertNotIn(s["name"], names)
            sids.add(s["id"])
            names.add(s["name"])
            self.assertRegex(s["name"], r"^[a-z0-9-]+$")
            pnames = set()
            for p in s["plans"]:
                for k in ("id", "name", "description", "maintenance_info"):
                    self.assertIn(k, p)
                self.assertNotIn(p["id"], pids)     # plan ids unique broker-wide
                self.assertNotIn(p["name"], pnames)
                pids.add(p["id"])
                pnames.add(p["name"])
                schema = ((p.get("schemas") or {}).get("service_instance") or {}).get(
                    "create", {}).get("parameters")
                if schema and len(pids) <= schemas_checked:
                    self.assertEqual(schema["$schema"], ob.DRAFT04)
                    self.assertEqual(ob.validate(schema, {"size": "M", "replicas": 2}), [])
                    self.assertNotEqual(ob.validate(schema, {"size": "XXL"}), [])
        return sids, pids

    def test_big_catalog(self):
        t = time.monotonic()
        cat = ob.make_catalog(1000, 5)
        sids, pids = self.check_catalog(cat)
        self.assertEqual((len(sids), len(pids)), (1000, 5000))
        self.assertLess(time.monotonic() - t, 10)
        services = cat["services"]
        self.assertEqual(ob.make_catalog(40, 5)["services"], services[:40])  # stable ids
        plans = [p for s in services for p in s["plans"]]
        self.assertTrue(any(s["metadata"].get("sensitive") for s in services))
        self.assertTrue(any(not s["metadata"].get("sensitive") for s in services))
        self.assertTrue(any(not s["bindable"] for s in services))
        self.assertTrue(any(not s["plan_updateable"] for s in services))
        self.assertTrue(any(not s["bindings_retrievable"] for s in services))
        self.assertTrue(any(p.get("bindable") is False for p in plans))
        self.assertTrue(any(p["metadata"].get("expiryDays") for p in plans))
        self.assertTrue(any(p["metadata"].get("costs") for p in plans))
        self.assertTrue(any(p["free"] for p in plans))
        self.assertTrue(any(p.get("binding_rotatable") for p in plans))
        self.assertTrue(all(s["tags"] and s["metadata"]["displayName"] for s in services))
        self.assertNotEqual(ob.make_catalog(2, 2, prefix="other")["services"][0]["id"],
                            services[0]["id"])

    def test_small_catalog(self):
        cat = ob.small_catalog()
        self.check_catalog(cat)
        self.assertEqual(len(cat["services"]), 3)
        self.assertEqual(ob.catalog_ids(cat), S)
        _, db_async = [(s, p) for s in cat["services"] for p in s["plans"]
                       if p["id"] == S["db/async"]][0]
        self.assertEqual(ob.SMALL_MODES[S["db/async"]], "async-only")
        self.assertIn("maximum_polling_duration", db_async)
        plan = {p["id"]: p for s in cat["services"] for p in s["plans"]}
        self.assertEqual(plan[S["vault/expiring"]]["metadata"]["expiryDays"], 1)
        self.assertIs(plan[S["vault/nobind"]]["bindable"], False)
        self.assertIn("schemas", plan[S["db/small"]])
        svc = {s["id"]: s for s in cat["services"]}
        self.assertIs(svc[S["vault"]]["metadata"]["sensitive"], True)
        self.assertIs(svc[S["queue"]]["bindable"], False)

    def test_parse_catalog_arg(self):
        cat, modes = ob.parse_catalog_arg("big:3x2")
        self.assertEqual([len(s["plans"]) for s in cat["services"]], [2, 2, 2])
        self.assertEqual(modes, {})
        self.assertEqual(len(ob.parse_catalog_arg("big")[0]["services"]), 1000)
        self.assertEqual(ob.parse_catalog_arg("small")[1], ob.SMALL_MODES)
        self.assertRaises(ValueError, ob.parse_catalog_arg, "big:999999x9")

    def test_validate(self):
        v = ob.validate
        schema = {"type": "object", "required": ["a"], "additionalProperties": False,
                  "properties": {
                      "a": {"type": "integer", "minimum": 1, "maximum": 3},
                      "b": {"type": "number", "exclusiveMaximum": True, "maximum": 1},
                      "c": {"type": "string", "minLength": 2, "maxLength": 3,
                            "pattern": "^x"},
                      "d": {"type": "array", "items": {"type": "boolean"}, "minItems": 1,
                            "maxItems": 2, "uniqueItems": True},
                      "e": {"enum": ["p", 1]},
                      "f": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                      "g": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                      "h": {"not": {"type": "string"}},
                      "i": {"multipleOf": 5}}}
        self.assertEqual(v(schema, {"a": 2, "b": 0.5, "c": "xy", "d": [True], "e": 1,
                                    "f": None, "g": 1.5, "h": 1, "i": 10}), [])
        for bad in ({}, {"a": 0}, {"a": 4}, {"a": "2"}, {"a": True}, {"a": 1, "b": 1},
                    {"a": 1, "c": "y"}, {"a": 1, "c": "x"}, {"a": 1, "c": "xyzw"},
                    {"a": 1, "d": []}, {"a": 1, "d": [1]}, {"a": 1, "d": [True, True]},
                    {"a": 1, "d": [True, False, True]}, {"a": 1, "e": "q"},
                    {"a": 1, "f": 3}, {"a": 1, "g": 2}, {"a": 1, "h": "s"},
                    {"a": 1, "i": 7}, {"a": 1, "z": 0}, []):
            self.assertNotEqual(v(schema, bad), [], bad)
        self.assertEqual(v({"type": "integer"}, 2.0), [])
        self.assertEqual(v({"type": ["string", "null"]}, None), [])
        self.assertEqual(v({"additionalProperties": {"type": "string"}}, {"k": "v"}), [])
        self.assertNotEqual(v({"additionalProperties": {"type": "string"}}, {"k": 1}), [])
        self.assertEqual(v({"patternProperties": {"^n": {"type": "integer"}},
                            "additionalProperties": False}, {"n1": 1}), [])


# -- every request ------------------------------------------------------------------------

class TestRequests(BrokerTest):
    def test_binds_loopback_only(self):
        self.assertEqual(self.b.server.server_address[0], "127.0.0.1")
        addrs = listening_addresses(self.b.port)
        self.assertEqual(addrs, ["0100007F"])

    def test_auth(self):
        self.assertStatus(self.c.catalog(), 200)
        r = self.assertStatus(self.c.catalog(auth=False), 401)
        self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        self.assertStatus(Client(self.b.url, password="wrong").catalog(), 401)
        self.assertStatus(Client(self.b.url, user="other").catalog(), 401)
        self.b.set_auth("new", "pass")
        self.assertStatus(self.c.catalog(), 401)
        self.assertStatus(Client(self.b.url, "new", "pass").catalog(), 200)

    def test_api_version(self):
        self.assertStatus(self.c.catalog(version=False), 412)
        for bad in ("2.16", "2.13", "1.17", "3.0", "two", "2"):
            self.assertStatus(Client(self.b.url, version=bad).catalog(), 412)
        for good in ("2.17", "2.18", " 2.17 "):
            self.assertStatus(Client(self.b.url, version=good).catalog(), 200)
        self.b.set_min_api_version("2.14")
        self.assertStatus(Client(self.b.url, version="2.14").catalog(), 200)
        self.assertStatus(Client(self.b.url, version="2.13").catalog(), 412)
        self.assertRaises(ValueError, self.b.set_min_api_version, "x")
        # version checked after auth, before anything else
        self.assertStatus(self.c.catalog(version=False, auth=False), 401)
        self.assertStatus(self.c.provision("i", S["db"], S["db/small"], version=False), 412)
        self.assertEqual(self.b.instances(), {})

    def test_unknown_routes(self):
        self.assertStatus(self.c.call("GET", "/v2/nothing"), 404)
        self.assertStatus(self.c.call("GET", "/"), 404)
        self.assertStatus(self.c.call("POST", "/v2/catalog", {}), 405)
        self.assertStatus(self.c.call("PATCH", "/v2/service_instances/i/service_bindings/b",
                                      {}), 405)
        self.assertStatus(self.c.call("GET", "/dashboard/i-1", auth=False), 200)

    def test_every_route(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        c.catalog()
        c.provision("i", sid, pid)
        c.update("i", sid, pid)
        c.get_instance("i")
        c.last_op("i", sid, pid)
        c.bind("i", "b", sid, pid)
        c.get_binding("i", "b")
        c.binding_last_op("i", "b", sid, pid)
        c.unbind("i", "b", sid, pid)
        c.deprovision("i", sid, pid)
        self.assertEqual(sorted(self.b.counts()), sorted(ob.ROUTES))
        self.assertEqual([e["status"] for e in self.b.log()],
                         [200, 201, 200, 200, 200, 201, 200, 200, 200, 200])

    def test_catalog(self):
        r = self.assertStatus(self.c.catalog(), 200)
        self.assertEqual(r.json, ob.small_catalog())
        self.assertEqual(r.headers["Content-Type"], "application/json")

    def test_log(self):
        ident = "marketd " + base64.b64encode(json.dumps({"user_id": "7"}).encode()).decode()
        self.c.provision("i-1", S["db"], S["db/small"], {"size": "S"},
                         headers={"X-Broker-API-Originating-Identity": ident,
                                  "X-Broker-API-Request-Identity": "req-1"})
        self.c.catalog()
        log = self.b.log()
        self.assertEqual([e["route"] for e in log], ["provision", "catalog"])
        e = log[0]
        self.assertEqual((e["method"], e["path"], e["iid"], e["bid"], e["status"]),
                         ("PUT", "/v2/service_instances/i-1", "i-1", None, 201))
        self.assertEqual(e["body"]["parameters"], {"size": "S"})
        self.assertEqual(json.loads(e["raw"]), e["body"])
        self.assertEqual(e["headers"]["X-Broker-API-Version"], "2.17")
        self.assertEqual(e["originating_identity"],
                         {"platform": "marketd", "value": {"user_id": "7"}})
        self.assertEqual(e["request_identity"], "req-1")
        self.assertEqual(self.b.log(since=e["seq"])[0]["route"], "catalog")
        self.assertEqual(len(self.b.requests(route="catalog")), 1)
        self.assertEqual(len(self.b.requests(method="PUT", iid="i-1")), 1)
        self.assertEqual(self.b.requests(iid="other"), [])
        self.assertEqual(self.b.count("provision"), 1)
        self.assertEqual(self.b.count(), 2)
        self.assertEqual(self.b.counts(), {"provision": 1, "catalog": 1})
        self.c.last_op("i-1", S["db"], S["db/small"])
        self.c.binding_last_op("i-1", "b", S["db"], S["db/small"])
        self.assertEqual(self.b.last_operation_calls(), 2)
        self.b.clear_log()
        self.assertEqual((self.b.log(), self.b.count(), self.b.last_operation_calls()),
                         ([], 0, 0))
        # a bad identity is recorded, not decoded
        self.c.catalog(headers={"X-Broker-API-Originating-Identity": "p !!!"})
        self.assertEqual(self.b.log()[0]["originating_identity"],
                         {"platform": "p", "value": None})

    def test_keep_alive_and_chunked(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.b.port, timeout=5)
        h = {"X-Broker-API-Version": "2.17", "Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode(),
            "Content-Type": "application/json"}
        body = json.dumps(dict(ORG, service_id=S["db"], plan_id=S["db/small"])).encode()
        conn.request("PUT", "/v2/service_instances/i-c", body=iter([body[:10], body[10:]]),
                     headers=h, encode_chunked=True)
        self.assertEqual(conn.getresponse().read() and 1, 1)
        conn.request("GET", "/v2/catalog", headers=h)      # same connection
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        r.read()
        conn.close()
        self.assertIn("i-c", self.b.instances())

    def test_body_limit(self):
        # refused from the headers, before reading the body
        with socket.create_connection(("127.0.0.1", self.b.port), timeout=5) as sock:
            sock.sendall(b"PUT /v2/service_instances/big HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: %d\r\n\r\n{" % (ob.MAX_BODY + 1))
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 413 "))
        self.assertEqual(self.b.instances(), {})


# -- instances ------------------------------------------------------------------------------

class TestProvision(BrokerTest):
    def test_sync(self):
        r = self.assertStatus(self.c.provision("i-1", S["db"], S["db/small"], {"size": "S"}),
                              201)
        self.assertEqual(r.json["dashboard_url"], "%s/dashboard/i-1" % self.b.url)
        inst = self.b.instance("i-1")
        self.assertEqual((inst["state"], inst["plan_id"], inst["parameters"],
                          inst["context"], inst["organization_guid"]),
                         ("succeeded", S["db/small"], {"size": "S"}, {"platform": "marketd"},
                          "org-1"))
        # identical repeat: 200; same id, other attributes: 409
        r = self.assertStatus(self.c.provision("i-1", S["db"], S["db/small"], {"size": "S"}),
                              200)
        self.assertEqual(r.json["dashboard_url"], inst["dashboard_url"])
        self.assertStatus(self.c.provision("i-1", S["db"], S["db/small"], {"size": "M"}), 409)
        self.assertStatus(self.c.provision("i-1", S["db"], S["db/large"], {"size": "S"}), 409)
        # sync plans answer 201 even when the client accepts async
        self.assertStatus(self.c.provision("i-2", S["db"], S["db/small"], accepts=True), 201)
        self.assertEqual(sorted(self.b.instances()), ["i-1", "i-2"])
        self.assertEqual(self.b.violations(), [])

    def test_bad_requests(self):
        c = self.c
        self.assertStatus(c.provision("i", S["db"], "no-plan"), 400)
        self.assertStatus(c.provision("i", S["vault"], S["db/small"]), 400)  # other service
        self.assertStatus(c.provision("i", None, S["db/small"]), 400)
        self.assertStatus(c.call("PUT", "/v2/service_instances/i", raw=b"{not json"), 400)
        self.assertStatus(c.call("PUT", "/v2/service_instances/i", [1]), 400)
        self.assertStatus(c.provision("i", S["db"], S["db/small"],
                                      extra={"context": "x"}), 400)
        self.assertEqual(self.b.violations(), [])
        self.assertStatus(c.provision("i", S["db"], S["db/small"],
                                      extra={"organization_guid": None}), 400)
        self.assertEqual(len(self.b.violations()), 1)
        self.b.clear_violations()
        self.assertEqual(self.b.violations(), [])
        self.assertEqual(self.b.instances(), {})

    def test_parameter_schema(self):
        c = self.c
        for bad in ({"size": "XL"}, {"replicas": 9}, {"unknown": 1}, {"name": "Bad Name"}, []):
            r = self.assertStatus(c.provision("i", S["db"], S["db/small"], bad), 400,
                                  "ValidationError")
        self.assertIn("size", c.provision("i", S["db"], S["db/large"], {}).json["description"])
        self.assertEqual(self.b.instances(), {})
        self.b.set_validate_parameters(False)
        self.assertStatus(c.provision("i", S["db"], S["db/small"], {"size": "XL"}), 201)
        self.b.set_validate_parameters(True)
        self.assertStatus(c.provision("j", S["db"], S["db/large"], {"size": "L",
                                      "replicas": 5, "name": "ok-1", "backup": True}), 201)
        del r

    def test_maintenance_info(self):
        r = self.c.provision("i", S["db"], S["db/small"],
                             extra={"maintenance_info": {"version": "0.9.0"}})
        self.assertStatus(r, 422, "MaintenanceInfoConflict")
        self.assertStatus(self.c.provision("i", S["db"], S["db/small"],
                                           extra={"maintenance_info": {"version": "1.0.0"}}),
                          201)
        self.assertEqual(self.b.instance("i")["maintenance_info"], {"version": "1.0.0"})

    def test_async(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        self.assertStatus(c.provision("i", sid, pid), 422, "AsyncRequired")
        self.assertEqual(self.b.instances(), {})
        r = self.assertStatus(c.provision("i", sid, pid, accepts=True), 202)
        op = r.json["operation"]
        self.assertTrue(op)
        self.assertIn("dashboard_url", r.json)
        # a repeat while in progress: 202 again, same operation; conflicting: 409
        self.assertEqual(self.assertStatus(c.provision("i", sid, pid, accepts=True),
                                           202).json["operation"], op)
        self.assertStatus(c.provision("i", sid, pid, {"x": 1}, accepts=True), 409)
        self.assertEqual(self.b.instance("i")["state"], "in progress")
        r = self.assertStatus(c.last_op("i", sid, pid, op), 200)
        self.assertEqual(r.json["state"], "in progress")
        self.assertNotIn("Retry-After", r.headers)
        self.assertStatus(c.get_instance("i"), 404)        # not yet provisioned
        # required query parameters, the operation token
        self.assertStatus(c.call("GET", "/v2/service_instances/i/last_operation",
                                 query={"plan_id": pid, "operation": op}), 400)
        self.assertStatus(c.call("GET", "/v2/service_instances/i/last_operation",
                                 query={"service_id": sid, "operation": op}), 400)
        self.assertEqual(self.b.violations(), [])
        self.assertStatus(c.last_op("i", sid, pid, "wrong"), 400)
        self.assertStatus(c.last_op("i", sid, pid), 400)
        self.assertEqual(len(self.b.violations()), 2)
        self.b.clear_violations()
        self.assertEqual(self.b.complete_operations(iid="other"), 0)
        self.assertEqual(self.b.complete_operations(), 1)
        self.assertEqual(self.b.complete_operations(), 0)
        r = self.assertStatus(c.last_op("i", sid, pid, op), 200)
        self.assertEqual(r.json["state"], "succeeded")
        self.assertStatus(c.provision("i", sid, pid, accepts=True), 200)
        r = self.assertStatus(c.get_instance("i"), 200)
        self.assertEqual((r.json["service_id"], r.json["plan_id"]), (sid, pid))
        self.assertStatus(c.last_op("nothing", sid, pid), 404)
        self.assertEqual(self.b.count("instance_last_operation"), 7)

    def test_async_when_accepted(self):
        # mode "async" (queue/basic): 202 only when the client accepts it
        c, sid, pid = self.c, S["queue"], S["queue/basic"]
        self.assertStatus(c.provision("a", sid, pid), 201)
        self.assertStatus(c.provision("b", sid, pid, accepts=True), 202)
        self.assertStatus(c.get_instance("a"), 400)        # not instances_retrievable
        self.assertEqual(len(self.b.violations()), 1)

    def test_modes_and_delays(self):
        c, sid = self.c, S["db"]
        self.b.set_mode("async", plan_id=S["db/small"])
        self.b.set_delay(0.1, plan_id=S["db/small"], op="provision")
        self.assertStatus(c.provision("a", sid, S["db/small"], accepts=True), 202)
        self.assertStatus(c.provision("b", sid, S["db/large"], accepts=True), 201)
        self.b.set_mode("async-only")                        # the default of every plan
        self.assertStatus(c.provision("c", sid, S["db/large"]), 422, "AsyncRequired")
        self.b.set_mode("sync", op="provision")
        self.assertStatus(c.provision("c", sid, S["db/large"]), 201)
        self.assertTrue(wait_until(lambda: self.b.instance("a")["state"] == "succeeded", 2))
        self.assertRaises(ValueError, self.b.set_mode, "maybe")
        self.assertRaises(ValueError, self.b.set_mode, "sync", op="nap")
        self.assertRaises(ValueError, self.b.set_delay, "long")
        s = self.b.settings()
        self.assertIn({"plan_id": None, "op": "provision", "value": "sync"}, s["modes"])
        self.assertIn({"plan_id": S["db/small"], "op": "provision", "value": 0.1}, s["delays"])

    def test_retry_after(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        self.b.set_retry_after(5)
        op = c.provision("i", sid, pid, accepts=True).json["operation"]
        r = self.assertStatus(c.last_op("i", sid, pid, op), 200)
        self.assertEqual(r.headers["Retry-After"], "5")
        self.assertEqual(self.b.violations(), [])
        c.last_op("i", sid, pid, op)                          # too soon
        self.assertEqual(len(self.b.violations()), 1)
        self.assertIn("Retry-After", self.b.violations()[0]["violation"])
        self.b.set_retry_after("Wed, 21 Oct 2037 07:28:00 GMT")
        self.assertEqual(c.last_op("i", sid, pid, op).headers["Retry-After"],
                         "Wed, 21 Oct 2037 07:28:00 GMT")
        self.b.set_retry_after(None)
        self.assertNotIn("Retry-After", c.last_op("i", sid, pid, op).headers)

    def test_no_operation_tokens(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        self.b.set_operation_tokens(False)
        r = self.assertStatus(c.provision("i", sid, pid, accepts=True), 202)
        self.assertNotIn("operation", r.json)
        self.assertStatus(c.last_op("i", sid, pid), 200)
        self.assertEqual(self.b.violations(), [])

    def test_failed_operation(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        self.b.fail_operations(True, plan_id=pid, op="provision", description="no capacity")
        op = c.provision("i", sid, pid, accepts=True).json["operation"]
        self.b.complete_operations()
        r = self.assertStatus(c.last_op("i", sid, pid, op), 200)
        self.assertEqual(r.json, {"state": "failed", "description": "no capacity"})
        self.assertEqual(self.b.instance("i")["state"], "failed")
        self.assertStatus(c.provision("i", sid, pid, accepts=True), 409)
        self.assertStatus(c.get_instance("i"), 404)
        # the orphan is deleted like any instance
        r = self.assertStatus(c.deprovision("i", sid, pid, accepts=True), 202)
        self.b.complete_operations()
        self.assertEqual(c.last_op("i", sid, pid, r.json["operation"]).json["state"],
                         "succeeded")
        self.assertEqual(self.b.instances(), {})
        self.b.fail_operations(False, plan_id=pid, op="provision")
        c.provision("j", sid, pid, accepts=True)
        self.b.complete_operations()
        self.assertEqual(self.b.instance("j")["state"], "succeeded")

    def test_update(self):
        c, sid = self.c, S["db"]
        self.ready_instance("i")
        r = self.assertStatus(c.update("i", sid, S["db/large"], {"size": "L"}), 200)
        self.assertIn("dashboard_url", r.json)
        inst = self.b.instance("i")
        self.assertEqual((inst["plan_id"], inst["parameters"]), (S["db/large"], {"size": "L"}))
        self.assertStatus(c.update("nothing", sid, S["db/large"]), 404)
        self.assertStatus(c.update("i", S["vault"], S["db/large"]), 400)
        self.assertStatus(c.update("i", None), 400)
        self.assertStatus(c.update("i", sid, S["vault/expiring"]), 400)
        self.assertStatus(c.update("i", sid, params={"size": "huge"}), 400, "ValidationError")
        self.assertStatus(c.update("i", sid, extra={"maintenance_info": {"version": "0"}}),
                          422, "MaintenanceInfoConflict")
        self.assertStatus(c.call("PATCH", "/v2/service_instances/i", raw=b"]"), 400)
        # vault is not plan_updateable
        self.assertStatus(c.provision("v", S["vault"], S["vault/expiring"]), 201)
        self.assertStatus(c.update("v", S["vault"], S["vault/nobind"]), 400)
        self.assertStatus(c.update("v", S["vault"], params={}), 200)   # same plan is fine

    def test_update_async(self):
        c, sid = self.c, S["db"]
        self.ready_instance("i")
        self.b.set_mode("async-only", op="update")
        self.assertStatus(c.update("i", sid, S["db/large"], {"size": "M"}), 422,
                          "AsyncRequired")
        r = self.assertStatus(c.update("i", sid, S["db/large"], {"size": "M"}, accepts=True),
                              202)
        op = r.json["operation"]
        self.assertEqual(c.update("i", sid, S["db/large"], {"size": "M"},
                                  accepts=True).json["operation"], op)
        self.assertStatus(c.update("i", sid, S["db/small"], accepts=True), 422,
                          "ConcurrencyError")
        self.assertStatus(c.get_instance("i"), 422, "ConcurrencyError")
        self.assertStatus(c.bind("i", "b", sid, S["db/small"]), 422, "ConcurrencyError")
        self.assertEqual(self.b.instance("i")["plan_id"], S["db/small"])
        self.b.complete_operations()
        self.assertEqual(c.last_op("i", sid, S["db/large"], op).json["state"], "succeeded")
        self.assertEqual(c.get_instance("i").json["plan_id"], S["db/large"])
        # a failed update keeps the old plan, and says the instance is usable
        self.b.fail_operations(True, op="update")
        op = c.update("i", sid, S["db/small"], accepts=True).json["operation"]
        self.b.complete_operations()
        r = c.last_op("i", sid, S["db/small"], op).json
        self.assertEqual((r["state"], r["instance_usable"], r["update_repeatable"]),
                         ("failed", True, True))
        self.assertEqual(self.b.instance("i")["plan_id"], S["db/large"])

    def test_deprovision(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.ready_instance("i")
        self.assertStatus(c.call("DELETE", "/v2/service_instances/i"), 400)
        self.assertStatus(c.call("DELETE", "/v2/service_instances/i",
                                 query={"service_id": sid}), 400)
        self.assertStatus(c.call("DELETE", "/v2/service_instances/i",
                                 query={"plan_id": pid}), 400)
        self.assertStatus(c.deprovision("i", sid, pid), 200)
        self.assertEqual(self.b.instances(), {})
        self.assertStatus(c.deprovision("i", sid, pid), 410)
        self.assertStatus(c.deprovision("never", sid, pid), 410)
        self.assertStatus(c.last_op("i", sid, pid), 410)
        # a wrong plan in the query is answered but noted
        self.ready_instance("j")
        self.assertStatus(c.deprovision("j", sid, S["db/large"]), 200)
        self.assertEqual(len(self.b.violations()), 1)

    def test_deprovision_async(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        op = c.provision("i", sid, pid, accepts=True).json["operation"]
        self.b.complete_operations()
        self.assertStatus(c.deprovision("i", sid, pid), 422, "AsyncRequired")
        r = self.assertStatus(c.deprovision("i", sid, pid, accepts=True), 202)
        dop = r.json["operation"]
        self.assertNotEqual(dop, op)
        self.assertEqual(c.deprovision("i", sid, pid, accepts=True).json["operation"], dop)
        self.assertEqual(c.last_op("i", sid, pid, dop).json["state"], "in progress")
        self.assertStatus(c.provision("i", sid, pid, accepts=True), 422, "ConcurrencyError")
        self.b.complete_operations()
        self.assertEqual(self.b.instances(), {})
        self.assertEqual(c.last_op("i", sid, pid, dop).json["state"], "succeeded")
        self.assertStatus(c.last_op("i", sid, pid, dop), 410)
        self.assertStatus(c.deprovision("i", sid, pid, accepts=True), 410)
        # "gone" mode: the first poll after the delete is already 410
        self.b.set_delete_poll("gone")
        c.provision("j", sid, pid, accepts=True)
        self.b.complete_operations()
        dop = c.deprovision("j", sid, pid, accepts=True).json["operation"]
        self.b.complete_operations()
        self.assertStatus(c.last_op("j", sid, pid, dop), 410)
        self.assertRaises(ValueError, self.b.set_delete_poll, "maybe")
        # a failed deprovision leaves the instance
        self.b.fail_operations(True, op="deprovision")
        c.provision("k", sid, pid, accepts=True)
        self.b.complete_operations()
        dop = c.deprovision("k", sid, pid, accepts=True).json["operation"]
        self.b.complete_operations()
        self.assertEqual(c.last_op("k", sid, pid, dop).json["state"], "failed")
        self.assertIn("k", self.b.instances())
        self.assertEqual(self.b.violations(), [])

    def test_deprovision_during_provision(self):
        c, sid, pid = self.c, S["db"], S["db/async"]
        op = c.provision("i", sid, pid, accepts=True).json["operation"]
        dop = self.assertStatus(c.deprovision("i", sid, pid, accepts=True), 202).json["operation"]
        self.assertEqual(self.b.instance("i")["state"], "failed")
        self.assertStatus(c.last_op("i", sid, pid, op), 400)    # the old token is over
        self.b.complete_operations()
        self.assertEqual(c.last_op("i", sid, pid, dop).json["state"], "succeeded")
        self.assertEqual(self.b.instances(), {})

    def test_deprovision_with_bindings(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.ready_instance("i")
        self.assertStatus(c.bind("i", "b", sid, pid), 201)
        self.assertStatus(c.deprovision("i", sid, pid), 400)
        self.assertIn("bindings", self.b.violations()[0]["violation"])
        self.assertIn("i", self.b.instances())
        self.b.set_refuse_delete_with_bindings(False)
        self.assertStatus(c.deprovision("i", sid, pid), 200)
        self.assertEqual(len(self.b.violations()), 2)
        self.assertEqual(self.b.bindings(), {})


# -- bindings --------------------------------------------------------------------------------

class TestBindings(BrokerTest):
    def test_sync(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.ready_instance("i")
        r = self.assertStatus(c.bind("i", "b1", sid, pid, {"role": "ro"}), 201)
        creds = r.json["credentials"]
        self.assertTrue(creds["password"].startswith("pw-"))
        self.assertIn(creds["password"], creds["uri"])
        self.assertNotIn("metadata", r.json)                  # no expiry on this plan
        self.assertEqual(self.b.binding("i", "b1")["credentials"], creds)
        self.assertEqual(self.b.binding("i", "b1")["parameters"], {"role": "ro"})
        r2 = self.assertStatus(c.bind("i", "b2", sid, pid), 201)
        self.assertNotEqual(r2.json["credentials"]["password"], creds["password"])
        # identical repeat 200 with the same credentials; other attributes 409
        self.assertEqual(self.assertStatus(c.bind("i", "b1", sid, pid, {"role": "ro"}),
                                           200).json["credentials"], creds)
        self.assertStatus(c.bind("i", "b1", sid, pid, {"role": "rw"}), 409)
        r = self.assertStatus(c.get_binding("i", "b1"), 200)
        self.assertEqual((r.json["credentials"], r.json["parameters"]), (creds, {"role": "ro"}))
        self.assertStatus(c.get_binding("i", "nothing"), 404)
        self.assertStatus(c.get_binding("nothing", "b1"), 404)
        self.assertEqual(sorted(self.b.bindings("i")), ["b1", "b2"])
        self.assertEqual(self.b.instance("i")["bindings"], ["b1", "b2"])
        # unbind
        self.assertStatus(c.call("DELETE", "/v2/service_instances/i/service_bindings/b1"), 400)
        self.assertStatus(c.call("DELETE", "/v2/service_instances/i/service_bindings/b1",
                                 query={"service_id": sid}), 400)
        self.assertStatus(c.unbind("i", "b1", sid, pid), 200)
        self.assertStatus(c.unbind("i", "b1", sid, pid), 410)
        self.assertStatus(c.unbind("nothing", "b1", sid, pid), 410)
        self.assertStatus(c.binding_last_op("i", "b1", sid, pid), 410)
        self.assertEqual(sorted(self.b.bindings()), ["b2"])
        self.assertEqual(self.b.violations(), [])

    def test_refused(self):
        c = self.c
        self.assertStatus(c.bind("nothing", "b", S["db"], S["db/small"]), 404)
        self.ready_instance("i")
        self.assertStatus(c.bind("i", "b", S["db"], S["db/large"]), 400)     # not its plan
        self.assertStatus(c.bind("i", "b", S["db"], S["db/small"], {"role": "admin"}), 400,
                          "ValidationError")
        self.assertStatus(c.call("PUT", "/v2/service_instances/i/service_bindings/b",
                                 raw=b"nope"), 400)
        c.provision("n", S["vault"], S["vault/nobind"])
        self.assertStatus(c.bind("n", "b", S["vault"], S["vault/nobind"]), 400)
        c.provision("q", S["queue"], S["queue/basic"])
        self.assertStatus(c.bind("q", "b", S["queue"], S["queue/basic"]), 400)
        c.provision("a", S["db"], S["db/async"], accepts=True)
        self.assertStatus(c.bind("a", "b", S["db"], S["db/async"]), 422, "ConcurrencyError")
        self.b.set_requires_app(S["db/small"])
        self.assertStatus(c.bind("i", "b", S["db"], S["db/small"]), 422, "RequiresApp")
        self.assertStatus(c.bind("i", "b", S["db"], S["db/small"],
                                 extra={"bind_resource": {"app_guid": "app-1"}}), 201)
        self.b.set_requires_app(S["db/small"], False)
        self.assertStatus(c.bind("i", "b2", S["db"], S["db/small"]), 201)
        self.assertEqual(sorted(self.b.bindings()), ["b", "b2"])

    def test_expiry(self):
        c, sid, pid = self.c, S["vault"], S["vault/expiring"]
        c.provision("v", sid, pid)
        t = time.time()
        r = self.assertStatus(c.bind("v", "b", sid, pid), 201)
        exp = r.json["metadata"]["expires_at"]
        self.assertRegex(exp, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        when = time.mktime(time.strptime(exp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertAlmostEqual(when, t + 86400, delta=5)      # expiryDays 1
        self.b.set_binding_expiry(2)
        t = time.time()
        md = c.bind("v", "b2", sid, pid).json["metadata"]
        when = time.mktime(time.strptime(md["expires_at"][:19], "%Y-%m-%dT%H:%M:%S")) \
            - time.timezone
        self.assertAlmostEqual(when, t + 2, delta=1.5)
        self.assertLess(md["renew_before"], md["expires_at"])
        self.b.set_binding_expiry(None)
        self.assertAlmostEqual(
            time.mktime(time.strptime(c.bind("v", "b3", sid, pid).json["metadata"][
                "expires_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone,
            time.time() + 86400, delta=5)
        self.ready_instance("i")
        self.b.set_binding_expiry(60, plan_id=S["db/small"])
        self.assertIn("expires_at", c.bind("i", "b", S["db"], S["db/small"]).json["metadata"])
        # vault's bindings are not retrievable: a GET is a violation
        self.assertStatus(c.get_binding("v", "b"), 400)
        self.assertEqual(len(self.b.violations()), 1)

    def test_credentials_once(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.ready_instance("i")
        self.b.set_credentials_once(True)
        r = self.assertStatus(c.bind("i", "b", sid, pid), 201)
        self.assertIn("credentials", r.json)
        self.assertNotIn("credentials", self.assertStatus(c.bind("i", "b", sid, pid),
                                                          200).json)
        self.assertNotIn("credentials", self.assertStatus(c.get_binding("i", "b"), 200).json)
        self.assertTrue(self.b.binding("i", "b")["credentials_delivered"])
        # per plan, and off again
        self.b.set_credentials_once(False)
        self.assertIn("credentials", c.get_binding("i", "b").json)
        self.b.set_credentials_once(True, plan_id=pid)
        self.assertNotIn("credentials", c.get_binding("i", "b").json)

    def test_async(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.ready_instance("i")
        self.b.set_mode("async-only", plan_id=pid, op="bind")
        self.assertStatus(c.bind("i", "b", sid, pid), 422, "AsyncRequired")
        r = self.assertStatus(c.bind("i", "b", sid, pid, accepts=True), 202)
        self.assertNotIn("credentials", r.json)
        op = r.json["operation"]
        self.assertEqual(c.bind("i", "b", sid, pid, accepts=True).json["operation"], op)
        self.assertStatus(c.get_binding("i", "b"), 404)
        self.assertEqual(c.binding_last_op("i", "b", sid, pid, op).json["state"], "in progress")
        self.assertStatus(c.binding_last_op("i", "b", sid, pid, "wrong"), 400)
        self.assertStatus(c.call("GET", "/v2/service_instances/i/service_bindings/b/"
                                 "last_operation", query={"operation": op}), 400)
        self.b.clear_violations()
        self.assertEqual(self.b.complete_operations(bid="x"), 0)
        self.assertEqual(self.b.complete_operations(iid="i", bid="b"), 1)
        self.assertEqual(c.binding_last_op("i", "b", sid, pid, op).json["state"], "succeeded")
        r = self.assertStatus(c.get_binding("i", "b"), 200)
        self.assertEqual(r.json["credentials"], self.b.binding("i", "b")["credentials"])
        self.assertStatus(c.binding_last_op("i", "other", sid, pid), 404)
        # async unbind
        self.b.set_mode("async", plan_id=pid, op="unbind")
        uop = self.assertStatus(c.unbind("i", "b", sid, pid, accepts=True), 202).json["operation"]
        self.assertEqual(c.unbind("i", "b", sid, pid, accepts=True).json["operation"], uop)
        self.assertStatus(c.bind("i", "b", sid, pid, accepts=True), 422, "ConcurrencyError")
        self.assertEqual(c.binding_last_op("i", "b", sid, pid, uop).json["state"],
                         "in progress")
        self.b.complete_operations()
        self.assertEqual(c.binding_last_op("i", "b", sid, pid, uop).json["state"], "succeeded")
        self.assertStatus(c.binding_last_op("i", "b", sid, pid, uop), 410)
        self.assertEqual(self.b.bindings(), {})
        # a failing bind
        self.b.fail_operations(True, op="bind")
        op = c.bind("i", "f", sid, pid, accepts=True).json["operation"]
        self.b.complete_operations()
        self.assertEqual(c.binding_last_op("i", "f", sid, pid, op).json["state"], "failed")
        self.assertStatus(c.get_binding("i", "f"), 404)
        self.assertStatus(c.bind("i", "f", sid, pid, accepts=True), 409)
        self.assertEqual(self.b.violations(), [])
        # a binding's poll after its instance is gone
        self.b.set_refuse_delete_with_bindings(False)
        c.deprovision("i", sid, pid)
        self.assertStatus(c.binding_last_op("i", "f", sid, pid), 410)

    def test_rotation(self):
        c, sid, pid = self.c, S["vault"], S["vault/expiring"]
        c.provision("v", sid, pid)
        old = c.bind("v", "b1", sid, pid).json["credentials"]
        r = self.assertStatus(c.bind("v", "b2", sid, pid,
                                     extra={"predecessor_binding_id": "b1"}), 201)
        self.assertNotEqual(r.json["credentials"], old)
        self.assertEqual(self.b.binding("v", "b2")["predecessor_binding_id"], "b1")
        self.assertStatus(c.bind("v", "b3", sid, pid,
                                 extra={"predecessor_binding_id": "nothing"}), 400)
        self.ready_instance("i")
        c.bind("i", "b1", S["db"], S["db/small"])
        self.assertStatus(c.bind("i", "b2", S["db"], S["db/small"],
                                 extra={"predecessor_binding_id": "b1"}), 400)

    def test_two_instances_two_users(self):
        # what the visibility tests will rely on: credentials per binding
        self.ready_instance("i1")
        self.ready_instance("i2")
        a = self.c.bind("i1", "b", S["db"], S["db/small"]).json["credentials"]
        b = self.c.bind("i2", "b", S["db"], S["db/small"]).json["credentials"]
        self.assertNotEqual(a, b)
        self.assertEqual(sorted(self.b.bindings()), ["b"])    # same bid, keyed by instance
        self.assertEqual(len(self.b.bindings("i1")) + len(self.b.bindings("i2")), 2)


# -- faults ------------------------------------------------------------------------------------

class TestFaults(BrokerTest):
    def test_status_faults(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        for status, error in ((409, None), (410, None), (412, None), (422, "ConcurrencyError"),
                              (500, None), (503, "Unavailable")):
            self.b.inject("provision", status=status, error=error)
            r = self.assertStatus(c.provision("i", sid, pid), status)
            if error:
                self.assertEqual(r.json["error"], error)
            self.assertEqual(self.b.instances(), {})          # not carried out
        self.assertEqual(self.b.faults(), [])
        self.b.inject("provision")                            # 500 by default
        self.assertStatus(c.provision("i", sid, pid), 500)
        self.b.inject("provision", status=500, apply=True)    # carried out, then 500
        self.assertStatus(c.provision("i", sid, pid), 500)
        self.assertIn("i", self.b.instances())
        self.b.inject("bind", status=500, count=2, body={"description": "custom"})
        self.assertEqual(c.bind("i", "b", sid, pid).json, {"description": "custom"})
        self.assertStatus(c.bind("i", "b", sid, pid), 500)
        self.assertStatus(c.bind("i", "b", sid, pid), 201)
        self.assertEqual(self.b.requests(route="bind")[0]["status"], 500)

    def test_fault_scope(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.b.inject("provision", status=500, iid="j")
        self.assertStatus(c.provision("i", sid, pid), 201)
        self.assertStatus(c.provision("j", sid, pid), 500)
        self.b.inject("*", status=502, count=2)
        self.assertStatus(c.catalog(), 502)
        self.assertStatus(c.get_instance("i"), 502)
        self.assertStatus(c.catalog(), 200)
        self.b.inject("unbind", status=500, bid="x", count=5)
        self.assertEqual(len(self.b.faults()), 1)
        self.b.clear_faults()
        self.assertEqual(self.b.faults(), [])
        # faults apply after auth and version
        self.b.inject("catalog", status=500)
        self.assertStatus(c.catalog(auth=False), 401)
        self.assertStatus(c.catalog(), 500)
        for bad in ({"route": "nope"}, {"route": "bind", "kind": "nope"},
                    {"route": "bind", "count": 0}, {"route": "bind", "status": 99},
                    {"route": "bind", "seconds": "x", "kind": "timeout"}):
            self.assertRaises(ValueError, self.b.inject, **bad)

    def test_timeout(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.b.inject("provision", kind="timeout", seconds=1.0)
        t = time.monotonic()
        with self.assertRaises(socket.timeout):
            c.provision("i", sid, pid, timeout=0.3)
        self.assertLess(time.monotonic() - t, 0.9)
        self.assertIn("i", self.b.instances())                # carried out: an orphan
        self.assertStatus(c.provision("i", sid, pid), 200)
        # a patient client gets the normal answer, late; or the forced one
        self.b.inject("bind", kind="timeout", seconds=0.3)
        t = time.monotonic()
        self.assertStatus(c.bind("i", "b", sid, pid), 201)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.b.inject("bind", kind="timeout", seconds=0.1, status=504)
        self.assertStatus(c.bind("i", "b2", sid, pid), 504)
        self.assertIn("b2", self.b.bindings())

    def test_bodies(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.b.inject("provision", kind="garbage")
        r = self.assertStatus(c.provision("i", sid, pid), 201)
        self.assertRaises(ValueError, lambda: r.json)
        self.assertIn("i", self.b.instances())
        self.b.inject("bind", kind="malformed_json")
        r = self.assertStatus(c.bind("i", "b", sid, pid), 201)
        self.assertRaises(ValueError, lambda: r.json)
        self.assertIn("b", self.b.bindings())
        self.b.inject("bind", kind="garbage", status=200)
        self.assertStatus(c.bind("i", "b2", sid, pid), 200)
        self.b.inject("bind", status=204, raw="", apply=True)  # "any other 2xx"
        self.assertStatus(c.bind("i", "b3", sid, pid), 204)
        self.assertIn("b3", self.b.bindings())
        self.b.inject("instance_last_operation", kind="malformed_json", status=200)
        r = self.assertStatus(c.last_op("i", sid, pid), 200)
        self.assertRaises(ValueError, lambda: r.json)
        self.b.inject("catalog", kind="status", status=200, raw="{\"services\": [",
                      headers={"X-Extra": "1"})
        r = c.catalog()
        self.assertEqual((r.status, r.headers.get("X-Extra")), (200, "1"))
        self.assertRaises(ValueError, lambda: r.json)

    def test_close(self):
        c, sid, pid = self.c, S["db"], S["db/small"]
        self.b.inject("provision", kind="close")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            c.provision("i", sid, pid)
        self.assertIn("i", self.b.instances())
        self.assertEqual(self.b.requests(route="provision")[0]["status"], 0)

    def test_latency_and_delay(self):
        self.b.set_latency(0.3)
        t = time.monotonic()
        self.assertStatus(self.c.catalog(), 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.b.set_latency(0)
        self.b.inject("catalog", kind="delay", seconds=0.3)
        t = time.monotonic()
        self.assertStatus(self.c.catalog(), 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.assertEqual(self.b.faults(), [])

    def test_down_and_up(self):
        port = self.b.port
        self.ready_instance("i")
        self.assertTrue(self.b.is_up())
        self.b.down()
        self.assertFalse(self.b.is_up())
        with self.assertRaises(ConnectionRefusedError):
            self.c.catalog()
        self.b.up()
        self.assertEqual(self.b.port, port)
        self.assertStatus(self.c.catalog(), 200)
        self.assertIn("i", self.b.instances())               # state kept
        self.b.down(0.3)
        with self.assertRaises(ConnectionRefusedError):
            self.c.catalog()
        self.assertTrue(wait_until(self.b.is_up, 3))
        self.assertStatus(self.c.catalog(), 200)

    def test_down_drops_open_connections(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.b.port, timeout=5)
        h = {"X-Broker-API-Version": "2.17", "Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()}
        conn.request("GET", "/v2/catalog", headers=h)
        conn.getresponse().read()
        self.b.down()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, OSError)):
            conn.request("GET", "/v2/catalog", headers=h)
            conn.getresponse().read()
        conn.close()
        self.b.up()


# -- catalog changes ------------------------------------------------------------------------------

class TestCatalogChanges(BrokerTest):
    def ids(self):
        return ob.catalog_ids(self.c.catalog().json)

    def test_changes(self):
        b = self.b
        new = ob.make_service("extra", 9, "extra", 2)
        b.add_service(new)
        self.assertIn("extra", self.ids())
        b.add_plan(new["id"], ob.make_plan("extra", 7, "added"))
        self.assertIn("extra/added", self.ids())
        b.update_plan(S["db/small"], {"description": "changed", "free": None})
        p = [p for s in self.c.catalog().json["services"] for p in s["plans"]
             if p["id"] == S["db/small"]][0]
        self.assertEqual(p["description"], "changed")
        self.assertNotIn("free", p)
        b.update_service(S["db"], {"name": "db-renamed"})
        self.assertIn("db-renamed", [s["name"] for s in b.get_catalog()["services"]])
        # an instance of a removed plan can still be deleted
        self.ready_instance("i")
        b.remove_plan(S["db/small"])
        self.assertNotIn(S["db/small"], self.ids().values())
        self.assertStatus(self.c.provision("j", S["db"], S["db/small"]), 400)
        self.assertStatus(self.c.deprovision("i", S["db"], S["db/small"]), 200)
        b.remove_service(S["queue"])
        self.assertNotIn("queue", self.ids())
        for bad in (lambda: b.remove_plan("nothing"), lambda: b.remove_service("nothing"),
                    lambda: b.update_plan("nothing", {}), lambda: b.set_catalog({"x": 1}),
                    lambda: b.set_catalog({"services": [{"name": "no id", "plans": []}]})):
            self.assertRaises(ValueError, bad)
        b.set_catalog(ob.make_catalog(2, 2))
        self.assertEqual(len(self.c.catalog().json["services"]), 2)
        b.reset()
        self.assertEqual(self.c.catalog().json, ob.small_catalog())
        self.assertEqual(b.instances(), {})
        self.assertEqual(b.log()[-1]["route"], "catalog")

    def test_reset(self):
        self.ready_instance("i")
        self.b.set_mode("async")
        self.b.inject("bind", status=500)
        self.b.reset()
        self.assertEqual((self.b.instances(), self.b.faults(), self.b.log(),
                          self.b.violations()), ({}, [], [], []))
        self.assertStatus(self.c.provision("i", S["db"], S["db/small"], accepts=True), 201)
        self.assertEqual(self.b.settings()["modes"][-1],
                         {"plan_id": None, "op": None, "value": "sync"})


class TestConcurrency(BrokerTest):
    DELAY = 0.5

    def test_many_async_provisions(self):
        self.b.set_mode("async")
        results = []

        def one(n):
            iid = "i-%d" % n
            r = self.c.provision(iid, S["db"], S["db/large"], {"size": "S"}, accepts=True)
            op = r.json["operation"]
            for _ in range(20):
                time.sleep(0.3)
                r = self.c.last_op(iid, S["db"], S["db/large"], op)
                if r.json["state"] != "in progress":
                    break
            results.append(r.json["state"])
        threads = [threading.Thread(target=one, args=(n,)) for n in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(results, ["succeeded"] * 40)
        self.assertEqual(self.b.count("provision"), 40)
        self.assertGreaterEqual(self.b.last_operation_calls(), 40 * 2)
        self.assertEqual(self.b.violations(), [])


# -- the process and its control endpoint ---------------------------------------------------------

class TestProcess(unittest.TestCase):
    def test_control_endpoint(self):
        with ob.BrokerProcess(USER, PASSWORD, catalog="small", async_delay=0.2,
                              control_token="tok", max_lifetime=60) as p:
            self.assertEqual(listening_addresses(p.port), ["0100007F"])
            c = Client(p.url)
            self.assertStatus(c.catalog(), 200)
            # the same methods as Broker, over POST /_control
            p.set_mode("async", S["db/small"])
            p.inject("bind", status=500)
            self.assertEqual(len(p.faults()), 1)
            self.assertEqual(c.provision("i", S["db"], S["db/small"], accepts=True).status, 202)
            self.assertEqual(p.instance("i")["state"], "in progress")
            self.assertTrue(wait_until(lambda: p.instance("i")["state"] == "succeeded", 3))
            self.assertEqual(p.requests(route="provision")[0]["iid"], "i")
            self.assertEqual(p.count("provision"), 1)
            self.assertEqual(p.settings()["modes"][-1]["value"], "async")
            # errors, token, batches
            raw = Client(p.url)
            r = raw.call("POST", "/_control", {"call": "nope"}, auth=False,
                         headers={"X-Control-Token": "tok"})
            self.assertEqual(r.status, 400)
            r = raw.call("POST", "/_control", {"call": "count"}, auth=False)
            self.assertEqual(r.status, 403)
            r = raw.call("POST", "/_control", {"call": "set_mode", "args": {"mode": "x"}},
                         auth=False, headers={"X-Control-Token": "tok"})
            self.assertEqual(r.status, 400)
            r = raw.call("POST", "/_control", [{"call": "count", "args": {"route": "provision"}},
                                               {"call": "last_operation_calls"}],
                         auth=False, headers={"X-Control-Token": "tok"})
            self.assertEqual(r.json, {"result": [1, 0]})
            self.assertEqual(raw.call("GET", "/_control", headers={"X-Control-Token": "tok"},
                                      auth=False).status, 405)
            self.assertRaises(RuntimeError, p.inject, "nope")
            # down for a while, then back on the same port with its state
            p.down(0.5)
            self.assertTrue(wait_until(lambda: not listening_addresses(p.port), 2))
            self.assertRaises(ConnectionRefusedError, c.catalog)
            self.assertTrue(wait_until(lambda: listening_addresses(p.port), 3))
            self.assertIn("i", p.instances())
            proc = p.proc
        # stop() closed stdin: it is gone
        self.assertIsNotNone(proc.poll())

    def test_stops_by_itself(self):
        p = ob.BrokerProcess(catalog="big:20x5", max_lifetime=1).start()
        c = Client(p.url, "broker", "secret")
        self.assertEqual(len(c.catalog().json["services"]), 20)
        self.assertTrue(wait_until(lambda: p.proc.poll() is not None, 6))
        self.assertEqual(p.proc.returncode, 0)
        p.stop()

    def test_shutdown_call(self):
        p = ob.BrokerProcess(max_lifetime=30).start()
        self.assertTrue(p.control("shutdown"))
        self.assertTrue(wait_until(lambda: p.proc.poll() is not None, 5))
        self.assertEqual(p.proc.returncode, 0)
        p.stop()

    def spawn(self, argv, stdin):
        """A broker process killed after the test even when it fails, and
        with this process if it dies."""
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                preexec_fn=ob._child_setup)

        def cleanup():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for f in (proc.stdin, proc.stdout):
                if f:
                    f.close()
        self.addCleanup(cleanup)
        return proc

    def test_stdin_eof_and_sigterm(self):
        argv = [sys.executable, ob.__file__, "--port", "0", "--max-lifetime", "30"]
        proc = self.spawn(argv, subprocess.PIPE)
        port = int(proc.stdout.readline())
        self.assertEqual(listening_addresses(port), ["0100007F"])
        proc.stdin.close()
        self.assertEqual(proc.wait(5), 0)
        proc = self.spawn(argv + ["--ignore-stdin", "--port", str(port)], subprocess.DEVNULL)
        self.assertEqual(int(proc.stdout.readline()), port)   # the port it was given
        time.sleep(0.3)
        self.assertIsNone(proc.poll())
        proc.terminate()
        self.assertEqual(proc.wait(5), 0)
        bad = subprocess.run(argv + ["--catalog", "/nonexistent.json"],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        self.assertNotEqual(bad.returncode, 0)

    assertStatus = BrokerTest.assertStatus


class TestCoverage(unittest.TestCase):
    def test_every_control_call_is_exercised(self):
        with open(__file__) as f:
            src = f.read()
        missing = [n for n in ob.BrokerState.CONTROL if not re.search(r"\.%s\(" % n, src)]
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
