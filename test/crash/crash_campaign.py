#!/usr/bin/env python3
"""Crash campaign (issue 10): SIGKILL marketd and its drivers at random
moments of uploads, exports, deletes and monitor passes, restart, and check
that nothing a client was told is lost and nothing is left behind.

The real daemon with the real http driver, nginx on 127.0.0.1 publishing
the market, a second datastore for exports.  Each round starts a random
mix of work (images copied from files, apps uploaded from images, apps
exported, apps and images deleted, monitor passes), waits 0-250 ms, then
kills marketd (or, one round in four, a running driver first), restarts it
and checks:

  - the database passes PRAGMA integrity_check;
  - every app and image whose allocate was answered, and that no delete
    was asked for, still exists;
  - no app or image is left in a transient state (INIT, LOCKED): the
    restart turned interrupted work into READY or ERROR;
  - no temporary file of marketd's copies is left in a datastore.

At the end, after the drivers' own sweep (a monitor pass once temporary
files are older than IMPORT_TIMEOUT + 10 s): no temporary file anywhere,
and every file in the market and the datastores belongs to an object.

CRASH_KILLS sets the rounds (default 100; `make check` runs a few, `make
crash` the full campaign).  Python 3 standard library only:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/crash/crash_campaign.py
"""

import sys
sys.dont_write_bytecode = True

import os
import random
import shutil
import signal
import sqlite3
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, ".."))
import harness  # noqa: E402
from harness import tmpl, xint, xtext  # noqa: E402
import nginx  # noqa: E402
from nginx import Nginx  # noqa: E402

KILLS = int(os.environ.get("CRASH_KILLS", "100"))
SEED = int(os.environ.get("CRASH_SEED", str(int(time.time()))))
DRIVERS = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
IMPORT_TIMEOUT = 3
APP_TRANSIENT = (0, 2)          # INIT, LOCKED
IMAGE_TRANSIENT = (0, 4)        # INIT, LOCKED
MB = 1 << 20


def crash_daemon():
    return harness.Daemon(name="crash", real_drivers=True,
                          market_mad='WORKERS = "8", TIMEOUT = "60", IMPORT_TIMEOUT = "%d"'
                          % IMPORT_TIMEOUT,
                          extra_conf="MONITORING_INTERVAL_MARKET = 100000\n")


def children(ppid):
    """pids of @ppid's children that run a driver."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and argv0.startswith(DRIVERS):
            out.append(int(entry))
    return out


def temp_files(directory):
    out = []
    for root, _dirs, files in os.walk(directory):
        out += [os.path.join(root, f) for f in files if ".part." in f]
    return sorted(out)


def holders(paths):
    """Who holds a lock on @paths (/proc/locks), to say why a sweep left them."""
    inodes = {}
    for p in paths:
        try:
            inodes[os.stat(p).st_ino] = p
        except OSError:
            pass
    out = []
    with open("/proc/locks") as f:
        for line in f:
            fields = line.split()
            pid, ino = fields[4], int(fields[5].split(":")[-1])
            if ino in inodes:
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as c:
                        cmd = c.read().replace(b"\0", b" ").decode()
                except OSError:
                    cmd = "?"
                out.append("%s locked by %s (%s)" % (inodes[ino], pid, cmd[:200]))
    return ("; " + "; ".join(out)) if out else ""


def all_files(directory):
    out = set()
    for root, _dirs, files in os.walk(directory):
        out |= {os.path.join(root, f) for f in files}
    return out


class Campaign:

    def __init__(self, tmp):
        self.tmp = tmp
        self.rng = random.Random(SEED)
        self.d = crash_daemon()
        self.apps = set()            # answered allocates, no delete asked
        self.images = set()
        self.gone_apps = set()       # a delete was asked: may or may not exist
        self.gone_images = set()
        self.kills = self.driver_kills = 0
        self.failures = []

    # -- set-up -------------------------------------------------------------------
    def start(self):
        self.d.start()
        self.public = self.d.public_dir
        self.web = Nginx(os.path.join(self.tmp, "nginx"), self.public).start()
        self.market = self.d.ok("one.market.allocate", tmpl(
            NAME="crash", MARKET_MAD="http", BASE_URL=self.web.url(), PUBLIC_DIR=self.public))
        self.ds2_dir = os.path.join(self.tmp, "ds2")
        self.ds2 = self.d.ok("one.datastore.allocate", tmpl(NAME="exports",
                                                            BASE_PATH=self.ds2_dir))
        self.sources = []
        for i in range(4):
            path = os.path.join(self.tmp, "src-%d" % i)
            with open(path, "wb") as f:
                f.write(os.urandom((2 + 3 * i) * MB))
            self.sources.append(path)

    def ds_dirs(self):
        return [xtext(self.d.info("datastore", ds), "BASE_PATH") for ds in (1, self.ds2)]

    # -- work ---------------------------------------------------------------------
    def ready(self, kind, ids):
        out = []
        for oid in sorted(ids):
            r = self.d.rpc("one.%s.info" % kind, oid)
            if r[0] and xint(harness.xml(r[1]), "STATE") == 1:
                out.append(oid)
        return out

    def call(self, method, *args):
        try:
            return self.d.rpc(method, *args)
        except Exception as e:          # the daemon may be going
            return [False, repr(e), -1]

    def work(self):
        """Start a random mix of asynchronous work."""
        ready_images = self.ready("image", self.images)
        ready_apps = self.ready("marketapp", self.apps)
        for _ in range(self.rng.randint(2, 6)):
            op = self.rng.choice(("image", "upload", "upload", "export", "export",
                                  "delete_app", "delete_image", "monitor"))
            n = "c%d-%d" % (self.kills, self.rng.randint(0, 1 << 30))
            if op == "image":
                r = self.call("one.image.allocate",
                              tmpl(NAME=n, PATH=self.rng.choice(self.sources)), 1)
                if r[0]:
                    self.images.add(r[1])
            elif op == "upload" and ready_images:
                r = self.call("one.marketapp.allocate",
                              tmpl(NAME=n, ORIGIN_ID=str(self.rng.choice(ready_images))),
                              self.market)
                if r[0]:
                    self.apps.add(r[1])
            elif op == "export" and ready_apps:
                r = self.call("one.marketapp.export", self.rng.choice(ready_apps), self.ds2, n)
                if r[0] and isinstance(r[1], int):
                    self.images.add(r[1])
            elif op == "delete_app" and self.apps:
                aid = self.rng.choice(sorted(self.apps))
                self.apps.discard(aid)
                self.gone_apps.add(aid)
                self.call("one.marketapp.delete", aid)
            elif op == "delete_image" and self.images:
                iid = self.rng.choice(sorted(self.images))
                self.images.discard(iid)
                self.gone_images.add(iid)
                self.call("one.image.delete", iid)
            elif op == "monitor":
                self.call("one.market.monitor", self.market)

    def kill(self):
        time.sleep(self.rng.uniform(0, 0.25))
        if self.rng.random() < 0.25:
            drivers = children(self.d.pid)
            if drivers:
                try:
                    os.kill(self.rng.choice(drivers), signal.SIGKILL)
                    self.driver_kills += 1
                except ProcessLookupError:
                    pass            # it ended meanwhile
                time.sleep(self.rng.uniform(0, 0.1))
        self.d.kill()
        self.kills += 1
        self.d.start()

    # -- checks -------------------------------------------------------------------
    def fail(self, what):
        self.failures.append("round %d: %s" % (self.kills, what))

    def check(self):
        with sqlite3.connect("file:%s?mode=ro" % os.path.join(self.d.data_dir, "marketd.db"),
                             uri=True, timeout=10) as c:
            result = c.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            self.fail("integrity_check: %r" % result)
        for kind, ids, transient in (("marketapp", self.apps, APP_TRANSIENT),
                                     ("image", self.images, IMAGE_TRANSIENT)):
            for oid in sorted(ids):
                r = self.d.rpc("one.%s.info" % kind, oid)
                if not r[0]:
                    self.fail("%s %d, confirmed and never deleted, is gone: %s"
                              % (kind, oid, r[1]))
                    ids.discard(oid)
                    continue
                x = harness.xml(r[1])
                if xint(x, "STATE") in transient:
                    self.fail("%s %d left in state %s after the restart"
                              % (kind, oid, xtext(x, "STATE")))
        for ds in self.ds_dirs():
            left = temp_files(ds)
            if left:
                self.fail("temporary files of copies left in a datastore: %s" % left)

    def final_check(self):
        # Drivers sweep their temporary files once older than
        # IMPORT_TIMEOUT + 10 s, at a monitor pass.
        time.sleep(IMPORT_TIMEOUT + 11)
        before = int(xtext(self.d.info("market", self.market), "MONITORING/PASSES") or 0)
        self.d.ok("one.market.monitor", self.market)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = self.d.info("market", self.market).find("MONITORING")
            if st is not None and xint(st, "PASSES") > before and \
                    xtext(st, "STATE") != "RUNNING":
                break
            time.sleep(0.1)
        for directory in [self.public, os.path.join(self.d.data_dir, "tmp")] + self.ds_dirs():
            left = temp_files(directory)
            if left:
                self.fail("temporary files left after the sweep: %s%s" % (left, holders(left)))
        # Every file belongs to an object that exists.
        apps = harness.xml(self.d.ok("one.marketapppool.info", -2, -1, -1))
        sources = {xtext(a, "SOURCE") for a in apps.findall("MARKETPLACEAPP")}
        base = self.web.url()
        owned = {os.path.join(self.public, s[len(base):]) for s in sources
                 if s and s.startswith(base)}
        # Nothing an app or image needs was removed by a sweep.
        for a in apps.findall("MARKETPLACEAPP"):
            path = xtext(a, "SOURCE")
            if xint(a, "STATE") == 1 and path.startswith(base) and \
                    not os.path.exists(os.path.join(self.public, path[len(base):])):
                self.fail("the file of READY app %s is gone: %s" % (xtext(a, "ID"), path))
        # An app whose upload was cut short may hold a file marketd never
        # learnt the name of: it is the app's until the app is deleted.
        failed = {xtext(a, "ID") for a in apps.findall("MARKETPLACEAPP")
                  if not xtext(a, "SOURCE")}
        stray = {f for f in all_files(self.public) if ".part." not in f and
                 os.path.basename(f).split("-")[0] not in failed} - owned
        for path in sorted(stray)[:10]:
            aid = int(os.path.basename(path).split("-")[0])
            r = self.d.rpc("one.marketapp.info", aid)
            state = ("state %s, SOURCE %r, ERROR %r" % (
                xtext(harness.xml(r[1]), "STATE"), xtext(harness.xml(r[1]), "SOURCE"),
                harness.xml(r[1]).findtext("TEMPLATE/ERROR")) if r[0] else "gone")
            self.fail("a file in the market no app accounts for: %s (app %d: %s%s)"
                      % (path, aid, state, ", its delete was asked" if aid in self.gone_apps
                         else ""))
        images = harness.xml(self.d.ok("one.imagepool.info", -2, -1, -1))
        owned = {xtext(i, "SOURCE") for i in images.findall("IMAGE")}
        for i in images.findall("IMAGE"):
            if xint(i, "STATE") == 1 and not os.path.exists(xtext(i, "SOURCE")):
                self.fail("the file of READY image %s is gone" % xtext(i, "ID"))
        for ds in self.ds_dirs():
            stray = all_files(ds) - owned
            if stray:
                self.fail("files in datastore %s no image accounts for: %s"
                          % (ds, sorted(stray)[:10]))

    def run(self):
        self.start()
        t0 = time.monotonic()
        for _ in range(KILLS):
            self.work()
            self.kill()
            self.check()
        self.final_check()
        print("crash campaign (seed %d): %d kills of marketd, %d of drivers, %.0f s; "
              "%d apps and %d images confirmed; %d failure(s)"
              % (SEED, self.kills, self.driver_kills, time.monotonic() - t0,
                 len(self.apps), len(self.images), len(self.failures)))
        for f in self.failures[:30]:
            print("FAIL " + f)
        return not self.failures


def main():
    tmp = tempfile.mkdtemp(prefix="mkt-crash-")
    campaign = Campaign(tmp)
    try:
        ok = campaign.run()
    finally:
        campaign.d.cleanup()
        nginx.stop_all()
        if not os.environ.get("MKT_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
