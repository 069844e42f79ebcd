"""Tests of the s3 market driver against a real S3 server.

Starts s3rver (npm, installed once into $MKT_BUILDDIR/test/node_modules by
test/s3rver.py) on free loopback ports, twice:
  - strict: checks V2 signatures and refuses unknown key ids; used for
    every V4 case and for V2 calls on objects;
  - lax (--allow-mismatched-signatures): for V2 calls on buckets (head,
    create, list), whose libs3 signature s3rver 3.7.1 computes differently
    ("/bucket/" against "/bucket"; see test/s3rver.py).
Then runs the built driver ($MKT_BUILDDIR/drivers/s3) directly with action
documents: the conformance kit with V4 and V2, single PUT and multipart
uploads from a file (read back part by part: the driver's peak RSS is
measured) and from a URL through nginx (a part buffer), a source file
changed mid-upload, a driver stopped mid-upload, wrong credentials, a missing
bucket, a corrupted object, monitor across more than 1000 objects, and
s3cmd (an independent client) reading back what the driver wrote.

Standalone:  MKT_BUILDDIR=. python3 test/drivers/test_s3_driver.py -v
Knobs: MKT_TEST_WRAPPER=valgrind, MKT_TEST_KEEP=1 (keep the temp dir).
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("MKT_SRCDIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILDDIR = os.environ.get("MKT_BUILDDIR") or SRCDIR
S3_DIR = os.path.join(BUILDDIR, "drivers", "s3")

WRAPPER = os.environ.get("MKT_TEST_WRAPPER", "")
VALGRIND = ("valgrind --quiet --error-exitcode=99 --leak-check=full "
            "--errors-for-leak-kinds=definite")
SLOW = 10 if WRAPPER == "valgrind" else 1
SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
MB = 1 << 20
# Runs a command and writes its peak RSS (KiB) to the file named first.
MAXRSS = os.path.join(HERE, "maxrss.py")

sys.path.insert(0, os.path.join(SRCDIR, "test"))
import driverkit  # noqa: E402
import nginx  # noqa: E402
import s3rver  # noqa: E402


kit = driverkit.load()


class S3DriverTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(os.path.join(S3_DIR, "import"), os.X_OK):
            raise RuntimeError("%s/import is missing: build first (make)" % S3_DIR)
        cls.tmp = tempfile.mkdtemp(prefix="mkt-s3-test-")
        cls.strict = s3rver.S3rver(BUILDDIR, os.path.join(cls.tmp, "strict"),
                                   buckets=["market", "v2objects"]).start()
        cls.lax = s3rver.S3rver(BUILDDIR, os.path.join(cls.tmp, "lax"), lax=True).start()
        cls.runner = kit.Runner(S3_DIR, timeout=120 * SLOW,
                                wrapper=VALGRIND if WRAPPER == "valgrind" else None,
                                pass_env=SANITIZER_ENV, scratch=os.path.join(cls.tmp, "scratch"))
        os.makedirs(cls.runner.scratch)
        cls.s3cmd_cfg = s3rver.s3cmd_config(os.path.join(cls.tmp, "s3cmd.cfg"), cls.strict)
        cls.web = nginx.Nginx(os.path.join(cls.tmp, "nginx"), cls.tmp, access_log=False).start()
        cls.next_id = 1

    @classmethod
    def tearDownClass(cls):
        cls.web.stop()
        cls.strict.stop()
        cls.lax.stop()
        if os.environ.get("MKT_TEST_KEEP"):
            print("kept %s" % cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        for server in (self.strict, self.lax):
            server.ensure_running()

    # -- helpers ---------------------------------------------------------------

    def new_id(self):
        type(self).next_id += 1
        return self.next_id

    def attrs(self, server=None, **override):
        attrs = {"ACCESS_KEY_ID": s3rver.KEY, "SECRET_ACCESS_KEY": s3rver.SECRET,
                 "REGION": "us-east-1", "BUCKET": "market",
                 "ENDPOINT": (server or self.strict).url(), "FORCE_PATH_STYLE": "YES",
                 "SIGNATURE_VERSION": "v4"}
        attrs.update(override)
        return {k: v for k, v in attrs.items() if v is not None}

    def market(self, server=None, **override):
        return kit.market_xml(1, "s3", list(self.attrs(server, **override).items()))

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def import_doc(self, source, app_id, market):
        return kit.action_document("import", market, kit.app_xml(app_id, 1),
                                   kit.elem("IMPORT_SOURCE", source))

    def run_import(self, data, market, app_id=None):
        app_id = app_id or self.new_id()
        src = self.write("src-%d" % app_id, data)
        return app_id, self.runner.run("import", self.import_doc(src, app_id, market), app_id)

    def import_ok(self, data, market):
        app_id, run = self.run_import(data, market)
        self.assertEqual(run.status, 0, run.describe())
        attrs = kit.parse_result(run.stdout)
        app = {k: kit.result_get(attrs, k) for k in ("SOURCE", "MD5", "SIZE", "FORMAT", "SHA256")}
        app["ID"] = app_id
        self.assertEqual(app["MD5"], hashlib.md5(data).hexdigest())
        self.assertEqual(app["SHA256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(app["SIZE"], str(-(-len(data) // MB)))     # MB, rounded up
        return app

    def export(self, app, market, md5=None):
        target = os.path.join(tempfile.mkdtemp(prefix="export-", dir=self.tmp), "image")
        doc = kit.action_document(
            "export", market,
            kit.app_xml(app["ID"], 1, app["SOURCE"], app["MD5"] if md5 is None else md5,
                        app["SIZE"], app["FORMAT"]),
            kit.image_xml(5, 1) + kit.datastore_xml(1) + kit.elem("EXPORT_TARGET", target))
        return target, self.runner.run("export", doc, app["ID"])

    def assert_round_trip(self, data, market):
        app = self.import_ok(data, market)
        target, run = self.export(app, market)
        self.assertEqual(run.status, 0, run.describe())
        with open(target, "rb") as f:
            self.assertEqual(f.read(), data)
        return app

    def uploads_of(self, app_id):
        return [u for u, k in self.strict.uploads("market") if k == "marketapp-%d" % app_id]

    def start_upload(self, source, app_id, parts=1):
        """Start a multipart import of @source (1 MB parts) and return
        (proc, workdir) once @parts of it are on the server."""
        proc, workdir, data = self.runner.start(
            "import", self.import_doc(source, app_id, self.market(READ_LENGTH="1")), app_id)
        proc.stdin.write(data)
        proc.stdin.close()
        proc.stdin = None
        deadline = time.monotonic() + 30 * SLOW
        while time.monotonic() < deadline:
            mine = self.uploads_of(app_id)
            try:
                # s3rver keeps part N as a file named N (and N.md5, key, ...)
                stored = [n for n in os.listdir(os.path.join(self.strict.datadir, "market",
                                                             s3rver.UPLOADS, mine[0]))
                          if n.isdigit()] if mine else []
            except FileNotFoundError:       # the upload ended meanwhile
                stored = []
            if len(stored) >= parts:
                return proc, workdir
            time.sleep(0.02)
        self.fail("no multipart upload of %d parts started" % parts)

    def monitor(self, market):
        run = self.runner.run("monitor", kit.action_document("monitor", market), 1)
        self.assertEqual(run.status, 0, run.describe())
        attrs = kit.parse_result(run.stdout)
        return {k: int(kit.result_get(attrs, k)) for k in ("USED_MB", "FREE_MB", "TOTAL_MB")}

    def s3cmd_get(self, source):
        out = os.path.join(tempfile.mkdtemp(prefix="s3cmd-", dir=self.tmp), "object")
        res = subprocess.run(["s3cmd", "-c", self.s3cmd_cfg, "--no-progress", "get", source, out],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out, "rb") as f:
            return f.read()

    # -- the conformance kit ---------------------------------------------------

    def kit_run(self, attrs):
        tpl = self.write("kit-%s.tpl" % attrs["BUCKET"],
                         "".join('%s = "%s"\n' % kv for kv in attrs.items()).encode())
        cmd = [sys.executable, driverkit.PATH, "--market-template", tpl, "--timeout", str(120 * SLOW)]
        if WRAPPER == "valgrind":
            cmd += ["--wrapper", VALGRIND]
        for name in SANITIZER_ENV:
            cmd += ["--pass-env", name]
        res = subprocess.run(cmd + [S3_DIR], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"\n\d+ passed, 0 failed\n?$")

    def test_conformance_kit_v4(self):
        self.kit_run(self.attrs(BUCKET="kit-v4", READ_LENGTH="1"))

    def test_conformance_kit_v2(self):
        self.kit_run(self.attrs(self.lax, BUCKET="kit-v2", SIGNATURE_VERSION="v2", READ_LENGTH="1"))

    # -- import and export -----------------------------------------------------

    def test_v4_single_put(self):
        data = os.urandom(300 * 1024)
        app = self.assert_round_trip(data, self.market(READ_LENGTH="1"))
        self.assertEqual(app["SOURCE"], "s3://market/marketapp-%d" % app["ID"])
        self.assertEqual(self.s3cmd_get(app["SOURCE"]), data)

    def test_v4_multipart(self):
        data = os.urandom(3 * MB + 12345)
        app = self.assert_round_trip(data, self.market(READ_LENGTH="1"))
        self.assertEqual(self.s3cmd_get(app["SOURCE"]), data)
        self.assertEqual(self.strict.uploads("market"), [])

    def test_v4_exact_part_is_one_put(self):
        app = self.assert_round_trip(os.urandom(MB), self.market(READ_LENGTH="1"))
        self.assertTrue(self.strict.has_object("market", "marketapp-%d" % app["ID"]))

    def test_v2_object_calls_strict(self):
        """V2 signatures of libs3 on objects checked by s3rver: an object
        put with s3cmd is exported (presigned GET) and deleted with V2."""
        data = os.urandom(2 * MB + 7)
        app_id = self.new_id()
        src = self.write("v2obj", data)
        res = subprocess.run(["s3cmd", "-c", self.s3cmd_cfg, "--no-progress", "put", src,
                              "s3://v2objects/marketapp-%d" % app_id], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        market = self.market(BUCKET="v2objects", SIGNATURE_VERSION="v2")
        app = {"ID": app_id, "SOURCE": "s3://v2objects/marketapp-%d" % app_id,
               "MD5": hashlib.md5(data).hexdigest(), "SIZE": "3", "FORMAT": "raw"}
        target, run = self.export(app, market)
        self.assertEqual(run.status, 0, run.describe())
        with open(target, "rb") as f:
            self.assertEqual(f.read(), data)
        doc = kit.action_document("delete", market, kit.app_xml(app_id, 1, app["SOURCE"]))
        run = self.runner.run("delete", doc, app_id)
        self.assertEqual(run.status, 0, run.describe())
        self.assertFalse(self.strict.has_object("v2objects", "marketapp-%d" % app_id))

    def test_v2_round_trip(self):
        """V2 with no multipart: content over one part is one PUT of the file."""
        market = self.market(self.lax, BUCKET="v2market", SIGNATURE_VERSION="s3", READ_LENGTH="1")
        for size in (1000, 3 * MB + 1):
            data = os.urandom(size)
            app = self.assert_round_trip(data, market)
            with open(self.lax.object_path("v2market", "marketapp-%d" % app["ID"]), "rb") as f:
                self.assertEqual(f.read(), data)

    def test_url_source(self):
        """A source that is not a local file is held a part at a time in
        memory: multipart with v4, the spool and one PUT with v2."""
        for server, sig in ((self.strict, "v4"), (self.lax, "v2")):
            data = os.urandom(3 * MB + 777)
            app_id = self.new_id()
            self.write("web-%d" % app_id, data)
            market = self.market(server, BUCKET="web-" + sig, SIGNATURE_VERSION=sig, READ_LENGTH="1")
            run = self.runner.run("import", self.import_doc(self.web.url("web-%d" % app_id), app_id,
                                                            market), app_id)
            self.assertEqual(run.status, 0, run.describe())
            attrs = kit.parse_result(run.stdout)
            self.assertEqual(kit.result_get(attrs, "MD5"), hashlib.md5(data).hexdigest())
            with open(server.object_path("web-" + sig, "marketapp-%d" % app_id), "rb") as f:
                self.assertEqual(f.read(), data, sig)
            self.assertEqual(server.uploads("web-" + sig), [])

    def test_file_source_is_not_held_in_memory(self):
        """A local file is read back part by part: a two-part import with
        48 MB parts peaks at about the RSS of a 1 KB one, where a part
        buffer would add 48 MiB."""
        if WRAPPER or any(name in os.environ for name in SANITIZER_ENV):
            self.skipTest("RSS is the tool's own under valgrind or a sanitizer")
        peaks = {}
        for size in (1000, 50 * MB):
            data = os.urandom(size)
            app_id = self.new_id()
            src = self.write("big-%d" % app_id, data)
            runner = kit.Runner(S3_DIR, timeout=120, scratch=self.runner.scratch,
                                wrapper="%s -S %s %s" % (sys.executable, MAXRSS,
                                                      os.path.join(self.tmp, "rss-%d" % app_id)))
            run = runner.run("import", self.import_doc(src, app_id, self.market(READ_LENGTH="48")),
                             app_id)
            self.assertEqual(run.status, 0, run.describe())
            with open(os.path.join(self.tmp, "rss-%d" % app_id)) as f:
                peaks[size] = int(f.read()) * 1024
            os.unlink(src)
        self.assertEqual(self.strict.uploads("market"), [])
        self.assertLess(peaks[50 * MB] - peaks[1000], 16 * MB, peaks)

    def test_file_changed_during_import(self):
        """The source file is rewritten while its parts are sent: what was
        hashed is not what would be stored, so nothing is stored."""
        def rewrite(path):
            with open(path, "r+b") as f:
                f.write(b"changed")
        self.assert_change_refused(rewrite)

    def test_file_shrunk_during_import(self):
        """Cut short while its parts are sent: the part that can no longer
        be read says so, not a bare read error."""
        self.assert_change_refused(lambda path: os.truncate(path, MB // 2))

    def assert_change_refused(self, change):
        data = os.urandom(40 * MB)
        app_id = self.new_id()
        src = self.write("changing-%d" % app_id, data)
        proc, workdir = self.start_upload(src, app_id, parts=2)
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            # Still under way: the change lands before the end.
            self.assertEqual(len(self.uploads_of(app_id)), 1, "the upload ended too soon")
            change(src)
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=60 * SLOW)
        shutil.rmtree(workdir, ignore_errors=True)
        err = err.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("ERROR: %s changed while it was being imported" % src, err)
        self.assertNotIn("Input/output error", err)
        self.assertIn("aborted the multipart upload", err)
        self.assertEqual(out, b"")
        self.assertFalse(self.strict.has_object("market", "marketapp-%d" % app_id))
        self.assertEqual(self.strict.uploads("market"), [])

    def test_exact_multiple_of_parts_and_empty(self):
        for size in (2 * MB, 0):
            app = self.assert_round_trip(os.urandom(size), self.market(READ_LENGTH="1"))
            self.assertTrue(self.strict.has_object("market", "marketapp-%d" % app["ID"]))
        self.assertEqual(self.strict.uploads("market"), [])

    def test_too_large_is_refused_before_reading(self):
        """A (sparse) file that cannot be stored fails at once, not after
        hashing it: over 10000 parts with v4, over 5 GiB with v2."""
        for sig, size, message in (("v4", 10001 * MB, "larger than 10000 parts"),
                                   ("v2", (5 << 30) + 1, "larger than 5 GiB")):
            app_id = self.new_id()
            src = os.path.join(self.tmp, "sparse-%d" % app_id)
            with open(src, "wb") as f:
                f.truncate(size)
            market = self.market(self.lax if sig == "v2" else None, BUCKET="big-" + sig,
                                 SIGNATURE_VERSION=sig, READ_LENGTH="1")
            run = self.runner.run("import", self.import_doc(src, app_id, market), app_id)
            os.unlink(src)
            self.assertEqual(run.status, 2, run.describe())
            self.assertIn(message, run.stderr)
            self.assertNotIn("importing %s" % src, run.stderr, "it began to read the file")

    def test_missing_bucket_is_created(self):
        for server, sig in ((self.strict, "v4"), (self.lax, "v2")):
            bucket = "fresh-%s" % sig
            self.assertFalse(os.path.isdir(os.path.join(server.datadir, bucket)))
            market = self.market(server, BUCKET=bucket, SIGNATURE_VERSION=sig)
            _, run = self.run_import(b"hello", market)
            self.assertEqual(run.status, 0, run.describe())
            self.assertIn("creating the bucket s3://%s" % bucket, run.stderr)

    def test_refuses_to_overwrite(self):
        market = self.market()
        app = self.import_ok(b"first", market)
        _, run = self.run_import(b"second", market, app["ID"])
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("already exists", run.stderr)
        self.assertEqual(self.s3cmd_get(app["SOURCE"]), b"first")

    def test_import_md5_mismatch_leaves_nothing(self):
        app_id = self.new_id()
        src = self.write("md5bad", os.urandom(2 * MB + 5))
        doc = kit.action_document("import", self.market(READ_LENGTH="1"), kit.app_xml(app_id, 1),
                                  kit.elem("IMPORT_SOURCE", src) +
                                  kit.elem("MD5", "0123456789abcdef0123456789abcdef"))
        run = self.runner.run("import", doc, app_id)
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("checksum mismatch", run.stderr)
        self.assertFalse(self.strict.has_object("market", "marketapp-%d" % app_id))
        self.assertEqual(self.strict.uploads("market"), [])

    def test_export_detects_corruption(self):
        market = self.market(READ_LENGTH="1")
        data = os.urandom(2 * MB)
        app = self.import_ok(data, market)
        path = self.strict.object_path("market", "marketapp-%d" % app["ID"])
        with open(path, "r+b") as f:
            f.seek(MB)
            f.write(bytes(b ^ 0xff for b in data[MB:MB + 16]))
        target, run = self.export(app, market)
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("checksum mismatch", run.stderr)
        self.assertEqual(os.listdir(os.path.dirname(target)), [])

    def test_export_missing_object(self):
        app = {"ID": 999, "SOURCE": "s3://market/marketapp-999", "MD5": "", "SIZE": "1",
               "FORMAT": "raw"}
        target, run = self.export(app, self.market())
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("s3://market/marketapp-999: HTTP 404", run.stderr)

    # -- interrupted uploads ---------------------------------------------------

    def test_sigterm_mid_upload_aborts_it(self):
        """The source is a FIFO fed slowly: once parts are on the server,
        SIGTERM; the upload must be aborted and no object appear."""
        app_id = self.new_id()
        fifo = os.path.join(self.tmp, "fifo-%d" % app_id)
        os.mkfifo(fifo)
        stop = threading.Event()

        def feed():
            with open(fifo, "wb") as f:
                while not stop.is_set():
                    try:
                        f.write(os.urandom(256 * 1024))
                        f.flush()
                    except BrokenPipeError:
                        return
                    time.sleep(0.05)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            self.assert_sigterm_aborts(fifo, app_id)
        finally:
            stop.set()
            feeder.join(5)

    def test_sigterm_mid_upload_of_a_file(self):
        """The same with a file source, whose parts are sent by a thread
        while the next one is hashed: the part in flight ends before the
        abort."""
        app_id = self.new_id()
        self.assert_sigterm_aborts(self.write("term-%d" % app_id, os.urandom(48 * MB)), app_id)

    def assert_sigterm_aborts(self, source, app_id):
        proc, workdir = self.start_upload(source, app_id, parts=4)
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            self.assertEqual(len(self.uploads_of(app_id)), 1, "the upload ended too soon")
            os.killpg(proc.pid, signal.SIGTERM)
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=30 * SLOW)
        shutil.rmtree(workdir, ignore_errors=True)
        err = err.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("ERROR: terminated by signal %d" % signal.SIGTERM, err)
        self.assertIn("aborted the multipart upload", err)
        self.assertEqual(out, b"")
        self.assertFalse(self.strict.has_object("market", "marketapp-%d" % app_id))
        self.assertEqual(self.uploads_of(app_id), [])

    # -- credentials -----------------------------------------------------------

    def assert_denied(self, market, code):
        app_id, run = self.run_import(b"x" * 100, market)
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("access denied", run.stderr)
        self.assertIn(code, run.stderr)
        self.assertNotIn("wrong-secret", run.stderr + run.stdout)
        self.assertEqual(run.stdout, "")
        return run

    def test_unknown_key_id_v4(self):
        self.assert_denied(self.market(ACCESS_KEY_ID="NOBODY", SECRET_ACCESS_KEY="wrong-secret"),
                           "InvalidAccessKeyId")

    def test_wrong_secret_v2(self):
        self.assert_denied(self.market(SIGNATURE_VERSION="v2", SECRET_ACCESS_KEY="wrong-secret"),
                           "SignatureDoesNotMatch")

    def test_wrong_secret_v2_export(self):
        app = self.import_ok(b"secret content", self.market())
        target, run = self.export(app, self.market(SIGNATURE_VERSION="v2",
                                                   SECRET_ACCESS_KEY="wrong-secret"))
        self.assertEqual(run.status, 1, run.describe())
        self.assertIn("HTTP 403", run.stderr)
        self.assertNotIn("Signature=", run.stderr)
        self.assertNotIn("wrong-secret", run.stderr)

    # -- delete and monitor ----------------------------------------------------

    def test_delete(self):
        market = self.market()
        app = self.import_ok(b"to delete", market)
        doc = kit.action_document("delete", market, kit.app_xml(app["ID"], 1, app["SOURCE"]))
        run = self.runner.run("delete", doc, app["ID"])
        self.assertEqual(run.status, 0, run.describe())
        self.assertFalse(self.strict.has_object("market", "marketapp-%d" % app["ID"]))
        run = self.runner.run("delete", doc, app["ID"])
        self.assertEqual(run.status, 0, run.describe())
        self.assertIn("WARN: s3://market/marketapp-%d does not exist" % app["ID"], run.stderr)

    def test_delete_refuses_foreign_sources(self):
        keep = "other-1"
        self.strict.put_direct("market", keep, b"keep me")
        for source in ("s3://elsewhere/marketapp-1", "s3://market/other-1",
                       "s3://market/marketapp-", "http://market/marketapp-1",
                       "s3://market/marketapp-1/../other-1"):
            doc = kit.action_document("delete", self.market(), kit.app_xml(9, 1, source))
            run = self.runner.run("delete", doc, 9)
            self.assertEqual(run.status, 2, "%s: %s" % (source, run.describe()))
        self.assertTrue(self.strict.has_object("market", keep))

    def test_monitor_more_than_1000_objects(self):
        """1100 objects of 10 KiB under the prefix (11 MB rounded up; the
        first page alone would give 10) and others outside it."""
        for server, sig in ((self.strict, "v4"), (self.lax, "v2")):
            for i in range(1100):
                server.put_direct("many", "marketapp-%d" % i, b"\0" * 10240)
            for i in range(5):
                server.put_direct("many", "zz-other-%d" % i, b"\0" * MB)
            figures = self.monitor(self.market(server, BUCKET="many", SIGNATURE_VERSION=sig,
                                               TOTAL_MB="100"))
            self.assertEqual(figures, {"USED_MB": 11, "FREE_MB": 89, "TOTAL_MB": 100}, sig)

    def test_monitor_default_total(self):
        figures = self.monitor(self.market(BUCKET="empty-bucket-never-created"))
        self.assertEqual(figures, {"USED_MB": 0, "FREE_MB": 1048576, "TOTAL_MB": 1048576})

    # -- bad input -------------------------------------------------------------

    def test_bad_attributes(self):
        cases = [({"SECRET_ACCESS_KEY": None}, "no SECRET_ACCESS_KEY attribute"),
                 ({"SIGNATURE_VERSION": "v3"}, "SIGNATURE_VERSION"),
                 ({"READ_LENGTH": "0"}, "READ_LENGTH"),
                 ({"READ_LENGTH": "lots"}, "READ_LENGTH"),
                 ({"ENDPOINT": None, "AWS": "NO"}, "ENDPOINT is required"),
                 ({"ENDPOINT": "ftp://x"}, "ENDPOINT"),
                 ({"APP_PREFIX": "../x"}, "APP_PREFIX"),
                 ({"BUCKET": "a/b"}, "BUCKET")]
        for override, message in cases:
            app_id, run = self.run_import(b"x", self.market(**override))
            self.assertEqual(run.status, 2, "%s: %s" % (override, run.describe()))
            self.assertIn(message, run.stderr)
            self.assertNotIn(s3rver.SECRET, run.stderr.replace("S3RVER", ""))


if __name__ == "__main__":
    unittest.main()
