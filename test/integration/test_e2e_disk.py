#!/usr/bin/env python3
"""End to end: what content may do to the disks of marketd's host.

marketd with the real http driver and a private nginx configured as
README.md recommends (dot paths denied).  Checked here:
  - a decompression bomb stops at MAX_IMAGE_SIZE, in marketd's own copy and
    in a driver's export, with nothing left behind;
  - a datastore's RESERVED_MB stops a copy before its file system fills;
  - a `tar --sparse` member keeps its logical size (and the MD5 of it);
  - the temporary file of an import whose driver was SIGKILLed is never
    served, and the next monitor pass removes it;
  - the temporary file of a copy whose marketd was SIGKILLed is removed
    when marketd starts again.

Python 3 standard library, GNU tar and nginx.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_disk.py
"""

import sys
sys.dont_write_bytecode = True

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import harness
from harness import APP_ERROR, APP_READY, tmpl, xint, xtext

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import nginx  # noqa: E402
from nginx import Nginx  # noqa: E402

MB = 1 << 20
IMAGE_READY, IMAGE_ERROR = 1, 5
MAX_IMAGE_SIZE = 16             # MB, in the daemon's configuration
IMPORT_TIMEOUT = 3              # s: the driver may sweep 10 s after that
DRIVERS = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
TMP_DIR = ".marketd-tmp"
# The README's nginx example: nothing under a dot path is served.
DENY_DOT = r"location ~ /\. { deny all; }"


class DiskDaemon(harness.Daemon):
    """The real drivers, small caps, short import limit, frequent monitor
    passes, no proxy variables."""

    def __init__(self, **kw):
        super().__init__(real_drivers=True, name="disk",
                         market_mad='WORKERS = "16", TIMEOUT = "60", IMPORT_TIMEOUT = "%d"'
                         % IMPORT_TIMEOUT,
                         extra_conf="MAX_IMAGE_SIZE = %d\nMONITORING_INTERVAL_MARKET = 2\n"
                         % MAX_IMAGE_SIZE, **kw)


D = WEB = MARKET = DS2 = TMP = PUBLIC = None


def setUpModule():
    global D, WEB, MARKET, DS2, TMP, PUBLIC
    TMP = tempfile.mkdtemp(prefix="mkt-it-disk-")
    try:
        D = DiskDaemon()
        D.start()
        PUBLIC = D.public_dir
        WEB = Nginx(os.path.join(TMP, "nginx"), PUBLIC, extra=DENY_DOT).start()
        MARKET = D.ok("one.market.allocate",
                      tmpl(NAME="web", MARKET_MAD="http", BASE_URL=WEB.url(),
                           PUBLIC_DIR=PUBLIC))
        DS2 = D.ok("one.datastore.allocate",
                   tmpl(NAME="second", BASE_PATH=os.path.join(TMP, "ds2")))
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        if D is not None:
            harness.stop_module_daemon(D)
    finally:
        nginx.stop_all()
        if TMP and not os.environ.get("MKT_TEST_KEEP"):
            shutil.rmtree(TMP, ignore_errors=True)


_n = iter(range(1, 1 << 30))


def name(prefix):
    return "%s-%d" % (prefix, next(_n))


def message(x):
    return x.findtext("TEMPLATE/ERROR") or ""


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def image_from(path, ds=1, timeout=60):
    iid = D.ok("one.image.allocate", tmpl(NAME=name("img"), PATH=path), ds)
    return iid, D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=timeout)


def datastore_dir(ds):
    return D.info("datastore", ds).findtext("BASE_PATH")


def temp_files(directory):
    """Temporary files under @directory, at any depth (relative paths)."""
    out = []
    for root, _dirs, files in os.walk(directory):
        out += [os.path.relpath(os.path.join(root, f), directory) for f in files
                if ".part." in f]
    return sorted(out)


def make_bomb(path, mb):
    """@mb MB of zeros, gzip'd: a few hundred KB."""
    block = bytes(MB)
    with gzip.open(path, "wb", 6) as f:
        for _ in range(mb):
            f.write(block)
    return path


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class FifoFeeder(threading.Thread):
    """Write @head bytes into a FIFO, then hold it open (the reader waits
    for more) until stop()."""

    def __init__(self, path, head=2 * MB):
        super().__init__(daemon=True)
        os.mkfifo(path)
        self.path = path
        self.head = head
        self.done = threading.Event()

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY)
            os.write(fd, os.urandom(self.head))
            self.done.wait(120)
            os.close(fd)
        except OSError:
            pass

    def stop(self):
        self.done.set()
        self.join(10)


class Caps(harness.TestCase):

    def test_gzip_bomb_image(self):
        bomb = make_bomb(os.path.join(TMP, "bomb.img.gz"), 200)
        iid, img = image_from(bomb)
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("MAX_IMAGE_SIZE (%d MiB)" % MAX_IMAGE_SIZE, message(img))
        self.assertFalse(os.path.exists(xtext(img, "SOURCE")), "no image file")
        self.assertEqual(temp_files(datastore_dir(1)), [], "no temporary file")

    def test_gzip_bomb_export(self):
        bomb = make_bomb(os.path.join(TMP, "bomb2.img.gz"), 200)
        aid = D.ok("one.marketapp.allocate", tmpl(NAME=name("bomb"), IMPORT_SOURCE=bomb),
                   MARKET)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
        self.assertEqual(xint(app, "STATE"), APP_READY, message(app))
        iid = D.ok("one.marketapp.export", aid, DS2, name("exp"))
        img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=60)
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("MAX_IMAGE_SIZE (%d MiB)" % MAX_IMAGE_SIZE, message(img))
        self.assertFalse(os.path.exists(xtext(img, "SOURCE")))
        self.assertEqual(temp_files(os.path.join(TMP, "ds2")), [])

    def test_datastore_reserve(self):
        ds = D.ok("one.datastore.allocate",
                  tmpl(NAME=name("full"), BASE_PATH=os.path.join(TMP, "ds-full"),
                       RESERVED_MB=str(1 << 30)))
        src = os.path.join(TMP, "small.img")
        with open(src, "wb") as f:
            f.write(os.urandom(2 * MB))
        iid, img = image_from(src, ds)
        self.assertEqual(xint(img, "STATE"), IMAGE_ERROR)
        self.assertIn("MiB reserved", message(img))
        self.assertEqual(os.listdir(os.path.join(TMP, "ds-full")), [], "nothing left")

    def test_sparse_tar(self):
        zeros = os.path.join(TMP, "zeros.img")
        with open(zeros, "wb") as f:
            f.truncate(10 * MB)
        tar = os.path.join(TMP, "zeros.tar")
        subprocess.run(["tar", "--sparse", "-C", TMP, "-cf", tar, "zeros.img"], check=True)
        self.assertLess(os.path.getsize(tar), MB, "tar --sparse stored the holes as holes")
        iid, img = image_from(tar)
        self.assertEqual(xint(img, "STATE"), IMAGE_READY, message(img))
        self.assertEqual(os.path.getsize(xtext(img, "SOURCE")), 10 * MB)
        self.assertEqual(xint(img, "SIZE"), 10)
        self.assertEqual(img.findtext("TEMPLATE/MD5"), hashlib.md5(bytes(10 * MB)).hexdigest())


def children(ppid, prefix):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and argv and argv[0].startswith(prefix):
            out.append((int(entry), argv))
    return out


class Killed(harness.TestCase):

    def test_driver_killed_mid_import(self):
        feeder = FifoFeeder(os.path.join(TMP, "import.fifo"))
        feeder.start()
        try:
            aid = D.ok("one.marketapp.allocate",
                       tmpl(NAME=name("killed"), IMPORT_SOURCE=feeder.path), MARKET)
            parts = self.wait_for(lambda: temp_files(PUBLIC), timeout=30,
                                  what="the import's temporary file")
            for rel in parts:
                self.assertNotEqual(http_status(WEB.url(rel)), 200,
                                    "%s is served by the web server" % rel)
            pids = [pid for pid, argv in children(D.pid, os.path.join(DRIVERS, "http", "import"))
                    if argv[-1] == str(aid)]
            self.assertEqual(len(pids), 1)
            os.kill(pids[0], signal.SIGKILL)
            app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
            self.assertEqual(xint(app, "STATE"), APP_ERROR)
        finally:
            feeder.stop()
        self.assertEqual(temp_files(PUBLIC), parts, "the leftover stays until swept")
        # Swept by a monitor pass once older than IMPORT_TIMEOUT + 10 s.
        self.wait_for(lambda: not temp_files(PUBLIC), timeout=IMPORT_TIMEOUT + 30,
                      what="a monitor pass to remove %s" % ", ".join(parts))
        self.wait_for(lambda: "left by a transfer that did not finish" in D.read_log(),
                      timeout=10, what="the removal to be logged")

    def test_monitor_removes_files_of_apps_that_are_gone(self):
        """An import that finished after marketd was killed leaves a file
        no app names; once its app is gone, a monitor pass removes it
        (old enough), never the file of an app that exists."""
        iid, _ = image_from(write_file(os.path.join(TMP, name("src")), os.urandom(4096)))
        aid = D.ok("one.marketapp.allocate", tmpl(NAME=name("kept"), ORIGIN_ID=str(iid)),
                   MARKET)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=30)
        kept = os.path.join(PUBLIC, xtext(app, "SOURCE").rsplit("/", 1)[1])
        stray = os.path.join(PUBLIC, "%d-%s" % (aid + 100000, "0123456789abcdef"))
        other = os.path.join(PUBLIC, "notes-%s" % "0123456789abcdef")
        for path in (stray, other):
            write_file(path, b"left over")
        old = time.time() - (IMPORT_TIMEOUT + 60)
        for path in (kept, stray, other):
            os.utime(path, (old, old))
        self.wait_for(lambda: not os.path.exists(stray), timeout=IMPORT_TIMEOUT + 30,
                      what="a monitor pass to remove %s" % stray)
        self.assertTrue(os.path.exists(kept), "the file of app %d was removed" % aid)
        self.assertTrue(os.path.exists(other), "a file not named as an app's was removed")
        os.unlink(other)

    def test_driver_dies_with_marketd(self):
        """A driver must not outlive a killed marketd: it would go on with
        work nobody records (drivers/common: PR_SET_PDEATHSIG)."""
        feeder = FifoFeeder(os.path.join(TMP, "orphan.fifo"))
        feeder.start()
        try:
            D.ok("one.marketapp.allocate",
                 tmpl(NAME=name("orphan"), IMPORT_SOURCE=feeder.path), MARKET)
            pids = self.wait_for(lambda: [pid for pid, _ in children(
                D.pid, os.path.join(DRIVERS, "http", "import"))], timeout=30,
                what="the import driver")
            self.wait_for(lambda: temp_files(PUBLIC), timeout=30,
                          what="the import's temporary file")
            D.kill()
            self.wait_for(lambda: not any(os.path.exists("/proc/%d" % p) for p in pids),
                          timeout=10, what="the driver to stop with marketd")
            self.assertEqual(temp_files(PUBLIC), [], "the stopped driver removes its file")
        finally:
            feeder.stop()
            if not D.running():
                D.start()

    def test_marketd_killed_mid_copy(self):
        feeder = FifoFeeder(os.path.join(TMP, "copy.fifo"))
        feeder.start()
        try:
            D.ok("one.image.allocate", tmpl(NAME=name("img"), PATH=feeder.path), DS2)
            ds = os.path.join(TMP, "ds2")
            parts = self.wait_for(lambda: temp_files(ds), timeout=30,
                                  what="the copy's temporary file")
            self.assertTrue(all(p.startswith(TMP_DIR + "/") for p in parts), parts)
            D.kill()
        finally:
            feeder.stop()
        self.assertEqual(temp_files(ds), parts, "SIGKILL leaves the file")
        D.start()
        self.assertEqual(temp_files(ds), [], "removed at start-up")
        self.assertIn("left by a copy that did not finish", D.read_log())


if __name__ == "__main__":
    harness.main()
