#!/usr/bin/env python3
"""Upload and download of one large file through the s3 driver, against
`s3cmd put` and `s3cmd get` of the same file to the same s3rver in the
same run.

  upload:   the driver's import action (READ_LENGTH 32: multipart, md5 and
            sha256 of the whole content) vs `s3cmd put` (multipart, 15 MB
            chunks), each reading its source from the disk (evicted from
            the page cache first);
  download: the driver's export action (md5 checked, written durably) vs
            `s3cmd get`.
The driver runs alone as marketd runs it (peak RSS = its ru_maxrss,
through test/drivers/maxrss.py), then the same through marketd: an app
imported from an image into an s3 market, and exported into a
datastore (peak RSS of marketd and of the driver sampled from /proc).  Each time is the best of
BENCH_ROUNDS (default 5).  BENCH_SIZE_MB (default 1024) sets the size.
Prints one line per measure: name, ours (s), s3cmd (s), throughput ratio
(>= 1.0 is the target), the driver's peak RSS (< 64 MiB the target)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("MKT_SRCDIR") or os.path.dirname(HERE))
# Absolute: daemons and drivers run in directories of their own.
BUILD = os.path.abspath(os.environ.get("MKT_BUILDDIR") or SRC)
sys.path.insert(0, os.path.join(SRC, "test"))
import driverkit  # noqa: E402
import s3rver  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_SIZE_MB", "1024"))
# Five: single runs on a shared disk vary by +-25 %, and a run can only be
# slowed by the machine, so the best of more rounds is the steadier figure.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
MB = 1 << 20


kit = driverkit.load()
# Measures the driver's own peak RSS (see there why not wait4() from here).
MAXRSS = os.path.join(SRC, "test", "drivers", "maxrss.py")


def run_driver(action, document, obj_id, driver_dir):
    """(seconds, peak RSS in bytes, stdout) of one driver action."""
    exe = os.path.join(driver_dir, action)
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-S", MAXRSS, rss.name, exe, "-", str(obj_id)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        out, _ = proc.communicate(document.encode())
        seconds = time.monotonic() - t0
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError("%s failed: %s" % (action, err.read().decode(errors="replace")[-2000:]))
        peak = int(rss.read()) * 1024
    return seconds, peak, out.decode()


def evict(path):
    """Drop @path from the page cache: every upload, ours and s3cmd's,
    reads its source from the disk (marketd's image copy leaves the image
    out of the cache, so without this the peer would read from memory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class ThroughDaemon:
    """An s3 market in a running marketd: app import from an image and
    export into a datastore, and the memory of marketd and its driver."""

    def __init__(self, server, src):
        sys.path.insert(0, HERE)
        sys.path.insert(0, os.path.join(SRC, "test", "integration"))
        import harness
        from transfer_bench import RssSampler
        self.h = harness
        driver_dir = os.path.join(BUILD, "drivers")
        # No automatic monitor pass in the middle of a measure.
        self.d = harness.Daemon(name="s3-bench", driver_dir=driver_dir,
                                extra_conf="MONITORING_INTERVAL_MARKET = 100000\n").start()
        # The image is marketd's own copy, not part of the measure.
        self.iid = self.d.ok("one.image.allocate", harness.tmpl(NAME="s3-bench-src", PATH=src), 1)
        self.d.wait_state("image", self.iid, (1,), timeout=900)
        self.image_file = self.d.info("image", self.iid).findtext("SOURCE")
        self.mid = self.d.ok("one.market.allocate", harness.tmpl(
            NAME="s3-bench", MARKET_MAD="s3", ACCESS_KEY_ID=s3rver.KEY,
            SECRET_ACCESS_KEY=s3rver.SECRET, REGION="us-east-1", BUCKET="bench",
            ENDPOINT=server.url(), FORCE_PATH_STYLE="YES", APP_PREFIX="daemon"))
        time.sleep(6)      # past the first automatic pass (5 s after start)
        self.sampler = RssSampler(self.d.proc.pid, driver_dir)
        self.sampler.start()
        self.app = None

    def upload(self, rnd):
        evict(self.image_file)
        t0 = time.monotonic()
        self.app = self.d.ok("one.marketapp.allocate",
                             self.h.tmpl(NAME="s3-bench-%d" % rnd, ORIGIN_ID=str(self.iid)),
                             self.mid)
        self.d.wait_state("marketapp", self.app, (1,), timeout=900)
        return time.monotonic() - t0

    def download(self, rnd):
        t0 = time.monotonic()
        eid = self.d.ok("one.marketapp.export", self.app, 1, "s3-bench-export-%d" % rnd)
        self.d.wait_state("image", eid, (1,), timeout=900)
        t = time.monotonic() - t0
        self.d.ok("one.image.delete", eid)
        self.d.ok("one.marketapp.delete", self.app)
        return t

    def close(self):
        self.sampler.stop = True
        self.sampler.join()
        self.d.cleanup()


def settle():
    """Write back what earlier steps left dirty, so no step pays for
    another's writes."""
    os.sync()


def main():
    driver_dir = os.path.join(BUILD, "drivers", "s3")
    tmp = tempfile.mkdtemp(prefix="mkt-s3-bench-", dir=os.environ.get("BENCH_TMPDIR"))
    server = daemon = None
    try:
        server = s3rver.S3rver(BUILD, os.path.join(tmp, "s3"), buckets=["bench"]).start()
        cfg = s3rver.s3cmd_config(os.path.join(tmp, "s3cmd.cfg"), server)
        src = os.path.join(tmp, "image.raw")
        with open(src, "wb") as f:
            for _ in range(SIZE_MB):
                f.write(os.urandom(MB))
        daemon = ThroughDaemon(server, src)
        market = kit.market_xml(1, "s3", [
            ("ACCESS_KEY_ID", s3rver.KEY), ("SECRET_ACCESS_KEY", s3rver.SECRET),
            ("REGION", "us-east-1"), ("BUCKET", "bench"), ("ENDPOINT", server.url()),
            ("FORCE_PATH_STYLE", "YES")])
        results = {k: [] for k in ("upload", "download", "s3cmd put", "s3cmd get",
                                   "daemon up", "daemon down")}
        rss = {"upload": 0, "download": 0}

        def s3cmd(*argv):
            subprocess.run(["s3cmd", "-c", cfg, "--no-progress", "-q"] + list(argv), check=True)

        # Each round runs every contender once, from a settled disk, in an
        # order that turns with the round: a slow moment of the machine
        # hits them all alike, and none always runs first or last.
        def rotated(steps, rnd):
            k = rnd % len(steps)
            for step in steps[k:] + steps[:k]:
                settle()
                step()

        for rnd in range(1, ROUNDS + 1):
            app_id = 1000 + rnd
            key = "s3://bench/s3cmd-%d" % rnd
            target = os.path.join(tmp, "export-%d" % rnd)
            got = {}

            def driver_up():
                doc = kit.action_document("import", market, kit.app_xml(app_id, 1),
                                          kit.elem("IMPORT_SOURCE", src))
                evict(src)
                t, r, out = run_driver("import", doc, app_id, driver_dir)
                results["upload"].append(t)
                rss["upload"] = max(rss["upload"], r)
                attrs = kit.parse_result(out)
                got["source"], got["md5"] = kit.result_get(attrs, "SOURCE"), kit.result_get(attrs, "MD5")

            def s3cmd_up():
                evict(src)
                t0 = time.monotonic()
                s3cmd("put", src, key)
                results["s3cmd put"].append(time.monotonic() - t0)

            def driver_down():
                doc = kit.action_document(
                    "export", market, kit.app_xml(app_id, 1, got["source"], got["md5"], SIZE_MB, "raw"),
                    kit.image_xml(5, 1) + kit.datastore_xml(1) + kit.elem("EXPORT_TARGET", target))
                t, r, _ = run_driver("export", doc, app_id, driver_dir)
                results["download"].append(t)
                rss["download"] = max(rss["download"], r)
                os.unlink(target)

            def s3cmd_down():
                t0 = time.monotonic()
                s3cmd("get", key, target)
                # marketd's copies are durable; make s3cmd's as well.
                subprocess.run(["sync", target], check=True)
                results["s3cmd get"].append(time.monotonic() - t0)
                os.unlink(target)

            rotated([driver_up, s3cmd_up, lambda: results["daemon up"].append(daemon.upload(rnd))], rnd)
            rotated([driver_down, s3cmd_down,
                     lambda: results["daemon down"].append(daemon.download(rnd))], rnd)
            # Keep the store small: every round starts alike.
            s3cmd("del", key, got["source"])

        print("%-34s %9s %9s %7s" % ("", "ours", "s3cmd", "ratio"))
        put, get = min(results["s3cmd put"]), min(results["s3cmd get"])
        for name, ours, peer, rss_note in (
                ("upload, driver alone", min(results["upload"]), put,
                 "driver RSS %.1f MiB" % (rss["upload"] / MB)),
                ("download, driver alone", min(results["download"]), get,
                 "driver RSS %.1f MiB" % (rss["download"] / MB)),
                ("app import through marketd", min(results["daemon up"]), put, ""),
                ("app export through marketd", min(results["daemon down"]), get, "")):
            print("%-34s %8.2fs %8.2fs %6.2fx  %s" % (name, ours, peer, peer / ours, rss_note))
        pk = daemon.sampler.peak
        print("peak RSS through marketd: marketd %.1f MiB + driver %.1f MiB = %.1f MiB "
              "(target < 64 MiB); peak Pss of the two together %.1f MiB (shared libraries "
              "counted once)" % (pk["marketd"] / 1024, pk["driver"] / 1024,
                                 (pk["marketd"] + pk["driver"]) / 1024, pk["pss_sum"] / 1024))
        print("%d MiB, best of %d; ratio = s3cmd time / ours, target >= 1.0x" % (SIZE_MB, ROUNDS))
        print("every round (s): " + "; ".join(
            "%s %s" % (k, " ".join("%.2f" % t for t in v)) for k, v in results.items()))
    finally:
        if daemon:
            daemon.close()
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
