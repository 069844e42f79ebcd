#!/usr/bin/env python3
"""Batches of service actions (share/doc/drivers.md, "Batches"): marketd
gives a driver that has a batch action its broker calls together, each
call with its own outcome; a driver without one gets a run per call.

The real marketd and osb driver against test/osb_broker.py; the driver
directory is a copy whose executables count their runs (a wrapper script
per action, exec'ing the real binary under the action's name).
"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import tmpl, xint, xml, xtext  # noqa: E402
import osbsetup  # noqa: E402
from osbsetup import wait  # noqa: E402

READY, FAILED = 1, 4
ACTIONS = ("monitor", "provision", "update", "deprovision", "bind", "unbind",
           "last_operation", "batch")


def counted_drivers(root, with_batch):
    """<root>/osb/<action>: a script that records its run, then runs the
    built osb driver as that action."""
    real = os.path.join(osbsetup.DRIVERS, "osb", "osb")
    d = os.path.join(root, "osb")
    os.makedirs(d)
    for action in ACTIONS:
        if action == "batch" and not with_batch:
            continue
        path = os.path.join(d, action)
        with open(path, "w") as f:
            f.write('#!/bin/bash\necho %s >> "%s/runs"\nexec -a %s "%s" "$@"\n'
                    % (action, root, action, real))
        os.chmod(path, 0o755)
    return root


def runs(root):
    try:
        with open(os.path.join(root, "runs")) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


class Batches(harness.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mkt-osb-batch-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, with_batch):
        root = counted_drivers(os.path.join(self.tmp, "drivers"), with_batch)
        env = osbsetup.BrokerMarket(harness.unique_name("osb-batch"), driver_dir=root)
        self.addCleanup(env.stop)
        return env, root

    def instances(self, env):
        pool = xml(env.daemon.ok("one.serviceinstancepool.info", -2, -1, -1))
        return {xint(x, "ID"): x for x in pool.findall("SERVICE_INSTANCE")}

    def provision_many(self, env, n, key="db/small"):
        app = str(env.plan_app(key))
        return [env.daemon.ok("one.serviceinstance.allocate",
                              tmpl(NAME="b-%d" % i, APP=app)) for i in range(n)]

    def settle(self, env, ids, timeout=60):
        return wait(lambda: (lambda xs: xs if all(xint(xs[i], "STATE") in (READY, FAILED)
                                                  for i in ids) else None)(self.instances(env)),
                    "every instance READY or FAILED", timeout)

    def test_calls_share_driver_runs_and_keep_their_outcomes(self):
        env, root = self.start(with_batch=True)
        env.broker.inject("provision", status=409, count=1, description="taken")
        ids = self.provision_many(env, 40)
        xs = self.settle(env, ids)
        states = [xint(xs[i], "STATE") for i in ids]
        self.assertEqual((states.count(READY), states.count(FAILED)), (39, 1), states)
        failed = [xs[i] for i in ids if xint(xs[i], "STATE") == FAILED][0]
        self.assertIn("409", xtext(failed, "ERROR"))
        # The 409 is a refusal, not an orphan: no DELETE for it.
        self.assertFalse(env.broker.requests(route="deprovision", iid=xtext(failed, "UUID")))
        self.assertEqual(len(env.broker.requests(route="provision")), 40)
        r = runs(root)
        self.assertNotIn("provision", r, "every provision went in a batch")
        self.assertLess(r.count("batch"), 40 // 2, r)
        self.assertEqual(env.broker.violations(), [])

    def test_async_polls_in_batches(self):
        env, root = self.start(with_batch=True)
        ids = self.provision_many(env, 12, key="db/async")
        xs = self.settle(env, ids)
        self.assertEqual([xint(xs[i], "STATE") for i in ids], [READY] * 12)
        self.assertTrue(env.broker.requests(route="instance_last_operation"))
        self.assertNotIn("last_operation", runs(root))
        for i in ids:
            env.daemon.ok("one.serviceinstance.delete", i)
        wait(lambda: not self.instances(env), "every instance deprovisioned")
        self.assertNotIn("deprovision", runs(root))

    def test_driver_without_batch_runs_each_call(self):
        env, root = self.start(with_batch=False)
        ids = self.provision_many(env, 5)
        xs = self.settle(env, ids)
        self.assertEqual([xint(xs[i], "STATE") for i in ids], [READY] * 5)
        self.assertEqual(runs(root).count("provision"), 5)
        self.assertNotIn("batch", runs(root))


if __name__ == "__main__":
    harness.main()
