"""Tests of the one market driver (the OpenNebula public marketplace).

Serves catalogs made by test/drivers/catalog.py with a private nginx on
127.0.0.1 and runs the built driver ($MKT_BUILDDIR/drivers/one) the way
marketd does (through the conformance kit's Runner):
  - monitor: every attribute of every app type, decoded and checked; the
    skipped appliances named in WARN: lines; ENDPOINT with and without a
    trailing slash; the User-Agent the server saw; redirects; http_proxy
    and no_proxy honoured (a counting proxy on loopback); HTTP errors,
    non-JSON, an HTML page and a wrong shape failing with one ERROR: line;
    a catalog broken at its end failing after its first APP lines went out;
    byte-identical output for an unchanged catalog; 10 000 appliances
    (the time is printed, not asserted);
  - import and delete refused; export of image apps (plain, gzip, corrupt);
  - the conformance kit in its --read-only mode.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. python3 test/drivers/test_one_driver.py -v
Environment knobs:
    MKT_BUILDDIR, MKT_SRCDIR   build and source trees (set by make check)
    MKT_TEST_WRAPPER=valgrind  run the driver under valgrind
    MKT_TEST_KEEP=1            keep the temporary directory
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import catalog  # noqa: E402
import driverkit  # noqa: E402
from proxy import CountingProxy  # noqa: E402
import test_http_driver as base  # noqa: E402  (valgrind and sanitizer settings)

kit = base.kit
SRCDIR = base.SRCDIR
BUILDDIR = base.BUILDDIR
ONE_DIR = os.path.join(BUILDDIR, "drivers", "one")
SLOW = base.SLOW
MB = 1 << 20
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "ALL_PROXY", "all_proxy")
IDS = catalog.FIXED_IDS


def package_version():
    with open(os.path.join(BUILDDIR, "config.h")) as f:
        return re.search(r'#define PACKAGE_VERSION "([^"]*)"', f.read()).group(1)


def decode_template(b64):
    """An APP value or an ...64 attribute: base64 of template text ->
    list of (name, value) as the kit parses it."""
    return kit.parse_template_text(base64.b64decode(b64, validate=True).decode("utf-8"))


def single(attrs):
    """The single-valued attributes as a dict (names are unique there)."""
    return {k: v for k, v in attrs if isinstance(v, str)}


@contextmanager
def environment(**values):
    """Set (or, with None, unset) variables of os.environ, which the
    kit's Runner passes on to the driver as marketd does."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class OneDriverTest(unittest.TestCase):

    wrapper = base.VALGRIND if base.WRAPPER == "valgrind" else None

    @classmethod
    def setUpClass(cls):
        if not os.access(os.path.join(ONE_DIR, "monitor"), os.X_OK):
            raise RuntimeError("%s/monitor is missing: build first (make)" % ONE_DIR)
        # The servers are on loopback: no proxy of the caller's may intervene.
        cls.saved_env = {k: os.environ.pop(k) for k in PROXY_VARS if k in os.environ}
        cls.tmp = tempfile.mkdtemp(prefix="mkt-one-test-")
        cls.root = os.path.join(cls.tmp, "www")
        cls.catalog = catalog.make()
        # Bad catalogs, each a file named "appliance" under its own prefix.
        bad = {"nonjson": b"this is not JSON\n",
               "html": b"<!DOCTYPE html>\n<html><body>Maintenance</body></html>\n",
               "shape": b'{"apps": []}',
               "list": b"[1, 2, 3]",
               "empty": b'{"appliances": []}'}
        for prefix, body in bad.items():
            os.makedirs(os.path.join(cls.root, prefix))
            with open(os.path.join(cls.root, prefix, "appliance"), "wb") as f:
                f.write(body)
        big_dir = os.path.join(cls.root, "big")
        cls.big_n = 10000
        catalog.write(big_dir, catalog.make(cls.big_n, with_fixed=False))
        # The big catalog with one byte too many at its end: found broken
        # after megabytes of APP lines.
        os.makedirs(os.path.join(cls.root, "late"))
        with open(os.path.join(big_dir, "appliance.json"), "rb") as f, \
                open(os.path.join(cls.root, "late", "appliance"), "wb") as g:
            g.write(f.read() + b"]")
        extra = "\n".join([
            catalog.nginx_location(big_dir, "/big/"),
            "location /err500/ { return 500; }",
            "location = /moved/appliance { return 302 /appliance; }",
        ])
        cls.nginx, cls.endpoint = catalog.serve(cls.root, cls.catalog, extra=extra)
        cls.runner = kit.Runner(ONE_DIR, timeout=120 * SLOW, wrapper=cls.wrapper,
                                pass_env=base.SANITIZER_ENV,
                                scratch=os.path.join(cls.tmp, "scratch"))
        os.makedirs(cls.runner.scratch)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        os.environ.update(cls.saved_env)
        if os.environ.get("MKT_TEST_KEEP"):
            print("kept %s" % cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------

    def market(self, endpoint=None):
        attrs = [] if endpoint is None else [("ENDPOINT", endpoint)]
        return kit.market_xml(0, "one", attrs)

    def monitor(self, endpoint=None, ok=True):
        run = self.runner.run("monitor", kit.action_document("monitor", self.market(endpoint)), 0)
        if ok:
            self.assertEqual(run.status, 0, run.describe())
        return run

    def apps(self, run):
        """The APP lines of a monitor run, decoded, in order."""
        attrs = kit.parse_result(run.stdout)
        self.assertEqual([k for k, _ in attrs if k != "APP"], ["CATALOG_DIGEST"],
                         "monitor prints its catalog's digest and APP lines only")
        return [decode_template(v) for k, v in attrs if k == "APP"]

    def fixed_apps(self):
        run = self.monitor(self.endpoint)
        apps = self.apps(run)
        return run, {single(a)["IMPORT_ID"]: a for a in apps}, apps

    def assert_fails(self, run, status, *needles):
        self.assertEqual(run.status, status, run.describe())
        self.assertEqual(run.stdout, "", "nothing on stdout when failing")
        self.assertTrue(run.errors, run.describe())
        for needle in needles:
            self.assertIn(needle, " ".join(run.errors))

    # -- monitor: the apps -------------------------------------------------------

    def test_monitor_image_app(self):
        _, by_id, _ = self.fixed_apps()
        app = by_id[IDS["image"]]
        url = self.endpoint + "appliance/" + IDS["image"]
        data = catalog.content(self.catalog, IDS["image"])
        self.assertEqual([k for k, _ in app], [
            "NAME", "IMPORT_ID", "ORIGIN_ID", "TYPE", "PUBLISHER", "FORMAT", "DESCRIPTION",
            "VERSION", "TAGS", "REGTIME", "LINK", "SOURCE", "ARCHITECTURE", "HYPERVISOR",
            "SIZE", "MD5", "APPTEMPLATE64", "VMTEMPLATE64"])
        a = single(app)
        self.assertEqual(a["NAME"], "Alpine Linux 3.20")
        self.assertEqual(a["ORIGIN_ID"], "-1")
        self.assertEqual(a["TYPE"], "IMAGE")
        self.assertEqual(a["PUBLISHER"], "OpenNebula Systems")
        self.assertEqual(a["FORMAT"], "qcow2")
        self.assertEqual(a["DESCRIPTION"], catalog.DESCRIPTION,
                         "quotes, backslashes, newline and UTF-8 survive")
        self.assertEqual(a["VERSION"], "3.20.1-20240601")
        self.assertEqual(a["TAGS"], "alpine, linux")
        self.assertEqual(a["REGTIME"], "1717200000")
        self.assertEqual(a["LINK"], url)
        self.assertEqual(a["SOURCE"], url + "/download/0")
        self.assertEqual(a["ARCHITECTURE"], "x86_64", "amd64 -> x86_64")
        self.assertEqual(a["HYPERVISOR"], "kvm", "KVM -> kvm")
        self.assertEqual(a["SIZE"], "2", "1 MiB + 5 bytes, given as a string, rounds up")
        self.assertEqual(a["MD5"], hashlib.md5(data).hexdigest())
        self.assertEqual(decode_template(a["APPTEMPLATE64"]),
                         [("DEV_PREFIX", "vd"), ("TYPE", "OS")])
        vm = decode_template(a["VMTEMPLATE64"])
        self.assertEqual(vm, [
            ("CONTEXT", [("NETWORK", "YES"), ("SSH_PUBLIC_KEY", "$USER[SSH_PUBLIC_KEY]"),
                         ("START_SCRIPT", 'echo "hi" \\ there')]),
            ("CPU", "1"),
            ("MEMORY", "768"),
            ("VCPU", "2.5"),
            ("GRAPHICS", [("LISTEN", "0.0.0.0"), ("TYPE", "vnc")]),
            ("NIC", [("NETWORK", "public")]),
            ("NIC", [("NETWORK", "private"), ("MODEL", "virtio")]),
            ("LOGO", "images/logos/alpine.png"),
            ("INPUTS_ORDER", "YES"),
            ("SCHED_REQUIREMENTS", "(FREE_CPU > 50) & HYPERVISOR=kvm & ARCH=x86_64"),
            ("HYPERVISOR", "kvm"),
        ])

    def test_monitor_arm_image_defaults(self):
        _, by_id, _ = self.fixed_apps()
        a = single(by_id[IDS["arm"]])
        self.assertEqual(a["TYPE"], "IMAGE", "no type field: IMAGE")
        self.assertEqual(a["ARCHITECTURE"], "aarch64", "arm64 -> aarch64")
        self.assertEqual(a["HYPERVISOR"], "kvm", "ALL -> kvm")
        self.assertEqual(a["SIZE"], "2", "size as a number")
        self.assertEqual(a["VERSION"], "2404")
        self.assertEqual(a["TAGS"], "ubuntu, 24.04, 7")
        self.assertEqual(a["REGTIME"], "1717300000")
        self.assertEqual(decode_template(a["APPTEMPLATE64"]), [("DEV_PREFIX", "sd")])
        vm = decode_template(a["VMTEMPLATE64"])
        self.assertEqual(vm, [
            ("CPU", "2"), ("MEMORY", "1024"),
            ("OS", [("ARCH", "aarch64"), ("BOOT", "disk0")]),
            ("SCHED_REQUIREMENTS", "HYPERVISOR=kvm & ARCH=aarch64"),
            ("HYPERVISOR", "kvm"),
        ])

    def test_monitor_bare_and_bad_template_images(self):
        run, by_id, _ = self.fixed_apps()
        bare = by_id[IDS["bare"]]
        self.assertEqual(single(bare), {
            "NAME": "bare", "IMPORT_ID": IDS["bare"], "ORIGIN_ID": "-1", "TYPE": "IMAGE",
            "LINK": self.endpoint + "appliance/" + IDS["bare"],
            "SOURCE": self.endpoint + "appliance/" + IDS["bare"] + "/download/0",
            "ARCHITECTURE": "all", "HYPERVISOR": "kvm", "SIZE": "0"})
        bad = single(by_id[IDS["badtpl"]])
        self.assertNotIn("VMTEMPLATE64", bad, "an unparsable VM template is left out")
        self.assertTrue(any(IDS["badtpl"] in w and "opennebula_template" in w
                            for w in run.lines("WARN")), run.stderr)

    def test_monitor_vmtemplate_app(self):
        _, by_id, _ = self.fixed_apps()
        app = by_id[IDS["vmtemplate"]]
        a = single(app)
        self.assertEqual(a["TYPE"], "VMTEMPLATE")
        self.assertEqual(a["SIZE"], "0")
        self.assertNotIn("TAGS", a, "an empty tag list gives no TAGS")
        self.assertNotIn("MD5", a)
        self.assertNotIn("VMTEMPLATE64", a)
        self.assertEqual(a["ARCHITECTURE"], "x86_64")
        disks = [v for k, v in app if k == "DISK"]
        self.assertEqual(disks, [[("NAME", "0"), ("APP", "Alpine Linux 3.20")],
                                 [("NAME", "1"), ("APP", "Ubuntu 24.04 arm")]])
        self.assertEqual(decode_template(a["APPTEMPLATE64"]), [
            ("CPU", "1"), ("MEMORY", "2048"), ("DISK_COST", "0.1"),
            ("USER_INPUTS", [("PASSWORD", "M|password|Admin password")])])

    def test_monitor_service_template_app(self):
        _, by_id, _ = self.fixed_apps()
        app = by_id[IDS["service"]]
        a = single(app)
        self.assertEqual(a["TYPE"], "SERVICE_TEMPLATE")
        self.assertEqual(a["SIZE"], "0")
        roles = [v for k, v in app if k == "ROLE"]
        self.assertEqual(roles, [[("NAME", "master"), ("APP", "WordPress VM")],
                                 [("NAME", "worker"), ("APP", "WordPress VM")]])
        raw = [x for x in self.catalog["appliances"]
               if x.get("_id", {}).get("$oid") == IDS["service"]][0]["opennebula_template"]
        self.assertEqual(base64.b64decode(a["APPTEMPLATE64"]).decode(), raw,
                         "the service template document, as the catalog has it")

    def test_monitor_skips_malformed_appliances(self):
        run, by_id, apps = self.fixed_apps()
        expected = [a["_id"]["$oid"] for a in self.catalog["appliances"]
                    if "_id" in a and a["_id"]["$oid"] not in (IDS["unknown"], IDS["badfiles"])]
        self.assertEqual([single(a)["IMPORT_ID"] for a in apps], expected,
                         "every good appliance, in catalog order")
        warns = run.lines("WARN")
        skipped = [w for w in warns if "skipped" in w]
        self.assertEqual(len(skipped), 3, run.stderr)
        self.assertTrue(any(IDS["unknown"] in w and "DOCKER" in w for w in skipped), warns)
        self.assertTrue(any(IDS["badfiles"] in w and "files" in w for w in skipped), warns)
        self.assertTrue(any("_id" in w for w in skipped), warns)

    def test_monitor_output_is_deterministic(self):
        first = self.monitor(self.endpoint).stdout
        second = self.monitor(self.endpoint).stdout
        self.assertTrue(first == second, "an unchanged catalog gives identical APP lines")

    # -- monitor: the request ----------------------------------------------------

    def access_log(self):
        with open(os.path.join(self.nginx.workdir, "access.log")) as f:
            return f.read()

    def test_endpoint_slashes(self):
        reference = self.monitor(self.endpoint).stdout
        bare = self.endpoint.rstrip("/")
        for endpoint in (bare, bare + "//", "  %s  " % self.endpoint):
            before = len(self.access_log())
            out = self.monitor(endpoint).stdout
            self.assertTrue(out == reference, "ENDPOINT %r gives other URLs" % endpoint)
            requests = re.findall(r'"GET (\S+) HTTP', self.access_log()[before:])
            self.assertEqual(requests, ["/appliance"], endpoint)

    def test_user_agent(self):
        before = len(self.access_log())
        self.monitor(self.endpoint)
        line = self.access_log()[before:].strip().splitlines()[-1]
        # nginx's default "combined" log format ends with the User-Agent.
        self.assertTrue(line.endswith('"marketd/%s (Market Driver)"' % package_version()), line)

    def test_redirect_followed(self):
        reference = self.monitor(self.endpoint).stdout
        moved = self.monitor(self.endpoint + "moved/")
        # Same apps, but LINK/SOURCE are built on the ENDPOINT given.
        self.assertEqual(moved.stdout.count("APP="), reference.count("APP="))

    def test_http_proxy_and_no_proxy(self):
        proxy = CountingProxy()
        try:
            reference = self.monitor(self.endpoint).stdout
            with environment(http_proxy=proxy.url(), no_proxy=None, NO_PROXY=None):
                run = self.monitor(self.endpoint)
            self.assertEqual(proxy.requests, [self.endpoint + "appliance"])
            self.assertTrue(run.stdout == reference, "same catalog through the proxy")
            with environment(http_proxy=proxy.url(), no_proxy="127.0.0.1"):
                self.monitor(self.endpoint)
            self.assertEqual(len(proxy.requests), 1, "no_proxy bypasses the proxy")
            with environment(http_proxy="http://127.0.0.1:%d" % base.free_port(),
                             no_proxy=None, NO_PROXY=None):
                run = self.monitor(self.endpoint, ok=False)
            self.assert_fails(run, 1, self.endpoint + "appliance")
        finally:
            proxy.stop()

    # -- monitor: failures ---------------------------------------------------------

    def test_http_errors_fail(self):
        cases = [("err500/", "HTTP 500"), ("missing/", "HTTP 404"),
                 ("nonjson/", "is not JSON"), ("html/", "an HTML or XML page"),
                 ("shape/", "not a marketplace catalog"), ("list/", "not a marketplace catalog")]
        for prefix, needle in cases:
            run = self.monitor(self.endpoint + prefix, ok=False)
            self.assert_fails(run, 1, self.endpoint + prefix + "appliance", needle)
            self.assertEqual(len(run.errors), 1, run.stderr)

    def test_late_failure_after_flushed_apps(self):
        # The driver writes its APP lines as it goes; a catalog found broken
        # at its end still fails (exit 1, the whole-document parser's
        # message), with the lines written so far on stdout: marketd goes
        # by the exit status.
        run = self.monitor(self.endpoint + "late/", ok=False)
        self.assertEqual(run.status, 1, run.describe())
        self.assertEqual(len(run.errors), 1, run.stderr)
        self.assertRegex(run.errors[0], r"late/appliance is not JSON: end of file expected "
                         r"near '\]' at line 1, column \d+$")
        partial = [v for k, v in kit.parse_result(run.stdout) if k == "APP"]
        self.assertGreater(len(partial), 0, "lines written before the end")
        self.assertLess(len(partial), self.big_n, "the last ones dropped")
        ids = [single(decode_template(v))["IMPORT_ID"] for v in partial]
        self.assertTrue(ids == ["5%023x" % i for i in range(len(ids))],
                        "the catalog's first appliances, in order")

    def test_unreachable_server_fails(self):
        run = self.monitor("http://127.0.0.1:%d/" % base.free_port(), ok=False)
        self.assert_fails(run, 1, "cannot read")

    def test_bad_endpoint(self):
        run = self.monitor("ftp://example.com/", ok=False)
        self.assert_fails(run, 2, "ENDPOINT")

    def test_empty_catalog(self):
        run = self.monitor(self.endpoint + "empty/")
        self.assertEqual([k for k, _ in kit.parse_result(run.stdout)], ["CATALOG_DIGEST"],
                         "no apps, and no capacity figures")

    def test_catalog_digest(self):
        def sending(digest, endpoint=self.endpoint):
            run = self.runner.run("monitor", kit.action_document(
                "monitor", self.market(endpoint),
                extra="<CATALOG_DIGEST>%s</CATALOG_DIGEST>" % digest), 0)
            self.assertEqual(run.status, 0, run.describe())
            return kit.parse_result(run.stdout)

        first = kit.parse_result(self.monitor(self.endpoint).stdout)
        digest = dict(first)["CATALOG_DIGEST"]
        self.assertEqual(sending(digest), [("CATALOG_UNCHANGED", digest)])
        # The same body behind another endpoint maps to other SOURCE URLs.
        moved = sending(digest, self.endpoint + "moved/")
        self.assertNotEqual(dict(moved)["CATALOG_DIGEST"], digest)
        self.assertEqual(len(moved), len(first))

    def test_10000_appliances(self):
        started = time.monotonic()
        run = self.monitor(self.endpoint + "big/")
        elapsed = time.monotonic() - started
        apps = [a for a in kit.parse_result(run.stdout) if a[0] == "APP"]
        print("\nnote: monitor of %d appliances: %.3f s for the whole run "
              "(HTTP, JSON, %d bytes of APP lines)" % (self.big_n, elapsed, len(run.stdout)),
              file=sys.stderr)
        self.assertEqual(len(apps), self.big_n)
        for i in (0, 9, 49, self.big_n - 1):
            a = single(decode_template(apps[i][1]))
            self.assertEqual(a["NAME"], "synthetic-%05d" % i)
            self.assertEqual(a["IMPORT_ID"], "5%023x" % i)
        self.assertEqual(single(decode_template(apps[9][1]))["TYPE"], "VMTEMPLATE")
        self.assertEqual(single(decode_template(apps[49][1]))["TYPE"], "SERVICE_TEMPLATE")
        self.assertEqual(single(decode_template(apps[0][1]))["SIZE"], "2048", "exactly 2 GiB")
        self.assertEqual(single(decode_template(apps[1][1]))["SIZE"], "2049", "2 GiB + 1 byte")

    # -- import, delete, export -----------------------------------------------------

    def test_import_and_delete_refused(self):
        for action in ("import", "delete"):
            doc = kit.action_document(action, self.market(self.endpoint),
                                      kit.app_xml(42, 0, "x"),
                                      kit.elem("IMPORT_SOURCE", "/etc/hostname")
                                      if action == "import" else "")
            run = self.runner.run(action, doc, 42)
            self.assert_fails(run, 3, "the one marketplace is read-only: cannot %s app 42"
                              % action)

    def export(self, key, md5=None, source=None):
        _, by_id, _ = self.fixed_apps()
        a = single(by_id[IDS[key]])
        outdir = tempfile.mkdtemp(prefix="export-", dir=self.tmp)
        target = os.path.join(outdir, "image")
        doc = kit.action_document(
            "export", self.market(self.endpoint),
            kit.app_xml(7, 0, source or a["SOURCE"], a.get("MD5", "") if md5 is None else md5,
                        a["SIZE"], a.get("FORMAT", "")),
            kit.image_xml(5, 1) + kit.datastore_xml(1) + kit.elem("EXPORT_TARGET", target))
        return self.runner.run("export", doc, 7), outdir, target

    def test_export_image(self):
        run, outdir, target = self.export("image")
        self.assertEqual(run.status, 0, run.describe())
        data = catalog.content(self.catalog, IDS["image"])
        with open(target, "rb") as f:
            self.assertTrue(f.read() == data, "the exported file is the download")
        attrs = kit.parse_result(run.stdout)
        self.assertEqual(kit.result_get(attrs, "MD5"), hashlib.md5(data).hexdigest())
        self.assertEqual(kit.result_get(attrs, "SIZE"), "2")
        self.assertEqual(os.listdir(outdir), ["image"])

    def test_export_gzip_image_unpacked(self):
        run, _, target = self.export("gzip")
        self.assertEqual(run.status, 0, run.describe())
        plain = [a for a in self.catalog["appliances"]
                 if a.get("_id", {}).get("$oid") == IDS["gzip"]][0]["_plain"]
        with open(target, "rb") as f:
            self.assertTrue(f.read() == plain, "unpacked")
        self.assertEqual(kit.result_get(kit.parse_result(run.stdout), "MD5"),
                         hashlib.md5(plain).hexdigest())

    def test_export_corrupt_image(self):
        run, outdir, target = self.export("corrupt")
        self.assert_fails(run, 1, "checksum mismatch")
        self.assertEqual(os.listdir(outdir), [], "no file, no temporary file")

    def test_export_refuses_local_source(self):
        run, outdir, _ = self.export("image", source="/etc/passwd")
        self.assert_fails(run, 2, "SOURCE")
        self.assertEqual(os.listdir(outdir), [])

    # -- the conformance kit ---------------------------------------------------------

    def test_conformance_kit(self):
        tpl = os.path.join(self.tmp, "one-market.tpl")
        with open(tpl, "w") as f:
            f.write('ENDPOINT = "%s"\n' % self.endpoint)
        cmd = [sys.executable, driverkit.PATH, "--read-only", "--market-template", tpl,
               "--actions", "import,delete,monitor", "--timeout", str(120 * SLOW)]
        if self.wrapper:
            cmd += ["--wrapper", self.wrapper]
        for name in base.SANITIZER_ENV:
            cmd += ["--pass-env", name]
        # The "empty market template" case falls back to the public
        # marketplace: a dead proxy keeps it off the network, and fast.
        dead = "http://127.0.0.1:%d" % base.free_port()
        with environment(https_proxy=dead, http_proxy=dead, no_proxy="127.0.0.1"):
            res = subprocess.run(cmd + [ONE_DIR], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"\n\d+ passed, 0 failed\n?$")
        self.assertIn("import (read-only driver): fails", res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
