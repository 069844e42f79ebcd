#!/usr/bin/env python3
"""A test Open Service Broker (OSB API v2.17) on 127.0.0.1, for the osb
driver's tests and bench.  Python 3 standard library only.

The broker answers every route of the spec's server side (see
/work/shared/reference/osb.md and the OSB spec at tag v2.17), records every
request, and lets a test change its behaviour while it runs: sync or async
per plan and operation, the duration of async operations, Retry-After,
operations that end "failed", faults forced on the next N requests of a
route (any status, a timeout, a garbage or malformed body, a dropped
connection), credentials returned once, binding expiry, a catalog that
changes, and a broker that goes down and comes back on the same port.

In-process (the tests' usual way):

    import osb_broker
    b = osb_broker.Broker(user="u", password="p").start()
    b.url                                  # http://127.0.0.1:PORT
    b.set_mode("async", plan_id=osb_broker.SMALL["db/small"])
    b.inject("bind", status=500, count=1)
    ...
    b.requests(route="provision")          # the request log
    b.last_operation_calls()
    b.stop()

As a process (the bench, or a broker that must outlive its test):

    python3 test/osb_broker.py --port 0 --user U --password P \
        [--catalog small|big:1000x5|FILE.json] [--mode async] [--async-delay S]

prints its port on stdout's first line and serves until stdin closes (unless
--ignore-stdin), it is killed (SIGTERM/SIGINT), or --max-lifetime seconds
(default 3600) pass.  From Python, BrokerProcess(...) starts it that way and
offers the same methods as Broker, each one a POST to the control endpoint:

    POST /_control  {"call": "set_mode", "args": {"mode": "async"}}
                    -> {"result": ...}          (or a list of such calls)

The calls are the names in BrokerState.CONTROL, plus "down" ({"seconds":
S}) and "shutdown".  The endpoint is outside /v2 and takes no Basic auth;
with --control-token T it requires the header X-Control-Token: T.  It
listens on the broker's port, so it is unreachable while the broker is
down: down() from a BrokerProcess takes the number of seconds to stay down.

Routes (a request's "route" in the log and in inject()):
    catalog                  GET    /v2/catalog
    provision                PUT    /v2/service_instances/:iid
    update                   PATCH  /v2/service_instances/:iid
    deprovision              DELETE /v2/service_instances/:iid
    get_instance             GET    /v2/service_instances/:iid
    instance_last_operation  GET    /v2/service_instances/:iid/last_operation
    bind                     PUT    .../service_bindings/:bid
    unbind                   DELETE .../service_bindings/:bid
    get_binding              GET    .../service_bindings/:bid
    binding_last_operation   GET    .../service_bindings/:bid/last_operation

Order of checks on /v2: Basic auth (401), X-Broker-API-Version (412), forced
faults, then the route's own checks (400, 404, 409, 410, 422).

Async operations are settled lazily, from the clock, whenever a request or
an inspection touches them: no background thread runs them, so a broker
left alone does nothing.  complete_operations() ends them at once (tests
that must not depend on timing use a long delay and call it).

Protocol mistakes of the client that the broker still answers (polling
before Retry-After, a wrong operation token, a deprovision with bindings, a
GET of a non-retrievable binding...) are listed by violations(): tests
assert it stays empty.
"""

import argparse
import atexit
import base64
import copy
import datetime
import hmac
import http.server
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

HOST = "127.0.0.1"          # the only address this module ever binds
MAX_BODY = 1 << 20          # request bodies above this are refused (413)
MAX_SLEEP = 600.0           # bound of every sleep a switch can ask for
MAX_LOG = 200000            # request-log entries kept (the counts keep all)
MAX_LOGGED_RAW = 65536      # characters of a raw body kept in the log
MAX_LIFETIME = 86400.0      # bound of --max-lifetime
HANDLER_TIMEOUT = 60        # an idle or slow connection is closed after this

ROUTES = ("catalog", "provision", "update", "deprovision", "get_instance",
          "instance_last_operation", "bind", "unbind", "get_binding",
          "binding_last_operation")
LAST_OPERATION_ROUTES = ("instance_last_operation", "binding_last_operation")
OPS = ("provision", "update", "deprovision", "bind", "unbind")
MODES = ("sync", "async", "async-only")

IN_PROGRESS, SUCCEEDED, FAILED = "in progress", "succeeded", "failed"


# -- JSON Schema (draft-04 subset) -----------------------------------------------

def _is_type(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    if isinstance(v, bool):
        return False
    if t == "integer":
        return isinstance(v, int) or (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float))
    return True     # unknown type names do not restrict


def validate(schema, value, path="$"):
    """Errors (strings) of @value against a draft-04 @schema; [] when valid.
    Covers type, enum, minimum/maximum (+exclusive*), multipleOf, min/maxLength,
    pattern, properties, required, additionalProperties, patternProperties,
    items, min/maxItems, uniqueItems, min/maxProperties, allOf/anyOf/oneOf/not.
    $ref is not followed."""
    errors = []
    _validate(schema, value, path, errors, 0)
    return errors


def _validate(s, v, path, errors, depth):
    if not isinstance(s, dict) or depth > 64:
        return
    t = s.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_is_type(x, v) for x in types):
            errors.append("%s: not of type %s" % (path, "/".join(map(str, types))))
            return
    if "enum" in s and isinstance(s["enum"], list) and v not in s["enum"]:
        errors.append("%s: not one of %s" % (path, json.dumps(s["enum"])))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s:
            if v < s["minimum"] or (s.get("exclusiveMinimum") is True and v == s["minimum"]):
                errors.append("%s: below the minimum %s" % (path, s["minimum"]))
        if "maximum" in s:
            if v > s["maximum"] or (s.get("exclusiveMaximum") is True and v == s["maximum"]):
                errors.append("%s: above the maximum %s" % (path, s["maximum"]))
        m = s.get("multipleOf")
        if isinstance(m, (int, float)) and m > 0 and abs(v / m - round(v / m)) > 1e-9:
            errors.append("%s: not a multiple of %s" % (path, m))
    if isinstance(v, str):
        if "minLength" in s and len(v) < s["minLength"]:
            errors.append("%s: shorter than %s" % (path, s["minLength"]))
        if "maxLength" in s and len(v) > s["maxLength"]:
            errors.append("%s: longer than %s" % (path, s["maxLength"]))
        if "pattern" in s:
            try:
                if not re.search(s["pattern"], v):
                    errors.append("%s: does not match %s" % (path, s["pattern"]))
            except re.error:
                pass
    if isinstance(v, dict):
        props = s.get("properties") or {}
        pprops = s.get("patternProperties") or {}
        for req in s.get("required") or []:
            if req not in v:
                errors.append("%s: %s is required" % (path, req))
        if "minProperties" in s and len(v) < s["minProperties"]:
            errors.append("%s: fewer than %s properties" % (path, s["minProperties"]))
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            errors.append("%s: more than %s properties" % (path, s["maxProperties"]))
        for k, x in v.items():
            sub = "%s.%s" % (path, k)
            matched = False
            if k in props:
                matched = True
                _validate(props[k], x, sub, errors, depth + 1)
            for pat, ps in pprops.items():
                try:
                    if re.search(pat, k):
                        matched = True
                        _validate(ps, x, sub, errors, depth + 1)
                except re.error:
                    pass
            if not matched:
                extra = s.get("additionalProperties", True)
                if extra is False:
                    errors.append("%s: additional property %s" % (path, k))
                elif isinstance(extra, dict):
                    _validate(extra, x, sub, errors, depth + 1)
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errors.append("%s: fewer than %s items" % (path, s["minItems"]))
        if "maxItems" in s and len(v) > s["maxItems"]:
            errors.append("%s: more than %s items" % (path, s["maxItems"]))
        if s.get("uniqueItems") is True:
            seen = [json.dumps(x, sort_keys=True) for x in v]
            if len(set(seen)) != len(seen):
                errors.append("%s: items are not unique" % path)
        items = s.get("items")
        if isinstance(items, dict):
            for i, x in enumerate(v):
                _validate(items, x, "%s[%d]" % (path, i), errors, depth + 1)
        elif isinstance(items, list):
            for i, x in enumerate(v[:len(items)]):
                _validate(items[i], x, "%s[%d]" % (path, i), errors, depth + 1)
    for sub in s.get("allOf") or []:
        _validate(sub, v, path, errors, depth + 1)
    if s.get("anyOf"):
        if not any(not validate_at(x, v, depth) for x in s["anyOf"]):
            errors.append("%s: matches none of anyOf" % path)
    if s.get("oneOf"):
        n = sum(1 for x in s["oneOf"] if not validate_at(x, v, depth))
        if n != 1:
            errors.append("%s: matches %d of oneOf, not exactly one" % (path, n))
    if isinstance(s.get("not"), dict) and not validate_at(s["not"], v, depth):
        errors.append("%s: matches a 'not' schema" % path)


def validate_at(schema, value, depth):
    errors = []
    _validate(schema, value, "$", errors, depth + 1)
    return errors


# -- catalogs --------------------------------------------------------------------

DRAFT04 = "http://json-schema.org/draft-04/schema#"
_NS = uuid.UUID("6f1d3c52-0b5e-4d0a-9a57-3f0c1e2b7a90")


def _id(*parts):
    """A stable GUID for a catalog entry: the same on every run."""
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def create_schema(required=(), extra=None):
    """The instance-create parameter schema the fixture catalogs use."""
    schema = {
        "$schema": DRAFT04,
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "size": {"type": "string", "enum": ["S", "M", "L"],
                     "description": "Instance size"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 5},
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,30}$"},
            "backup": {"type": "boolean"},
        },
    }
    if required:
        schema["required"] = list(required)
    if extra:
        schema["properties"].update(extra)
    return schema


def bind_schema():
    return {"$schema": DRAFT04, "type": "object", "additionalProperties": False,
            "properties": {"role": {"type": "string", "enum": ["ro", "rw"]}}}


def _costs(amount):
    return [{"amount": {"usd": amount, "eur": round(amount * 0.9, 2)}, "unit": "MONTHLY"}]


def make_plan(service_key, j, name=None, free=None, expiry_days=None, bindable=None,
              plan_updateable=None, binding_rotatable=False, schema=True,
              required=(), maximum_polling_duration=None, maintenance_version=None):
    """One plan: @service_key and @j make its stable id."""
    free = (j == 0) if free is None else free
    name = name or "plan-%d" % j
    meta = {"displayName": name.capitalize().replace("-", " "),
            "bullets": ["%s bullet one" % name, "%s bullet two" % name]}
    if not free:
        meta["costs"] = _costs(round(5.0 * (j + 1), 2))
    if expiry_days is not None:
        meta["expiryDays"] = expiry_days
    plan = {"id": _id(service_key, "plan", j), "name": name,
            "description": "Plan %s of %s" % (name, service_key),
            "metadata": meta, "free": free,
            "maintenance_info": {"version": maintenance_version or "1.%d.0" % j,
                                 "description": "release 1.%d" % j}}
    if bindable is not None:
        plan["bindable"] = bindable
    if plan_updateable is not None:
        plan["plan_updateable"] = plan_updateable
    if binding_rotatable:
        plan["binding_rotatable"] = True
    if maximum_polling_duration is not None:
        plan["maximum_polling_duration"] = maximum_polling_duration
    if schema:
        plan["schemas"] = {
            "service_instance": {
                "create": {"parameters": create_schema(required)},
                "update": {"parameters": create_schema()}},
            "service_binding": {"create": {"parameters": bind_schema()}}}
    return plan


def make_service(key, i, name, n_plans, bindable=True, sensitive=False,
                 instances_retrievable=True, bindings_retrievable=True,
                 plan_updateable=True, tags=None):
    meta = {"displayName": name.replace("-", " ").title(),
            "longDescription": "The %s service of the test broker" % name,
            "providerDisplayName": "marketd tests",
            "documentationUrl": "http://127.0.0.1/docs/%s" % name,
            "supportUrl": "http://127.0.0.1/support",
            "imageUrl": "http://127.0.0.1/img/%s.png" % name}
    if sensitive:
        meta["sensitive"] = True
    plans = []
    for j in range(n_plans):
        plans.append(make_plan(key, j, expiry_days=30 if j == 1 else None,
                               bindable=False if j == 2 else None,
                               binding_rotatable=(j == 3),
                               required=("size",) if j % 2 else (),
                               maximum_polling_duration=3600 if j % 2 else None))
    return {"id": _id(key), "name": name, "description": "Service %s" % name,
            "bindable": bindable,
            "tags": tags if tags is not None else ["fixture", "tier-%d" % (i % 3)],
            "requires": [], "instances_retrievable": instances_retrievable,
            "bindings_retrievable": bindings_retrievable, "plan_updateable": plan_updateable,
            "metadata": meta, "plans": plans}


def make_catalog(n_services, n_plans, prefix="svc"):
    """A valid catalog of @n_services x @n_plans, the same on every call.

    Service i: bindable unless i % 4 == 3, metadata.sensitive when i % 5 == 1,
    bindings_retrievable when i is even, plan_updateable unless i % 3 == 2.
    Plan j: free when j == 0 (else metadata.costs), expiryDays 30 when j == 1,
    not bindable when j == 2, binding_rotatable when j == 3, a create schema
    on every plan ("size" required when j is odd), maximum_polling_duration
    when j is odd, maintenance_info 1.j.0."""
    services = []
    for i in range(n_services):
        key = "%s-%d" % (prefix, i)
        services.append(make_service(key, i, "%s-%04d" % (prefix, i), n_plans,
                                     bindable=(i % 4 != 3), sensitive=(i % 5 == 1),
                                     bindings_retrievable=(i % 2 == 0),
                                     plan_updateable=(i % 3 != 2)))
    return {"services": services}


def small_catalog():
    """The functional tests' catalog (ids in SMALL, default modes in SMALL_MODES):

    fixture-db     bindable, instances and bindings retrievable, updateable
        small      free, sync, create/update/bind parameter schemas
        large      costs, sync, "size" required
        async      async-only (422 AsyncRequired without accepts_incomplete),
                   maximum_polling_duration 600
    fixture-vault  metadata.sensitive, bindings not retrievable, not updateable
        expiring   metadata.expiryDays 1, binding_rotatable
        nobind     bindable: false
    fixture-queue  not bindable, instances not retrievable
        basic      async when the client accepts it, maintenance_info 2.0.0
    """
    db = make_service("fixture-db", 0, "fixture-db", 0, tags=["sql", "fixture"])
    db["plans"] = [make_plan("fixture-db", 0, "small", free=True),
                   make_plan("fixture-db", 1, "large", free=False, required=("size",)),
                   make_plan("fixture-db", 2, "async", free=False, schema=False,
                             maximum_polling_duration=600)]
    vault = make_service("fixture-vault", 1, "fixture-vault", 0, sensitive=True,
                         bindings_retrievable=False, plan_updateable=False,
                         tags=["secrets", "fixture"])
    vault["plans"] = [make_plan("fixture-vault", 0, "expiring", expiry_days=1,
                                binding_rotatable=True, schema=False),
                      make_plan("fixture-vault", 1, "nobind", free=True, bindable=False,
                                schema=False)]
    queue = make_service("fixture-queue", 2, "fixture-queue", 0, bindable=False,
                         instances_retrievable=False, bindings_retrievable=False,
                         tags=["queue", "fixture"])
    queue["plans"] = [make_plan("fixture-queue", 0, "basic", free=True, schema=False,
                                maintenance_version="2.0.0")]
    return {"services": [db, vault, queue]}


def catalog_ids(catalog):
    """{"service", "service/plan": id} of a catalog, by name."""
    out = {}
    for s in catalog.get("services", []):
        out[s["name"].replace("fixture-", "")] = s["id"]
        for p in s.get("plans", []):
            out["%s/%s" % (s["name"].replace("fixture-", ""), p["name"])] = p["id"]
    return out


SMALL = catalog_ids(small_catalog())    # SMALL["db"], SMALL["db/async"], ...
# Initial modes of the small catalog's plans, for provision/update/deprovision.
SMALL_MODES = {SMALL["db/async"]: "async-only", SMALL["queue/basic"]: "async"}


def parse_catalog_arg(arg):
    """small | big:SxP | big (1000x5) | a JSON file -> (catalog, default modes)."""
    if arg in (None, "", "small"):
        return small_catalog(), dict(SMALL_MODES)
    m = re.fullmatch(r"big(?::(\d+)x(\d+))?", arg)
    if m:
        s, p = (int(m.group(1)), int(m.group(2))) if m.group(1) else (1000, 5)
        if not (0 <= s <= 100000 and 0 <= p <= 1000):
            raise ValueError("catalog too big: %s" % arg)
        return make_catalog(s, p), {}
    with open(arg) as f:
        return json.load(f), {}


# -- small helpers ---------------------------------------------------------------

def _iso(ts):
    """UTC ISO 8601 with milliseconds and Z, as the spec's examples."""
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (d.microsecond // 1000)


def _bounded(seconds, lo=0.0, hi=MAX_SLEEP):
    try:
        v = float(seconds)
    except (TypeError, ValueError):
        raise ValueError("not a number of seconds: %r" % (seconds,))
    if v != v:
        raise ValueError("NaN seconds")
    return min(max(v, lo), hi)


def _version(text):
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def decode_identity(value):
    """X-Broker-API-Originating-Identity -> {"platform", "value"} (value the
    decoded JSON, or None when it does not decode)."""
    if not value:
        return None
    platform, _, b64 = value.strip().partition(" ")
    try:
        decoded = json.loads(base64.b64decode(b64.strip(), validate=True).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        decoded = None
    return {"platform": platform, "value": decoded}


class Response:
    def __init__(self, status, body=None, raw=None, headers=None):
        self.status = status
        self.body = body            # a JSON-able object
        self.raw = raw              # or exact bytes
        self.headers = dict(headers or {})
        self.sleep = 0.0            # after the work, before the answer
        self.close = False          # drop the connection instead of answering

    def payload(self):
        if self.raw is not None:
            return self.raw if isinstance(self.raw, bytes) else self.raw.encode("utf-8")
        return json.dumps(self.body if self.body is not None else {}).encode("utf-8")


def _error(status, description, error=None, **extra):
    body = {"description": description}
    if error:
        body["error"] = error
    body.update(extra)
    return Response(status, body)


class Op:
    """One operation on an instance or a binding."""
    _counter = 0

    def __init__(self, kind, async_, delay, fail, description, tokens, target=None):
        Op._counter += 1
        self.kind = kind
        self.async_ = async_
        self.start = time.monotonic()
        self.ready_at = self.start + (delay if async_ else 0.0)
        self.fail = fail
        self.fail_description = description
        self.state = IN_PROGRESS if async_ else (FAILED if fail else SUCCEEDED)
        self.token = ("op-%d-%s-%s" % (Op._counter, kind, secrets.token_hex(4))
                      if async_ and tokens else None)
        self.target = target        # update: {"plan_id", "parameters"}

    def view(self):
        return {"kind": self.kind, "async": self.async_, "state": self.state,
                "operation": self.token}


# -- the broker's state and protocol ------------------------------------------------

class BrokerState:
    """Everything but the sockets: the catalog, instances, bindings, switches,
    the request log, and dispatch().  All under one lock."""

    # Names callable through the control endpoint (and on Broker/BrokerProcess).
    CONTROL = ("set_mode", "set_delay", "set_latency", "set_retry_after",
               "fail_operations", "inject", "clear_faults", "faults",
               "set_credentials_once", "set_binding_expiry", "set_operation_tokens",
               "complete_operations", "set_catalog", "get_catalog", "add_service", "remove_service",
               "update_service", "add_plan", "remove_plan", "update_plan",
               "set_min_api_version", "set_auth", "set_validate_parameters",
               "set_delete_poll", "set_refuse_delete_with_bindings",
               "set_requires_app", "log", "requests", "count", "counts",
               "last_operation_calls", "clear_log", "instances", "instance",
               "bindings", "binding", "violations", "clear_violations", "reset",
               "settings")

    def __init__(self, catalog=None, modes=None, user="broker", password="secret",
                 async_delay=1.0, default_mode="sync", min_api_version="2.17"):
        self.lock = threading.RLock()
        self.user, self.password = user, password
        self.port = None
        self._initial = (copy.deepcopy(catalog) if catalog is not None else small_catalog(),
                         dict(modes) if modes is not None else
                         (dict(SMALL_MODES) if catalog is None else {}),
                         async_delay, default_mode, min_api_version)
        self.reset()

    # -- switches ------------------------------------------------------------------

    def reset(self):
        """Back to the start: the initial catalog and switches, no instances,
        no bindings, an empty log."""
        with self.lock:
            catalog, modes, delay, mode, minv = self._initial
            if mode not in MODES:
                raise ValueError("mode must be one of %s" % (MODES,))
            self._set_catalog(copy.deepcopy(catalog))
            # Initial per-plan modes cover the instance's operations; binds
            # and unbinds of those plans follow the default mode.
            self.modes = {(k, op): v for k, v in modes.items()
                          for op in ("provision", "update", "deprovision")}
            self.modes[(None, None)] = mode
            self.delays = {(None, None): _bounded(delay)}
            self.fails = {}
            self.once = {}
            self.expiry = {}
            self.requires_app = set()
            self.latency = 0.0
            self.retry_after = None
            self.tokens = True
            self.validate_parameters = True
            self.delete_poll = "succeeded"
            self.refuse_delete_with_bindings = True
            self.min_api = _version(minv)
            if not self.min_api:
                raise ValueError("bad min_api_version %r" % (minv,))
            self.fault_list = []
            self.instances_ = {}
            self.gone_instances = {}
            self.log_ = []
            self.seq = 0
            self.counts_ = {}
            self.violations_ = []
            self.last_poll = {}
        return True

    def _key(self, plan_id, op):
        if op is not None and op not in OPS:
            raise ValueError("op must be one of %s or null" % (OPS,))
        return (plan_id, op)

    def _lookup(self, table, plan_id, op, default=None):
        for k in ((plan_id, op), (plan_id, None), (None, op), (None, None)):
            if k in table:
                return table[k]
        return default

    def set_mode(self, mode, plan_id=None, op=None):
        """sync: always answer at once.  async: 202 when accepts_incomplete=true,
        else at once.  async-only: 202, and 422 AsyncRequired without
        accepts_incomplete=true.  For one plan and/or one op (provision, update,
        deprovision, bind, unbind), or the default."""
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % (MODES,))
        with self.lock:
            self.modes[self._key(plan_id, op)] = mode
        return True

    def set_delay(self, seconds, plan_id=None, op=None):
        """How long an async operation stays "in progress"."""
        with self.lock:
            self.delays[self._key(plan_id, op)] = _bounded(seconds)
        return True

    def set_latency(self, seconds):
        """A sleep before every /v2 request is handled (a slow broker)."""
        with self.lock:
            self.latency = _bounded(seconds)
        return True

    def set_retry_after(self, value):
        """Retry-After on every last_operation answer: seconds (int) or any
        text (an HTTP date); None drops it."""
        with self.lock:
            self.retry_after = None if value is None else str(value)
        return True

    def fail_operations(self, fail=True, plan_id=None, op=None,
                        description="the broker failed the operation (forced)"):
        """Operations started from now on end "failed" (async: at the poll
        after their delay; sync ones are not affected)."""
        with self.lock:
            self.fails[self._key(plan_id, op)] = (bool(fail), str(description))
        return True

    def inject(self, route, count=1, status=None, kind="status", seconds=None,
               error=None, description=None, body=None, raw=None, apply=None,
               iid=None, bid=None, headers=None):
        """Force the answer of the next @count requests of @route ("*": any /v2
        route), optionally only for instance @iid / binding @bid.

        kind "status":   answer @status (default 500) with an error body
                         (@error code, @description) or @body/@raw; the
                         request is not carried out unless apply=True.
        kind "timeout":  carry it out, then sleep @seconds (default 75)
                         before the normal answer (or @status/@body/@raw).
        kind "garbage":  carry it out, answer @status (default: the normal
                         one) with a body that is not JSON.
        kind "malformed_json": carry it out, answer @status (default: the
                         normal one) with truncated JSON.
        kind "close":    carry it out, then close the connection unanswered.
        kind "delay":    carry it out, sleep @seconds, answer normally (a slow
                         broker; "timeout" with a chosen answer and a long
                         default)."""
        kinds = ("status", "timeout", "garbage", "malformed_json", "close", "delay")
        if kind not in kinds:
            raise ValueError("kind must be one of %s" % (kinds,))
        if route != "*" and route not in ROUTES:
            raise ValueError("route must be '*' or one of %s" % (ROUTES,))
        count = int(count)
        if not 1 <= count <= 1000000:
            raise ValueError("count must be 1..1000000")
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError("status must be 100..599")
        f = {"route": route, "count": count, "kind": kind,
             "status": int(status) if status is not None else None,
             "seconds": _bounded(seconds if seconds is not None else
                                 (75 if kind == "timeout" else 0)),
             "error": error, "description": description, "body": body, "raw": raw,
             "apply": True if kind == "delay" else (
                 bool(apply) if apply is not None else kind != "status"),
             "iid": iid, "bid": bid, "headers": dict(headers or {})}
        with self.lock:
            self.fault_list.append(f)
        return True

    def complete_operations(self, iid=None, bid=None):
        """Async operations in progress (of instance @iid, binding @bid, or
        all) end now, as if their delay had passed; how many did."""
        n = 0
        with self.lock:
            now = time.monotonic()
            for inst in list(self.instances_.values()):
                if iid is not None and inst["id"] != iid:
                    continue
                ops = [] if bid is not None else [inst["op"]]
                ops += [b["op"] for b in inst["bindings"].values()
                        if bid is None or b["id"] == bid]
                for op in ops:
                    if op is not None and op.state == IN_PROGRESS and op.ready_at > now:
                        op.ready_at = now
                        n += 1
            self._settle_all()
        return n

    def clear_faults(self):
        with self.lock:
            self.fault_list = []
        return True

    def faults(self):
        with self.lock:
            return copy.deepcopy(self.fault_list)

    def set_credentials_once(self, once=True, plan_id=None):
        """Credentials are handed out once per binding (the first 200/201
        answer or GET); later answers carry none."""
        with self.lock:
            self.once[plan_id] = bool(once)
        return True

    def set_binding_expiry(self, seconds, plan_id=None):
        """Bindings created from now on get metadata.expires_at = now +
        @seconds (and renew_before a tenth earlier); None: from the plan's
        metadata.expiryDays if it has one, else no expires_at."""
        with self.lock:
            self.expiry[plan_id] = None if seconds is None else float(seconds)
        return True

    def set_operation_tokens(self, on=True):
        """Whether 202 answers carry an "operation" token."""
        with self.lock:
            self.tokens = bool(on)
        return True

    def set_min_api_version(self, version):
        v = _version(version)
        if not v:
            raise ValueError("bad version %r" % (version,))
        with self.lock:
            self.min_api = v
        return True

    def set_auth(self, user, password):
        with self.lock:
            self.user, self.password = user, password
        return True

    def set_validate_parameters(self, on=True):
        """Whether the broker checks parameters against the plan's schemas (400)."""
        with self.lock:
            self.validate_parameters = bool(on)
        return True

    def set_delete_poll(self, answer):
        """How the first poll after a finished async deprovision or unbind
        answers: "succeeded" (200) or "gone" (410).  Later polls: 410."""
        if answer not in ("succeeded", "gone"):
            raise ValueError("answer must be 'succeeded' or 'gone'")
        with self.lock:
            self.delete_poll = answer
        return True

    def set_refuse_delete_with_bindings(self, on=True):
        """Whether DELETE of an instance that still has bindings is answered
        400 (it is a violation either way)."""
        with self.lock:
            self.refuse_delete_with_bindings = bool(on)
        return True

    def set_requires_app(self, plan_id, on=True):
        """Binds of @plan_id without bind_resource.app_guid: 422 RequiresApp."""
        with self.lock:
            (self.requires_app.add if on else self.requires_app.discard)(plan_id)
        return True

    def settings(self):
        with self.lock:
            def table(t):
                return [{"plan_id": k[0], "op": k[1], "value": v} for k, v in t.items()]
            return {"modes": table(self.modes), "delays": table(self.delays),
                    "fails": table(self.fails), "once": dict(self.once),
                    "expiry": dict(self.expiry), "latency": self.latency,
                    "retry_after": self.retry_after, "tokens": self.tokens,
                    "validate_parameters": self.validate_parameters,
                    "delete_poll": self.delete_poll,
                    "refuse_delete_with_bindings": self.refuse_delete_with_bindings,
                    "min_api_version": "%d.%d" % self.min_api,
                    "requires_app": sorted(self.requires_app)}

    # -- the catalog -----------------------------------------------------------------

    def _set_catalog(self, catalog):
        if not isinstance(catalog, dict) or not isinstance(catalog.get("services"), list):
            raise ValueError("a catalog is {\"services\": [...]}")
        services, plans = {}, {}
        for s in catalog["services"]:
            if not isinstance(s, dict) or "id" not in s or not isinstance(s.get("plans"), list):
                raise ValueError("every service needs an id and a plans list")
            services[s["id"]] = s
            for p in s["plans"]:
                if not isinstance(p, dict) or "id" not in p:
                    raise ValueError("every plan needs an id")
                plans[p["id"]] = (s, p)
        self.catalog = catalog
        self.services = services
        self.plans = plans
        self.catalog_bytes = json.dumps(catalog).encode("utf-8")

    def set_catalog(self, catalog):
        """Replace the whole catalog (instances of vanished plans stay)."""
        with self.lock:
            self._set_catalog(copy.deepcopy(catalog))
        return True

    def get_catalog(self):
        with self.lock:
            return copy.deepcopy(self.catalog)

    def _edit(self, fn):
        with self.lock:
            cat = copy.deepcopy(self.catalog)
            fn(cat)
            self._set_catalog(cat)
        return True

    def _service_in(self, cat, service_id):
        for s in cat["services"]:
            if s["id"] == service_id:
                return s
        raise ValueError("no service %s" % service_id)

    def add_service(self, service):
        return self._edit(lambda cat: cat["services"].append(copy.deepcopy(service)))

    def remove_service(self, service_id):
        def fn(cat):
            self._service_in(cat, service_id)
            cat["services"] = [s for s in cat["services"] if s["id"] != service_id]
        return self._edit(fn)

    def update_service(self, service_id, fields):
        """Set (or, with value None, drop) top-level fields of a service."""
        def fn(cat):
            s = self._service_in(cat, service_id)
            for k, v in fields.items():
                if v is None:
                    s.pop(k, None)
                else:
                    s[k] = copy.deepcopy(v)
        return self._edit(fn)

    def add_plan(self, service_id, plan):
        return self._edit(lambda cat: self._service_in(cat, service_id)["plans"].append(
            copy.deepcopy(plan)))

    def remove_plan(self, plan_id):
        def fn(cat):
            for s in cat["services"]:
                if any(p["id"] == plan_id for p in s["plans"]):
                    s["plans"] = [p for p in s["plans"] if p["id"] != plan_id]
                    return
            raise ValueError("no plan %s" % plan_id)
        return self._edit(fn)

    def update_plan(self, plan_id, fields):
        """Set (or, with value None, drop) top-level fields of a plan."""
        def fn(cat):
            for s in cat["services"]:
                for p in s["plans"]:
                    if p["id"] == plan_id:
                        for k, v in fields.items():
                            if v is None:
                                p.pop(k, None)
                            else:
                                p[k] = copy.deepcopy(v)
                        return
            raise ValueError("no plan %s" % plan_id)
        return self._edit(fn)

    # -- the log ----------------------------------------------------------------------

    def _record(self, method, path, route, iid, bid, query, headers, raw):
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, "time": time.time(), "method": method, "path": path,
                     "route": route, "iid": iid, "bid": bid, "query": query,
                     "headers": dict(headers.items()), "body": body,
                     "raw": raw[:MAX_LOGGED_RAW].decode("utf-8", "replace") if raw else "",
                     "originating_identity": decode_identity(
                         headers.get("X-Broker-API-Originating-Identity")),
                     "request_identity": headers.get("X-Broker-API-Request-Identity"),
                     "status": None}
            self.log_.append(entry)
            if len(self.log_) > MAX_LOG:
                del self.log_[:len(self.log_) - MAX_LOG]
            if route:
                self.counts_[route] = self.counts_.get(route, 0) + 1
            return entry

    def log(self, since=0):
        """Every request recorded after sequence number @since (copies)."""
        with self.lock:
            return [dict(e) for e in self.log_ if e["seq"] > since]

    def requests(self, route=None, method=None, iid=None, bid=None, since=0):
        """The log, filtered."""
        return [e for e in self.log(since)
                if (route is None or e["route"] == route)
                and (method is None or e["method"] == method)
                and (iid is None or e["iid"] == iid) and (bid is None or e["bid"] == bid)]

    def count(self, route=None):
        """Requests of @route since the start or the last clear_log (all /v2
        requests when None); never forgets, unlike the log."""
        with self.lock:
            if route is None:
                return sum(self.counts_.values())
            return self.counts_.get(route, 0)

    def counts(self):
        with self.lock:
            return dict(self.counts_)

    def last_operation_calls(self):
        with self.lock:
            return sum(self.counts_.get(r, 0) for r in LAST_OPERATION_ROUTES)

    def clear_log(self):
        with self.lock:
            self.log_ = []
            self.counts_ = {}
        return True

    def _violation(self, entry, text):
        with self.lock:
            self.violations_.append({"seq": entry["seq"] if entry else None,
                                     "route": entry["route"] if entry else None,
                                     "violation": text})

    def violations(self):
        """Protocol mistakes of the client the broker noticed."""
        with self.lock:
            return list(self.violations_)

    def clear_violations(self):
        with self.lock:
            self.violations_ = []
        return True

    # -- inspection --------------------------------------------------------------------

    def _settle_all(self):
        for iid in list(self.instances_):
            inst = self.instances_.get(iid)
            if inst:
                for bid in list(inst["bindings"]):
                    self._settle_binding(inst, bid)
                self._settle_instance(iid)

    def _instance_view(self, inst):
        return {"id": inst["id"], "service_id": inst["service_id"],
                "plan_id": inst["plan_id"], "parameters": copy.deepcopy(inst["parameters"]),
                "context": copy.deepcopy(inst["context"]),
                "organization_guid": inst["organization_guid"],
                "space_guid": inst["space_guid"], "state": inst["state"],
                "dashboard_url": inst["dashboard_url"],
                "maintenance_info": copy.deepcopy(inst["maintenance_info"]),
                "operation": inst["op"].view() if inst["op"] else None,
                "bindings": sorted(inst["bindings"])}

    def _binding_view(self, b):
        return {"id": b["id"], "instance_id": b["iid"], "service_id": b["service_id"],
                "plan_id": b["plan_id"], "parameters": copy.deepcopy(b["parameters"]),
                "bind_resource": copy.deepcopy(b["bind_resource"]),
                "context": copy.deepcopy(b["context"]), "state": b["state"],
                "credentials": copy.deepcopy(b["credentials"]),
                "metadata": copy.deepcopy(b["metadata"]),
                "credentials_delivered": b["delivered"],
                "predecessor_binding_id": b["predecessor"],
                "operation": b["op"].view() if b["op"] else None}

    def instances(self):
        """{iid: view} of the instances that exist now (async ops settled)."""
        with self.lock:
            self._settle_all()
            return {iid: self._instance_view(i) for iid, i in self.instances_.items()}

    def instance(self, iid):
        return self.instances().get(iid)

    def bindings(self, iid=None):
        """{bid: view} of the bindings that exist now, of one instance or all."""
        with self.lock:
            self._settle_all()
            out = {}
            for i in self.instances_.values():
                if iid is None or i["id"] == iid:
                    for bid, b in i["bindings"].items():
                        out[bid] = self._binding_view(b)
            return out

    def binding(self, iid, bid):
        return self.bindings(iid).get(bid)

    # -- protocol ---------------------------------------------------------------------

    def _mode(self, plan_id, op, accepts):
        """True (async), False (sync), or a 422 Response."""
        mode = self._lookup(self.modes, plan_id, op, "sync")
        if mode == "sync":
            return False
        if accepts:
            return True
        if mode == "async-only":
            return _error(422, "This plan requires accepts_incomplete=true", "AsyncRequired")
        return False

    def _new_op(self, kind, plan_id, async_, target=None):
        fail, desc = self._lookup(self.fails, plan_id, kind, (False, ""))
        delay = self._lookup(self.delays, plan_id, kind, 0.0)
        return Op(kind, async_, delay, fail and async_, desc, self.tokens, target)

    def _settle_instance(self, iid):
        inst = self.instances_.get(iid)
        if not inst:
            return
        op = inst["op"]
        if not op or op.state != IN_PROGRESS or time.monotonic() < op.ready_at:
            return
        op.state = FAILED if op.fail else SUCCEEDED
        if op.kind == "provision":
            inst["state"] = op.state
        elif op.kind == "update" and not op.fail:
            self._apply_update(inst, op)
        elif op.kind == "deprovision" and not op.fail:
            self._forget_instance(iid, op)

    def _apply_update(self, inst, op):
        inst["plan_id"] = op.target["plan_id"]
        if op.target.get("parameters") is not None:
            inst["parameters"] = op.target["parameters"]
        if op.target.get("maintenance_info") is not None:
            inst["maintenance_info"] = op.target["maintenance_info"]

    def _forget_instance(self, iid, op):
        self.instances_.pop(iid, None)
        self.gone_instances[iid] = {"op": op, "polled": False}

    def _settle_binding(self, inst, bid):
        b = inst["bindings"].get(bid)
        if not b:
            return
        op = b["op"]
        if not op or op.state != IN_PROGRESS or time.monotonic() < op.ready_at:
            return
        op.state = FAILED if op.fail else SUCCEEDED
        if op.kind == "bind":
            b["state"] = op.state
        elif op.kind == "unbind" and not op.fail:
            inst["bindings"].pop(bid, None)
            inst["gone_bindings"][bid] = {"op": op, "polled": False}

    def _plan(self, service_id, plan_id):
        sp = self.plans.get(plan_id)
        if not sp or sp[0]["id"] != service_id:
            return None, None
        return sp

    def _flag(self, service, plan, name, default=False):
        if plan is not None and name in plan:
            return bool(plan[name])
        return bool(service.get(name, default)) if service is not None else default

    def _schema(self, plan, *path):
        s = plan.get("schemas") if plan else None
        for p in path:
            if not isinstance(s, dict):
                return None
            s = s.get(p)
        return s if isinstance(s, dict) else None

    def _check_params(self, plan, params, *path):
        if params is None or not self.validate_parameters:
            return None
        if not isinstance(params, dict):
            return _error(400, "parameters must be an object", "ValidationError")
        schema = self._schema(plan, *path)
        if schema:
            errs = validate(schema, params)
            if errs:
                return _error(400, "invalid parameters: " + "; ".join(errs[:10]),
                              "ValidationError")
        return None

    def _maintenance_conflict(self, plan, mi):
        if mi is None:
            return None
        want = (plan.get("maintenance_info") or {}).get("version")
        got = mi.get("version") if isinstance(mi, dict) else None
        if want is not None and got != want:
            return _error(422, "maintenance_info.version %r is not the plan's %r (refetch "
                          "the catalog)" % (got, want), "MaintenanceInfoConflict")
        return None

    def _credentials(self, iid, bid):
        user = "u-" + bid[:8].replace("-", "")
        password = "pw-" + secrets.token_hex(16)
        return {"uri": "osb://%s:%s@127.0.0.1:5432/db-%s" % (user, password, iid[:8]),
                "username": user, "password": password, "host": "127.0.0.1",
                "port": 5432, "database": "db-" + iid[:8]}

    def _expiry_meta(self, plan_id, plan):
        now = time.time()
        sec = self.expiry.get(plan_id, self.expiry.get(None))
        meta = {}
        if sec is not None:
            meta["expires_at"] = _iso(now + sec)
            meta["renew_before"] = _iso(now + sec - max(sec / 10.0, 0.001))
        else:
            days = ((plan or {}).get("metadata") or {}).get("expiryDays")
            if isinstance(days, (int, float)) and not isinstance(days, bool):
                meta["expires_at"] = _iso(now + days * 86400)
        return meta

    def _hand_credentials(self, b):
        """The credentials for an answer, or None once handed out when once."""
        once = self.once.get(b["plan_id"], self.once.get(None, False))
        if once and b["delivered"]:
            return None
        b["delivered"] = True
        return b["credentials"]

    def _binding_reply(self, b, creds=True):
        body = {}
        if creds:
            c = self._hand_credentials(b)
            if c is not None:
                body["credentials"] = copy.deepcopy(c)
        if b["metadata"]:
            body["metadata"] = copy.deepcopy(b["metadata"])
        body["endpoints"] = [{"host": "127.0.0.1", "ports": ["5432"], "protocol": "tcp"}]
        return body

    def _check_auth(self, headers):
        if self.user is None:
            return None
        want = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
        got = headers.get("Authorization", "")
        if not got.startswith("Basic ") or not hmac.compare_digest(got[6:].strip(), want):
            r = _error(401, "bad or missing credentials", "Unauthorized")
            r.headers["WWW-Authenticate"] = 'Basic realm="osb-test-broker"'
            return r
        return None

    def _check_version(self, headers):
        text = headers.get("X-Broker-API-Version")
        v = _version(text)
        if v is None or v[0] != self.min_api[0] or v < self.min_api:
            return _error(412, "X-Broker-API-Version %r: this broker needs %d.%d or a later "
                          "2.x" % (text, self.min_api[0], self.min_api[1]),
                          "PreconditionFailed")
        return None

    def _take_fault(self, route, iid, bid):
        for f in self.fault_list:
            if ((f["route"] == "*" or f["route"] == route)
                    and (f["iid"] is None or f["iid"] == iid)
                    and (f["bid"] is None or f["bid"] == bid)):
                f["count"] -= 1
                if f["count"] <= 0:
                    self.fault_list.remove(f)
                return copy.deepcopy(f)
        return None

    def _fault_response(self, f, normal):
        """The answer @f makes of the @normal one (None when not carried out)."""
        kind = f["kind"]
        if kind == "delay":
            return normal
        if kind == "status":
            status = f["status"] or 500
        else:
            status = f["status"] or (normal.status if normal else 200)
        if kind == "close":
            r = Response(status)
            r.close = True
            return r
        if f["raw"] is not None:
            r = Response(status, raw=f["raw"])
        elif f["body"] is not None:
            r = Response(status, f["body"])
        elif kind == "garbage":
            r = Response(status, raw=b"<html><body>502 Bad Gateway \x00\xff garbage"
                         b"</body></html>")
        elif kind == "malformed_json":
            r = Response(status, raw=b'{"operation": "op-x", "credentials": {"password": ')
        elif kind == "timeout":
            r = normal if (normal and f["status"] is None) else Response(status, {})
        else:
            body = {"description": f["description"] or "forced %d" % status}
            if f["error"]:
                body["error"] = f["error"]
            r = Response(status, body)
        r.headers.update(f["headers"])
        return r

    def dispatch(self, entry, method, route, iid, bid, query, headers, raw):
        """The answer to one /v2 request (the caller sleeps and writes it)."""
        with self.lock:
            r = self._check_auth(headers) or self._check_version(headers)
            if r:
                return r
            f = self._take_fault(route, iid, bid)
            if f and not f["apply"]:
                return self._fault_response(f, None)
            r = self._route(entry, method, route, iid, bid, query, raw)
            if f:
                r = self._fault_response(f, r)
                if f["kind"] in ("delay", "timeout"):
                    r.sleep = f["seconds"]
            return r

    def _route(self, entry, method, route, iid, bid, query, raw):
        body = None
        if method in ("PUT", "PATCH"):
            try:
                body = json.loads(raw.decode("utf-8")) if raw else None
            except (ValueError, UnicodeDecodeError):
                return _error(400, "the body is not JSON", "BadRequest")
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object", "BadRequest")
        accepts = query.get("accepts_incomplete") == "true"
        handler = getattr(self, "_r_" + route)
        return handler(entry, iid, bid, query, body, accepts)

    # -- routes -------------------------------------------------------------------------

    def _r_catalog(self, entry, iid, bid, query, body, accepts):
        return Response(200, raw=self.catalog_bytes)

    def _require_query(self, query, *names):
        missing = [n for n in names if not query.get(n)]
        if missing:
            return _error(400, "missing query parameter(s): " + ", ".join(missing),
                          "BadRequest")
        return None

    def _r_provision(self, entry, iid, bid, query, body, accepts):
        sid, pid = body.get("service_id"), body.get("plan_id")
        if not isinstance(sid, str) or not isinstance(pid, str):
            return _error(400, "service_id and plan_id are required", "BadRequest")
        service, plan = self._plan(sid, pid)
        if plan is None:
            return _error(400, "no plan %s in service %s" % (pid, sid), "BadRequest")
        for k in ("organization_guid", "space_guid"):
            if not isinstance(body.get(k), str) or not body.get(k):
                self._violation(entry, "provision without %s" % k)
                return _error(400, "%s is required" % k, "BadRequest")
        if "context" in body and not isinstance(body["context"], dict):
            return _error(400, "context must be an object", "BadRequest")
        params = body.get("parameters")
        attrs = {"service_id": sid, "plan_id": pid, "parameters": params,
                 "organization_guid": body["organization_guid"],
                 "space_guid": body["space_guid"]}
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if inst:
            same = all(inst["attrs"][k] == v for k, v in attrs.items())
            op = inst["op"]
            if not same:
                return _error(409, "instance %s exists with other attributes" % iid)
            if op and op.state == IN_PROGRESS and op.kind == "provision":
                return self._accepted(op, inst)
            if op and op.state == IN_PROGRESS:
                return _error(422, "another operation is in progress", "ConcurrencyError")
            if inst["state"] == FAILED:
                return _error(409, "instance %s failed to provision: delete it" % iid)
            return Response(200, {"dashboard_url": inst["dashboard_url"]})
        r = (self._check_params(plan, params, "service_instance", "create", "parameters")
             or self._maintenance_conflict(plan, body.get("maintenance_info")))
        if r:
            return r
        async_ = self._mode(pid, "provision", accepts)
        if isinstance(async_, Response):
            return async_
        self.gone_instances.pop(iid, None)
        op = self._new_op("provision", pid, async_)
        inst = {"id": iid, "attrs": attrs, "service_id": sid, "plan_id": pid,
                "parameters": params, "context": body.get("context"),
                "organization_guid": body["organization_guid"],
                "space_guid": body["space_guid"],
                "maintenance_info": body.get("maintenance_info"),
                "dashboard_url": "http://%s:%s/dashboard/%s" % (HOST, self.port, iid),
                "state": op.state, "op": op, "bindings": {}, "gone_bindings": {}}
        self.instances_[iid] = inst
        if async_:
            return self._accepted(op, inst)
        return Response(201, {"dashboard_url": inst["dashboard_url"],
                              "metadata": {"labels": {"broker": "osb-test-broker"},
                                           "attributes": {"plan": plan["name"]}}})

    def _accepted(self, op, inst=None):
        body = {}
        if op.token:
            body["operation"] = op.token
        if inst is not None and op.kind in ("provision", "update"):
            body["dashboard_url"] = inst["dashboard_url"]
        return Response(202, body)

    def _r_update(self, entry, iid, bid, query, body, accepts):
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if not inst:
            return _error(404, "no instance %s" % iid, "NotFound")
        sid = body.get("service_id")
        if sid != inst["service_id"]:
            return _error(400, "service_id is required and must be the instance's",
                          "BadRequest")
        pid = body.get("plan_id") or inst["plan_id"]
        service, plan = self._plan(sid, pid)
        if plan is None:
            return _error(400, "no plan %s in service %s" % (pid, sid), "BadRequest")
        if pid != inst["plan_id"] and not self._flag(service, plan, "plan_updateable"):
            return _error(400, "the plan of this service instance cannot be changed",
                          "BadRequest")
        params = body.get("parameters")
        target = {"plan_id": pid, "parameters": params,
                  "maintenance_info": body.get("maintenance_info")}
        op = inst["op"]
        if op and op.state == IN_PROGRESS:
            if op.kind == "update" and op.target == target:
                return self._accepted(op, inst)
            return _error(422, "another operation is in progress", "ConcurrencyError")
        if inst["state"] != SUCCEEDED:
            return _error(400, "instance %s is not provisioned" % iid, "BadRequest")
        r = (self._check_params(plan, params, "service_instance", "update", "parameters")
             or self._maintenance_conflict(plan, body.get("maintenance_info")))
        if r:
            return r
        async_ = self._mode(pid, "update", accepts)
        if isinstance(async_, Response):
            return async_
        op = self._new_op("update", pid, async_, target)
        inst["op"] = op
        if async_:
            return self._accepted(op, inst)
        self._apply_update(inst, op)
        return Response(200, {"dashboard_url": inst["dashboard_url"]})

    def _r_deprovision(self, entry, iid, bid, query, body, accepts):
        r = self._require_query(query, "service_id", "plan_id")
        if r:
            return r
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if not inst:
            return Response(410, {})
        pending = inst["op"].target["plan_id"] if (
            inst["op"] and inst["op"].kind == "update" and inst["op"].target) else None
        if query["service_id"] != inst["service_id"] or \
                query["plan_id"] not in (inst["plan_id"], pending):
            self._violation(entry, "deprovision with service_id/plan_id %s/%s, not the "
                            "instance's %s/%s" % (query["service_id"], query["plan_id"],
                                                  inst["service_id"], inst["plan_id"]))
        for b in list(inst["bindings"]):
            self._settle_binding(inst, b)
        if inst["bindings"]:
            self._violation(entry, "deprovision of %s with bindings %s" %
                            (iid, sorted(inst["bindings"])))
            if self.refuse_delete_with_bindings:
                return _error(400, "instance %s still has bindings" % iid, "BadRequest")
        op = inst["op"]
        if op and op.state == IN_PROGRESS and op.kind == "deprovision":
            return self._accepted(op)
        async_ = self._mode(inst["plan_id"], "deprovision", accepts)
        if isinstance(async_, Response):
            return async_
        if op and op.state == IN_PROGRESS:      # a provision or update cancelled
            op.state = FAILED
            op.fail_description = "cancelled by a deprovision"
            if op.kind == "provision":
                inst["state"] = FAILED
        op = self._new_op("deprovision", inst["plan_id"], async_)
        inst["op"] = op
        if async_:
            return self._accepted(op)
        self._forget_instance(iid, op)
        self.gone_instances[iid]["polled"] = True
        return Response(200, {})

    def _r_get_instance(self, entry, iid, bid, query, body, accepts):
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if inst:
            service = self.services.get(inst["service_id"])
            if not self._flag(service, None, "instances_retrievable"):
                self._violation(entry, "GET of an instance of a service without "
                                "instances_retrievable")
                return _error(400, "instances of this service are not retrievable",
                              "BadRequest")
        if not inst or inst["state"] != SUCCEEDED or (
                inst["op"] and inst["op"].kind == "provision" and inst["op"].state == IN_PROGRESS):
            return _error(404, "no instance %s" % iid, "NotFound")
        if inst["op"] and inst["op"].state == IN_PROGRESS and inst["op"].kind == "update":
            return _error(422, "an update is in progress", "ConcurrencyError")
        out = {"service_id": inst["service_id"], "plan_id": inst["plan_id"],
               "dashboard_url": inst["dashboard_url"],
               "parameters": inst["parameters"] or {}}
        if inst["maintenance_info"]:
            out["maintenance_info"] = inst["maintenance_info"]
        return Response(200, out)

    def _poll_checks(self, entry, key, op, query):
        """Retry-After pacing and the operation token of a last_operation call."""
        now = time.monotonic()
        prev = self.last_poll.get(key)
        self.last_poll[key] = now
        if self.retry_after and self.retry_after.isdigit() and prev is not None:
            if now - prev < int(self.retry_after) * 0.9 - 0.05:
                self._violation(entry, "polled %s after %.2f s, before Retry-After %s" %
                                (key, now - prev, self.retry_after))
        if op is not None and op.token and query.get("operation") != op.token:
            self._violation(entry, "operation %r, not the broker's token %r" %
                            (query.get("operation"), op.token))
            return _error(400, "unknown operation %r" % query.get("operation"), "BadRequest")
        return None

    def _state_reply(self, op):
        body = {"state": op.state,
                "description": "%s %s" % (op.kind, op.state) if op.state != FAILED
                else (op.fail_description or "%s failed" % op.kind)}
        if op.state == FAILED and op.kind in ("update", "deprovision"):
            body["instance_usable"] = True
            if op.kind == "update":
                body["update_repeatable"] = True
        r = Response(200, body)
        if self.retry_after:
            r.headers["Retry-After"] = self.retry_after
        return r

    def _gone_poll(self, gone, key):
        if gone["polled"] or self.delete_poll == "gone":
            gone["polled"] = True
            r = Response(410, {})
        else:
            gone["polled"] = True
            r = self._state_reply(gone["op"])
        return r

    def _r_instance_last_operation(self, entry, iid, bid, query, body, accepts):
        r = self._require_query(query, "service_id", "plan_id")
        if r:
            return r
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        key = "instance " + iid
        if not inst:
            gone = self.gone_instances.get(iid)
            if gone:
                r = self._poll_checks(entry, key, gone["op"], query)
                return r or self._gone_poll(gone, key)
            return _error(404, "no instance %s" % iid, "NotFound")
        op = inst["op"]
        if op is None:
            return _error(404, "no operation on %s" % iid, "NotFound")
        return self._poll_checks(entry, key, op, query) or self._state_reply(op)

    def _r_bind(self, entry, iid, bid, query, body, accepts):
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if not inst:
            return _error(404, "no instance %s" % iid, "NotFound")
        sid, pid = body.get("service_id"), body.get("plan_id")
        if sid != inst["service_id"] or pid != inst["plan_id"]:
            return _error(400, "service_id/plan_id must be the instance's", "BadRequest")
        if inst["state"] != SUCCEEDED or (inst["op"] and inst["op"].state == IN_PROGRESS):
            return _error(422, "instance %s is busy or not provisioned" % iid,
                          "ConcurrencyError")
        service, plan = self._plan(sid, pid)
        if plan is None:
            return _error(400, "no plan %s in service %s" % (pid, sid), "BadRequest")
        if not self._flag(service, plan, "bindable"):
            return _error(400, "this plan is not bindable", "BadRequest")
        params = body.get("parameters")
        attrs = {"service_id": sid, "plan_id": pid, "parameters": params,
                 "bind_resource": body.get("bind_resource"),
                 "predecessor_binding_id": body.get("predecessor_binding_id")}
        self._settle_binding(inst, bid)
        b = inst["bindings"].get(bid)
        if b:
            if b["attrs"] != attrs:
                return _error(409, "binding %s exists with other attributes" % bid)
            if b["op"] and b["op"].state == IN_PROGRESS:
                if b["op"].kind == "bind":
                    return self._accepted(b["op"])
                return _error(422, "binding %s is being deleted" % bid, "ConcurrencyError")
            if b["state"] == FAILED:
                return _error(409, "binding %s failed: delete it" % bid)
            return Response(200, self._binding_reply(b))
        pred = body.get("predecessor_binding_id")
        if pred is not None:
            if not self._flag(None, plan, "binding_rotatable"):
                return _error(400, "bindings of this plan cannot be rotated", "BadRequest")
            if pred not in inst["bindings"]:
                return _error(400, "no predecessor binding %s" % pred, "BadRequest")
        resource = body.get("bind_resource")
        if pid in self.requires_app and not (isinstance(resource, dict)
                                             and resource.get("app_guid")):
            return _error(422, "this service supports generation of credentials through "
                          "binding an application only", "RequiresApp")
        r = self._check_params(plan, params, "service_binding", "create", "parameters")
        if r:
            return r
        async_ = self._mode(pid, "bind", accepts)
        if isinstance(async_, Response):
            return async_
        if async_ and not self._flag(service, None, "bindings_retrievable"):
            self._violation(entry, "async bind of a service without bindings_retrievable")
        op = self._new_op("bind", pid, async_)
        b = {"id": bid, "iid": iid, "attrs": attrs, "service_id": sid, "plan_id": pid,
             "parameters": params, "bind_resource": body.get("bind_resource"),
             "context": body.get("context"), "predecessor": pred,
             "credentials": self._credentials(iid, bid),
             "metadata": self._expiry_meta(pid, plan), "state": op.state, "op": op,
             "delivered": False}
        inst["bindings"][bid] = b
        inst["gone_bindings"].pop(bid, None)
        if async_:
            return self._accepted(op)
        return Response(201, self._binding_reply(b))

    def _r_unbind(self, entry, iid, bid, query, body, accepts):
        r = self._require_query(query, "service_id", "plan_id")
        if r:
            return r
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        if not inst:
            return Response(410, {})
        self._settle_binding(inst, bid)
        b = inst["bindings"].get(bid)
        if not b:
            return Response(410, {})
        if query["service_id"] != b["service_id"] or query["plan_id"] != b["plan_id"]:
            self._violation(entry, "unbind with service_id/plan_id %s/%s, not the "
                            "binding's" % (query["service_id"], query["plan_id"]))
        if b["op"] and b["op"].state == IN_PROGRESS and b["op"].kind == "unbind":
            return self._accepted(b["op"])
        async_ = self._mode(b["plan_id"], "unbind", accepts)
        if isinstance(async_, Response):
            return async_
        op = self._new_op("unbind", b["plan_id"], async_)
        b["op"] = op
        if async_:
            return self._accepted(op)
        inst["bindings"].pop(bid, None)
        inst["gone_bindings"][bid] = {"op": op, "polled": True}
        return Response(200, {})

    def _r_get_binding(self, entry, iid, bid, query, body, accepts):
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        b = None
        if inst:
            self._settle_binding(inst, bid)
            b = inst["bindings"].get(bid)
            service, plan = self._plan(inst["service_id"], inst["plan_id"])
            if not self._flag(service, None, "bindings_retrievable"):
                self._violation(entry, "GET of a binding of a service without "
                                "bindings_retrievable")
                return _error(400, "bindings of this service are not retrievable",
                              "BadRequest")
        if not b or b["state"] != SUCCEEDED or (
                b["op"] and b["op"].kind == "bind" and b["op"].state == IN_PROGRESS):
            return _error(404, "no binding %s" % bid, "NotFound")
        out = self._binding_reply(b)
        out["parameters"] = b["parameters"] or {}
        return Response(200, out)

    def _r_binding_last_operation(self, entry, iid, bid, query, body, accepts):
        r = self._require_query(query, "service_id", "plan_id")
        if r:
            return r
        self._settle_instance(iid)
        inst = self.instances_.get(iid)
        key = "binding %s/%s" % (iid, bid)
        if inst:
            self._settle_binding(inst, bid)
            b = inst["bindings"].get(bid)
            if b:
                if b["op"] is None:
                    return _error(404, "no operation on %s" % bid, "NotFound")
                return self._poll_checks(entry, key, b["op"], query) or \
                    self._state_reply(b["op"])
            gone = inst["gone_bindings"].get(bid)
            if gone:
                return self._poll_checks(entry, key, gone["op"], query) or \
                    self._gone_poll(gone, key)
        elif iid in self.gone_instances:
            return Response(410, {})
        return _error(404, "no binding %s" % bid, "NotFound")

    # -- the control endpoint -------------------------------------------------------------

    def control(self, call, args=None):
        """One control call by name (the names in CONTROL), kwargs @args."""
        if call not in self.CONTROL:
            raise ValueError("unknown control call %r" % (call,))
        return getattr(self, call)(**(args or {}))


# -- HTTP -----------------------------------------------------------------------------------

_PATHS = [
    (re.compile(r"^/v2/catalog$"), {"GET": "catalog"}),
    (re.compile(r"^/v2/service_instances/([^/]+)$"),
     {"PUT": "provision", "PATCH": "update", "DELETE": "deprovision", "GET": "get_instance"}),
    (re.compile(r"^/v2/service_instances/([^/]+)/last_operation$"),
     {"GET": "instance_last_operation"}),
    (re.compile(r"^/v2/service_instances/([^/]+)/service_bindings/([^/]+)$"),
     {"PUT": "bind", "DELETE": "unbind", "GET": "get_binding"}),
    (re.compile(r"^/v2/service_instances/([^/]+)/service_bindings/([^/]+)/last_operation$"),
     {"GET": "binding_last_operation"}),
]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    block_on_close = False

    def __init__(self, port, broker):
        self.broker = broker
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.closing = threading.Event()
        super().__init__((HOST, port), _Handler)

    def server_bind(self):
        # No getfqdn(): it may wait for a DNS server.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):      # resets are the tests' doing
            super().handle_error(request, client_address)

    def drop_connections(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "osb-test-broker/2.17"
    timeout = HANDLER_TIMEOUT

    def setup(self):
        super().setup()
        with self.server.conns_lock:
            self.server.conns.add(self.connection)

    def finish(self):
        with self.server.conns_lock:
            self.server.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, *args):
        pass

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = bytearray()
            for _ in range(100000):
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(1024)
            raise ValueError("too many chunks")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def _send(self, r):
        if r.close:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = r.payload()
        try:
            self.send_response(r.status)
            ctype = r.headers.pop("Content-Type", "application/json")
            self.send_header("Content-Type", ctype)
            for k, v in r.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _handle(self, method):
        broker = self.server.broker
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query,
                                                             keep_blank_values=True).items()}
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return self._send(_error(413, "request body too large or unreadable"))
        if path == "/_control" or path.startswith("/_control/"):
            return self._control(method, raw)
        if path.startswith("/dashboard/"):
            return self._send(Response(200, raw="<html><body>dashboard of %s</body></html>"
                                       % urllib.parse.unquote(path[11:])[:100],
                                       headers={"Content-Type": "text/html"}))
        route = iid = bid = None
        known_path = False
        for rx, methods in _PATHS:
            m = rx.match(path)
            if m:
                known_path = True
                route = methods.get(method)
                ids = [urllib.parse.unquote(g) for g in m.groups()]
                iid = ids[0] if ids else None
                bid = ids[1] if len(ids) > 1 else None
                break
        headers = self.headers          # case-insensitive .get()
        entry = broker._record(method, path, route, iid, bid, query, headers, raw)
        if route is None:
            r = _error(405 if known_path else 404,
                       "%s %s is not an OSB route" % (method, path))
        else:
            if broker.latency:
                self.server.closing.wait(broker.latency)
            try:
                r = broker.dispatch(entry, method, route, iid, bid, query, headers, raw)
            except Exception as e:      # a fixture bug: say so, do not hang
                r = _error(500, "test broker bug: %r" % (e,), "FixtureBug")
                broker._violation(entry, "FIXTURE BUG %r" % (e,))
        with broker.lock:
            entry["status"] = 0 if r.close else r.status
        if r.sleep:
            self.server.closing.wait(r.sleep)
            self.close_connection = True
        self._send(r)

    def _control(self, method, raw):
        broker = self.server.broker
        token = self.server.control_token
        if token and not hmac.compare_digest(self.headers.get("X-Control-Token", ""), token):
            return self._send(_error(403, "bad control token"))
        if method != "POST":
            return self._send(_error(405, "POST /_control {\"call\": NAME, \"args\": {}}"))
        try:
            req = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self._send(_error(400, "the body is not JSON"))
        calls = req if isinstance(req, list) else [req]
        results = []
        after = []
        try:
            for c in calls:
                if not isinstance(c, dict) or not isinstance(c.get("args", {}), dict):
                    raise ValueError("a call is {\"call\": NAME, \"args\": {...}}")
                name, args = c.get("call"), c.get("args", {})
                if name in ("down", "shutdown"):
                    results.append(self.server.owner._remote_special(name, args, after))
                else:
                    results.append(broker.control(name, args))
        except (ValueError, TypeError, KeyError) as e:
            return self._send(_error(400, "control: %s" % (e,)))
        except Exception as e:
            return self._send(_error(500, "control: %r" % (e,)))
        self._send(Response(200, {"result": results if isinstance(req, list)
                                  else results[0]}))
        # Only once the answer is out: going down drops this connection
        # too (a timer started before the answer lost it on a busy
        # machine).
        for action in after:
            threading.Thread(target=action, daemon=True).start()

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_POST(self):
        self._handle("POST")


_LIVE = []


class Broker:
    """The broker in this process: a thread per connection on 127.0.0.1.

    Every name of BrokerState.CONTROL is a method of a Broker too (set_mode,
    inject, requests, ...).  down()/up() stop and restart listening on the
    same port, state kept."""

    def __init__(self, user="broker", password="secret", catalog=None, modes=None,
                 async_delay=1.0, default_mode="sync", min_api_version="2.17", port=0,
                 control_token=None, max_lifetime=3600.0):
        self.state = BrokerState(catalog, modes, user, password, async_delay,
                                 default_mode, min_api_version)
        self.port = int(port)
        self.control_token = control_token
        self.max_lifetime = _bounded(max_lifetime, 0.1, MAX_LIFETIME)
        self.server = None
        self.thread = None
        self._lock = threading.Lock()
        self._up_timer = None
        self._life_timer = None
        self.stopped = threading.Event()

    def __getattr__(self, name):
        if name in BrokerState.CONTROL:
            return getattr(self.state, name)
        raise AttributeError(name)

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.port)

    @property
    def user(self):
        return self.state.user

    @property
    def password(self):
        return self.state.password

    def _listen(self):
        server = _Server(self.port, self.state)
        server.owner = self
        server.control_token = self.control_token
        self.port = server.server_address[1]
        self.state.port = self.port
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="osb-broker-%d" % self.port, daemon=True)
        self.thread.start()

    def start(self):
        with self._lock:
            if self.server is None:
                self._listen()
            if self._life_timer is None:
                self._life_timer = threading.Timer(self.max_lifetime, self.stop)
                self._life_timer.daemon = True
                self._life_timer.start()
            if self not in _LIVE:
                _LIVE.append(self)
        return self

    def _close(self):
        server, self.server = self.server, None
        if server is None:
            return
        server.closing.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self.thread is not threading.current_thread():
            self.thread.join(5)

    def down(self, seconds=None):
        """Stop listening and drop open connections (connection refused from
        now on); back up after @seconds when given, else at up()."""
        with self._lock:
            if self._up_timer:
                self._up_timer.cancel()
                self._up_timer = None
            self._close()
            if seconds is not None:
                self._up_timer = threading.Timer(_bounded(seconds), self.up)
                self._up_timer.daemon = True
                self._up_timer.start()
        return True

    def up(self):
        """Listen again, on the same port, with the same state."""
        with self._lock:
            if self.stopped.is_set():
                return False
            if self._up_timer and self._up_timer is not threading.current_thread():
                self._up_timer.cancel()
            self._up_timer = None
            if self.server is None:
                for _ in range(50):
                    try:
                        self._listen()
                        break
                    except OSError:
                        time.sleep(0.1)
                else:
                    raise RuntimeError("port %d stays taken" % self.port)
        return True

    def is_up(self):
        return self.server is not None

    def _remote_special(self, name, args, after):
        # Called from a handler thread: what to do once the answer is sent
        # goes to @after (run from another thread).
        if name == "down":
            seconds = _bounded(args.get("seconds", 1.0), 0.05)
            after.append(lambda: self.down(seconds))
            return True
        if name == "shutdown":
            after.append(self.stop)
            return True
        raise ValueError(name)

    def stop(self):
        with self._lock:
            self.stopped.set()
            for t in (self._up_timer, self._life_timer):
                if t and t is not threading.current_thread():
                    t.cancel()
            self._close()
            if self in _LIVE:
                _LIVE.remove(self)
        return True

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _stop_all():
    for b in list(_LIVE):
        b.stop()


atexit.register(_stop_all)


# -- as a separate process --------------------------------------------------------------------

try:
    import ctypes
    _libc = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    _libc = None


def _child_setup():
    os.setsid()
    if _libc is not None:       # the broker dies with the process that started it
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)     # PR_SET_PDEATHSIG


class BrokerProcess:
    """`python3 osb_broker.py` started as a child process; the same methods as
    Broker, each a POST /_control.  The child stops when stop() closes its
    stdin, when this process dies, or after @max_lifetime seconds."""

    def __init__(self, user="broker", password="secret", catalog="small", mode=None,
                 async_delay=None, port=0, control_token=None, max_lifetime=3600.0,
                 extra_args=()):
        self.user, self.password = user, password
        self.control_token = control_token
        self.argv = [sys.executable, os.path.abspath(__file__), "--port", str(port),
                     "--user", user, "--password", password, "--catalog", catalog,
                     "--max-lifetime", str(max_lifetime)]
        if mode:
            self.argv += ["--mode", mode]
        if async_delay is not None:
            self.argv += ["--async-delay", str(async_delay)]
        if control_token:
            self.argv += ["--control-token", control_token]
        self.argv += list(extra_args)
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.port)

    def start(self, timeout=20):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_child_setup)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            p = self.proc
            p.kill()
            err = p.stderr.read()[-2000:]
            self.stop()
            raise RuntimeError("the broker did not start: %r %r" % (line, err))
        self.port = int(line)
        _LIVE.append(self)
        return self

    def control(self, call, args=None, timeout=30):
        data = json.dumps({"call": call, "args": args or {}}).encode()
        req = urllib.request.Request(self.url + "/_control", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        if self.control_token:
            req.add_header("X-Control-Token", self.control_token)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as resp:
                return json.loads(resp.read())["result"]
        except urllib.error.HTTPError as e:
            raise RuntimeError("control %s: %s %s" % (call, e.code, e.read()[:500]))

    def __getattr__(self, name):
        if name in BrokerState.CONTROL:
            return lambda *a, **kw: self.control(name, _kwargs(name, a, kw))
        raise AttributeError(name)

    def down(self, seconds):
        """Down for @seconds (the control endpoint is down too meanwhile)."""
        return self.control("down", {"seconds": seconds})

    def stop(self):
        if self in _LIVE:
            _LIVE.remove(self)
        p, self.proc = self.proc, None
        if p is None:
            return True
        try:
            p.stdin.close()             # asks it to stop
            p.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
        return True

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _kwargs(name, args, kwargs):
    """Positional arguments of a control call made keyword ones."""
    import inspect
    params = list(inspect.signature(getattr(BrokerState, name)).parameters)[1:]
    if len(args) > len(params):
        raise TypeError("%s takes at most %d arguments" % (name, len(params)))
    out = dict(zip(params, args))
    out.update(kwargs)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="A test OSB v2.17 broker on 127.0.0.1.")
    ap.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    ap.add_argument("--user", default="broker")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--catalog", default="small", help="small | big:SxP | FILE.json")
    ap.add_argument("--mode", choices=MODES, default=None,
                    help="default mode of every plan (small catalog: per plan)")
    ap.add_argument("--async-delay", type=float, default=1.0,
                    help="seconds an async operation stays in progress")
    ap.add_argument("--retry-after", default=None)
    ap.add_argument("--min-api-version", default="2.17")
    ap.add_argument("--control-token", default=None)
    ap.add_argument("--max-lifetime", type=float, default=3600.0,
                    help="stop after this many seconds (at most %d)" % MAX_LIFETIME)
    ap.add_argument("--ignore-stdin", action="store_true",
                    help="do not stop when stdin closes (it must then be killed or "
                    "reach --max-lifetime)")
    a = ap.parse_args(argv)
    if not 0 <= a.port <= 65535:
        ap.error("bad port")
    try:
        catalog, modes = parse_catalog_arg(a.catalog)
    except (OSError, ValueError) as e:
        ap.error("catalog: %s" % e)
    broker = Broker(a.user, a.password, catalog, modes, a.async_delay, a.mode or "sync",
                    a.min_api_version, a.port, a.control_token,
                    _bounded(a.max_lifetime, 0.1, MAX_LIFETIME))
    if a.retry_after is not None:
        broker.set_retry_after(a.retry_after)
    done = threading.Event()        # set by the stdin watcher
    signalled = []                  # by the signal handler: an Event.set() there
                                    # deadlocks with the main thread's Event.wait()

    def on_signal(signum, frame):
        signalled.append(signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    broker.start()
    # The last resort: out at the lifetime's end even if a thread is stuck.
    watchdog = threading.Timer(broker.max_lifetime + 10, os._exit, [3])
    watchdog.daemon = True
    watchdog.start()
    sys.stdout.write("%d\n" % broker.port)
    sys.stdout.flush()
    if not a.ignore_stdin:
        def watch_stdin():
            # os.read, not sys.stdin: a daemon thread blocked in a buffered
            # read aborts the interpreter's shutdown.
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            done.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    while not (signalled or done.is_set() or broker.stopped.is_set()):
        time.sleep(0.1)
    broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
