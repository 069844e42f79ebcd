#!/usr/bin/env python3
"""marketctl's content commands against a real marketd and the real http
market driver: datastores and images, `app create --image/--path`,
`app export`, `app download`, --wait and its progress display, Ctrl-C.

marketd runs with DRIVER_DIR = $MKT_BUILDDIR/drivers, so the http driver of
the build (drivers/http/{import,export,delete,monitor}) uploads and exports
the apps; a missing driver is an error, never a skip.  A web server started
here on 127.0.0.1 publishes a directory: the market's PUBLIC_DIR at its
BASE_URL, and files for images made from URLs.  It can slow chosen paths
down, so that transfers last long enough to be watched and interrupted.
Effects are checked through the API (xmlrpc.client) and on disk."""

import sys
sys.dont_write_bytecode = True

import hashlib
import http.server
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import harness
from harness import q, tmpl, xint, xtext

DRIVER_ACTIONS = ("import", "export", "delete", "monitor")
DRIVERS = tuple("drivers/http/%s" % a for a in DRIVER_ACTIONS)
TIMEOUT = 60 * harness.SLOW          # a marketctl run that moves content
MIB = 1 << 20
ID_RE = re.compile(r"^ID: (\d+)$", re.M)
IMAGE_ID_RE = re.compile(r"^IMAGE ID: (\d+)$", re.M)
# Non-terminal progress lines: "42% 512/1224 MiB".
LINE_RE = re.compile(r"^(\d{1,3})% (\d+)/(\d+) (MiB|KiB|B)$")

D = None        # the daemon
WEB = None      # the web server
WWW = None      # its document root
MID = None      # the http market
PUBLIC = None   # the market's PUBLIC_DIR (WWW/market)


# -- the web server ------------------------------------------------------------

class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files under WWW; paths in `slow` are sent at that many
    bytes per second."""

    slow = {}

    def __init__(self, *args, **kw):
        super().__init__(*args, directory=WWW, **kw)

    def log_message(self, fmt, *args):
        pass

    def copyfile(self, source, outputfile):
        rate = self.slow.get(self.path)
        try:
            if not rate:
                shutil.copyfileobj(source, outputfile, 1 << 20)
                return
            chunk = max(4096, rate // 20)
            while True:
                data = source.read(chunk)
                if not data:
                    break
                outputfile.write(data)
                time.sleep(len(data) / rate)
        except (BrokenPipeError, ConnectionResetError):
            pass     # the client stopped reading (Ctrl-C)


class WebServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def setUpModule():
    global D, WEB, WWW, MID, PUBLIC
    harness.marketctl_path()
    for prog in DRIVERS:
        harness.find_program(prog)
    drivers = os.path.abspath(os.path.join(harness.BUILDDIR, "drivers"))
    D = harness.Daemon(name="cli-transfer", driver_dir=drivers)
    WWW = os.path.join(D.dir, "www")
    PUBLIC = os.path.join(WWW, "market")
    os.makedirs(PUBLIC)
    os.makedirs(os.path.join(WWW, "files"))
    WEB = WebServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=WEB.serve_forever, daemon=True).start()
    D.start()
    MID = D.ok("one.market.allocate", tmpl(
        ("NAME", "cli-transfer"), ("MARKET_MAD", "http"),
        ("BASE_URL", web_url("market")), ("PUBLIC_DIR", PUBLIC)))


def tearDownModule():
    try:
        harness.stop_module_daemon(D)
    finally:
        if WEB is not None:
            WEB.shutdown()
            WEB.server_close()


def web_url(path=""):
    return "http://127.0.0.1:%d/%s" % (WEB.server_address[1], path.lstrip("/"))


# -- helpers -------------------------------------------------------------------

def cli_env():
    env = dict(os.environ)
    env["ONE_XMLRPC"] = D.url
    env["ONE_AUTH"] = D.auth_path
    env["HOME"] = D.dir
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY"):
        env.pop(k, None)
    return env


def cli_cmd(args):
    return [harness.marketctl_path()] + [str(a) for a in args]


def write_bytes(name, data):
    path = os.path.join(D.dir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_text(name, text):
    path = os.path.join(D.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def sparse_file(name, size):
    path = os.path.join(D.dir, name)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def progress_lines(stderr):
    return [m for m in (LINE_RE.match(l.strip()) for l in stderr.splitlines()) if m]


def leftovers(path):
    """Temporary files of an atomic write of `path` (<path>.part.XXXXXX)."""
    d, base = os.path.split(path)
    return [n for n in os.listdir(d or ".") if n.startswith(base + ".part")]


class TransferTestCase(harness.TestCase):

    def run_cli(self, *args, rc=0, timeout=TIMEOUT, cwd=None):
        try:
            p = subprocess.run(cli_cmd(args), env=cli_env(), cwd=cwd, capture_output=True,
                               text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail("marketctl %s hung for %ss" % (" ".join(map(str, args)), e.timeout))
        self.assertEqual(p.returncode, rc, "marketctl %s: expected exit %d, got %d\n"
                         "stdout: %s\nstderr: %s" % (" ".join(map(str, args)), rc,
                                                     p.returncode, p.stdout, p.stderr))
        return p

    def created(self, p, regex=ID_RE):
        """The id a command printed (`p` a CompletedProcess or its stdout)."""
        out = p if isinstance(p, str) else p.stdout
        m = regex.search(out)
        self.assertIsNotNone(m, "no %r line in %r" % (regex.pattern, out))
        return int(m.group(1))

    def image_from(self, path, name, ds=1):
        """An image made with `image create --path --wait`; its id."""
        p = self.run_cli("image", "create", "--datastore", ds, "--path", path,
                         "--name", name, "--wait")
        return self.created(p)

    def app_from_image(self, image_id, name):
        p = self.run_cli("app", "create", "--market", MID, "--image", image_id,
                         "--name", name, "--wait")
        return self.created(p)

    def public_file(self, app_id):
        """The file in PUBLIC_DIR behind an app's SOURCE, and the SOURCE."""
        source = xtext(D.info("marketapp", app_id), "SOURCE")
        self.assertTrue(source.startswith(web_url("market/")), source)
        return os.path.join(PUBLIC, source.rsplit("/", 1)[1]), source

    def wait_state(self, kind, oid, state, timeout=30):
        return self.wait_for(lambda: xint(D.info(kind, oid), "STATE") == state,
                             timeout=timeout, what="%s %d in state %d" % (kind, oid, state))

    def read_until(self, stream, regex, timeout=20):
        """Lines of a text pipe until one matches (fails on EOF/timeout)."""
        deadline = time.monotonic() + timeout * harness.SLOW
        seen = []
        while time.monotonic() < deadline:
            r, _, _ = select.select([stream], [], [], 0.2)
            if not r:
                continue
            line = stream.readline()
            if not line:
                break
            seen.append(line)
            if re.search(regex, line):
                return line
        self.fail("no line matching %r in %r" % (regex, seen))


# -- datastores ------------------------------------------------------------------

class Datastores(TransferTestCase):

    def test_default_datastore_listed(self):
        p = self.run_cli("datastore", "list")
        header = p.stdout.splitlines()[0].split()
        self.assertEqual(header, ["ID", "USER", "GROUP", "NAME", "SIZE", "AVAIL", "IMAGES",
                                  "TYPE", "DS", "TM", "STAT"])
        self.assertRegex(p.stdout, r"(?m)^\s*1 \S+\s+\S+\s+default\s.*\bimg\b.*\bon$")

    def test_create_show_rename_chmod_delete(self):
        f = write_text("ds.tmpl", tmpl(NAME="cli-ds"))
        dsid = self.created(self.run_cli("datastore", "create", f))
        ds = D.info("datastore", dsid)
        self.assertEqual(xtext(ds, "NAME"), "cli-ds")

        p = self.run_cli("datastore", "show", "cli-ds")
        self.assertIn("DATASTORE %d INFORMATION" % dsid, p.stdout)
        self.assertIn("BASE PATH      : %s" % xtext(ds, "BASE_PATH"), p.stdout)
        self.assertIn("DATASTORE CAPACITY", p.stdout)

        self.run_cli("datastore", "rename", dsid, "cli-ds-renamed")
        self.assertEqual(xtext(D.info("datastore", dsid), "NAME"), "cli-ds-renamed")
        self.run_cli("datastore", "chmod", "cli-ds-renamed", "640")
        self.assertEqual(harness.perms(D.info("datastore", dsid)), harness.octal_perms("640"))

        p = self.run_cli("datastore", "list", "--xml")
        self.assertIn(dsid, harness.pool_ids(p.stdout, "DATASTORE_POOL", "DATASTORE"))

        self.run_cli("datastore", "delete", dsid)
        r = D.rpc("one.datastore.info", dsid)
        self.assertIs(r[0], False, "datastore still there: %r" % (r,))

    def test_image_count_column(self):
        f = write_text("ds-count.tmpl", tmpl(NAME="cli-ds-count"))
        dsid = self.created(self.run_cli("datastore", "create", f))
        src = write_bytes("count.raw", os.urandom(4096))
        self.image_from(src, "cli-count-img", ds=dsid)
        p = self.run_cli("datastore", "list")
        row = [l.split() for l in p.stdout.splitlines()[1:] if l.split()[0] == str(dsid)]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(row[0][6], "1", p.stdout)


# -- images --------------------------------------------------------------------------

class Images(TransferTestCase):

    def test_create_path_wait(self):
        data = os.urandom(5 * MIB)
        write_bytes("img5.raw", data)
        # A relative --path is made absolute against the working directory.
        p = self.run_cli("image", "create", "--datastore", "default", "--path", "img5.raw",
                         "--wait", cwd=D.dir)
        iid = self.created(p)
        self.assertIn("100% 5/5 MiB", p.stderr.splitlines(), p.stderr)
        im = D.info("image", iid)
        self.assertEqual(xint(im, "STATE"), 1)
        self.assertEqual(xint(im, "SIZE"), 5)
        self.assertEqual(xtext(im, "NAME"), "img5.raw")
        self.assertEqual(xtext(im, "PATH"), os.path.join(D.dir, "img5.raw"))
        self.assertEqual(xint(im, "TYPE"), 0)        # OS, the default
        self.assertEqual(xint(im, "DATASTORE_ID"), 1)
        self.assertEqual(read_bytes(xtext(im, "SOURCE")), data)

        p = self.run_cli("image", "list")
        self.assertEqual(p.stdout.splitlines()[0].split(),
                         ["ID", "USER", "GROUP", "NAME", "DATASTORE", "SIZE", "TYPE", "STAT"])
        self.assertRegex(p.stdout, r"(?m)^\s*%d \S+\s+\S+\s+img5\.raw\s+default\s+5M OS\s+rdy$"
                         % iid)
        p = self.run_cli("image", "show", iid)
        self.assertIn("IMAGE %d INFORMATION" % iid, p.stdout)
        self.assertIn("STATE          : READY", p.stdout)
        self.assertIn("SIZE           : 5M", p.stdout)
        self.assertNotIn("PROGRESS", p.stdout)

    def test_create_from_url(self):
        data = os.urandom(300 * 1024)
        with open(os.path.join(WWW, "files", "url.qcow"), "wb") as f:
            f.write(data)
        p = self.run_cli("image", "create", "--datastore", "1", "--path",
                         web_url("files/url.qcow?x=1"), "--type", "datablock", "--wait")
        iid = self.created(p)
        im = D.info("image", iid)
        self.assertEqual(xtext(im, "NAME"), "url.qcow")     # query left out
        self.assertEqual(xint(im, "TYPE"), 2)               # DATABLOCK
        self.assertEqual(read_bytes(xtext(im, "SOURCE")), data)
        # The last line: 100% of what was seen, or of SIZE (MB) when the copy
        # was too quick to be seen.
        self.assertRegex(p.stderr, r"(?m)^100% (300/300 KiB|1/1 MiB)$")

    def test_create_from_template_with_options(self):
        src = write_bytes("tmpl.raw", os.urandom(8192))
        f = write_text("img.tmpl", tmpl(NAME="from-file", PATH=src, DESCRIPTION="d e"))
        iid = self.created(self.run_cli("image", "create", f, "--datastore", "1",
                                        "--name", "cli-img-tmpl", "--type", "CONTEXT",
                                        "--wait"))
        im = D.info("image", iid)
        self.assertEqual(xtext(im, "NAME"), "cli-img-tmpl")
        self.assertEqual(xint(im, "TYPE"), 5)
        self.assertEqual(xtext(im, "TEMPLATE/DESCRIPTION"), "d e")

    def test_wait_reports_error(self):
        p = self.run_cli("image", "create", "--datastore", "1", "--path",
                         web_url("files/no-such-file"), "--name", "cli-img-404", "--wait",
                         rc=1)
        iid = self.created(p)
        im = D.info("image", iid)
        self.assertEqual(xint(im, "STATE"), 5)
        error = xtext(im, "TEMPLATE/ERROR")
        self.assertTrue(error)
        self.assertIn("image %d is in state ERROR: %s" % (iid, error), p.stderr)

    def test_manage(self):
        src = write_bytes("manage.raw", os.urandom(4096))
        iid = self.image_from(src, "cli-img-manage")
        self.run_cli("image", "rename", "cli-img-manage", "cli-img-managed")
        self.assertEqual(xtext(D.info("image", iid), "NAME"), "cli-img-managed")
        self.run_cli("image", "chmod", iid, "604")
        self.assertEqual(harness.perms(D.info("image", iid)), harness.octal_perms("604"))
        self.run_cli("image", "update", iid, write_text("upd.tmpl", 'LABEL = "x"\n'),
                     "--append")
        self.assertEqual(xtext(D.info("image", iid), "TEMPLATE/LABEL"), "x")
        self.run_cli("image", "lock", iid, "--admin")
        self.assertEqual(xint(D.info("image", iid), "LOCK/LOCKED"), 3)
        self.assertIn("LOCK           : Admin", self.run_cli("image", "show", iid).stdout)
        self.run_cli("image", "unlock", iid)
        self.assertIsNone(D.info("image", iid).find("LOCK"))
        p = self.run_cli("image", "list", "--mine", "--xml")
        self.assertIn(iid, harness.pool_ids(p.stdout, "IMAGE_POOL", "IMAGE"))
        source = xtext(D.info("image", iid), "SOURCE")
        self.run_cli("image", "delete", iid)
        self.assertFalse(os.path.exists(source))


# -- apps: upload, download, export ------------------------------------------------------

class Apps(TransferTestCase):

    def test_image_to_app_to_file_and_image(self):
        data = os.urandom(5 * MIB + 12345)
        iid = self.image_from(write_bytes("round.raw", data), "cli-round-img")

        p = self.run_cli("app", "create", "--market", "cli-transfer", "--image", "cli-round-img",
                         "--description", "round trip", "--version", "2.5", "--wait")
        aid = self.created(p)
        app = D.info("marketapp", aid)
        self.assertEqual(xint(app, "STATE"), 1)
        self.assertEqual(xtext(app, "NAME"), "cli-round-img")     # the image's name
        self.assertEqual(xint(app, "ORIGIN_ID"), iid)
        self.assertEqual(xint(app, "TYPE"), 1)                    # IMAGE
        self.assertEqual(xtext(app, "VERSION"), "2.5")            # not marketctl's --version
        self.assertEqual(xtext(app, "DESCRIPTION"), "round trip")
        self.assertEqual(xtext(app, "MD5"), hashlib.md5(data).hexdigest())
        public, _ = self.public_file(aid)
        self.assertEqual(read_bytes(public), data)

        out = os.path.join(D.dir, "round.out")
        p = self.run_cli("app", "download", aid, out)
        self.assertEqual(read_bytes(out), data)
        self.assertEqual(p.stdout, "")
        self.assertEqual(progress_lines(p.stderr)[-1].group(0), "100% 5/5 MiB")

        p = self.run_cli("app", "export", "cli-round-img", "--datastore", "1",
                         "--name", "cli-round-exported", "--wait")
        xid = self.created(p, IMAGE_ID_RE)
        im = D.info("image", xid)
        self.assertEqual(xint(im, "STATE"), 1)
        self.assertEqual(xint(im, "DATASTORE_ID"), 1)
        self.assertEqual(xtext(im, "NAME"), "cli-round-exported")
        self.assertEqual(read_bytes(xtext(im, "SOURCE")), data)

    def test_create_from_path_and_export_default_name(self):
        data = os.urandom(200 * 1024)
        src = write_bytes("by-path.img", data)
        aid = self.created(self.run_cli("app", "create", "--market", MID, "--path", src,
                                        "--wait"))
        app = D.info("marketapp", aid)
        self.assertEqual(xtext(app, "NAME"), "by-path.img")
        self.assertEqual(xint(app, "ORIGIN_ID"), -1)
        self.assertEqual(xtext(app, "TEMPLATE/IMPORT_SOURCE"), src)
        self.assertEqual(xtext(app, "MD5"), hashlib.md5(data).hexdigest())
        p = self.run_cli("app", "show", aid)
        self.assertIn("STATE          : READY", p.stdout)
        self.assertNotIn("PROGRESS", p.stdout)

        # Without --name the image is named after the app.
        xid = self.created(self.run_cli("app", "export", aid, "--datastore", "default"),
                           IMAGE_ID_RE)
        self.wait_state("image", xid, 1)
        im = D.info("image", xid)
        self.assertEqual(xtext(im, "NAME"), "by-path.img")
        self.assertEqual(read_bytes(xtext(im, "SOURCE")), data)

    def test_download_checksum_mismatch(self):
        data = os.urandom(MIB)
        iid = self.image_from(write_bytes("corrupt.raw", data), "cli-corrupt-img")
        aid = self.app_from_image(iid, "cli-corrupt-app")
        public, _ = self.public_file(aid)
        bad = bytearray(data)
        bad[4242] ^= 0xFF
        with open(public, "wb") as f:
            f.write(bad)

        out = os.path.join(D.dir, "corrupt.out")
        p = self.run_cli("app", "download", aid, out, rc=1)
        self.assertIn("checksum mismatch", p.stderr)
        self.assertFalse(os.path.exists(out), "a corrupted download left %s" % out)
        self.assertEqual(leftovers(out), [])

        # An existing file is replaced only by a good download.
        with open(out, "w") as f:
            f.write("previous content\n")
        self.run_cli("app", "download", aid, out, rc=1)
        with open(out) as f:
            self.assertEqual(f.read(), "previous content\n")
        self.assertEqual(leftovers(out), [])

    def test_wait_reports_upload_error(self):
        missing = os.path.join(D.dir, "no-such-image.raw")
        p = self.run_cli("app", "create", "--market", MID, "--path", missing,
                         "--name", "cli-upload-fails", "--wait", rc=1)
        aid = self.created(p)
        app = D.info("marketapp", aid)
        self.assertEqual(xint(app, "STATE"), 3)
        error = xtext(app, "TEMPLATE/ERROR")
        self.assertTrue(error)
        self.assertIn("marketplace app %d is in state ERROR: %s" % (aid, error), p.stderr)

        # Nothing to download from an app in ERROR.
        p = self.run_cli("app", "download", aid, os.path.join(D.dir, "err.out"), rc=1)
        self.assertIn("marketplace app %d is ERROR: only a READY app can be downloaded" % aid,
                      p.stderr)
        self.assertFalse(os.path.exists(os.path.join(D.dir, "err.out")))

    def test_download_app_without_source(self):
        aid = D.app("cli-vmtemplate-app", MID)      # VMTEMPLATE: READY, no SOURCE
        p = self.run_cli("app", "download", aid, os.path.join(D.dir, "tpl.out"), rc=1)
        self.assertIn("has no SOURCE", p.stderr)

    def test_download_to_stdout(self):
        data = os.urandom(64 * 1024)
        aid = self.created(self.run_cli("app", "create", "--market", MID, "--path",
                                        write_bytes("stdout.raw", data), "--wait"))
        p = subprocess.run(cli_cmd(["app", "download", aid, "-"]), env=cli_env(),
                           capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, data)


# -- progress display and Ctrl-C --------------------------------------------------------

class Progress(TransferTestCase):

    def test_large_transfer_lines(self):
        size = 200 * MIB
        src = sparse_file("big.raw", size)
        p = self.run_cli("image", "create", "--datastore", "1", "--path", src,
                         "--name", "cli-big-img", "--wait", timeout=TIMEOUT * 3)
        iid = self.created(p)
        lines = progress_lines(p.stderr)
        self.assertTrue(lines, "no progress line in %r" % p.stderr)
        self.assertEqual(lines[-1].group(0), "100% 200/200 MiB")
        for m in lines:
            self.assertEqual(m.group(3), "200")
            self.assertLessEqual(int(m.group(2)), 200)
        self.assertEqual(xint(D.info("image", iid), "SIZE"), 200)
        aid = self.app_from_image(iid, "cli-big-app")
        public, source = self.public_file(aid)

        # Sent at 60 MiB/s: a few seconds, so several lines, 2 s apart.
        Handler.slow[urllib.parse.urlsplit(source).path] = 60 * MIB
        out = os.path.join(D.dir, "big.out")
        try:
            t0 = time.monotonic()
            p = self.run_cli("app", "download", aid, out, timeout=TIMEOUT * 3)
            elapsed = time.monotonic() - t0
        finally:
            Handler.slow.clear()
        lines = progress_lines(p.stderr)
        self.assertEqual(lines[-1].group(0), "100% 200/200 MiB")
        self.assertGreaterEqual(len(lines), 2, p.stderr)
        # At most one line per 2 s, plus the final one.
        self.assertLessEqual(len(lines), elapsed / 2 + 2, p.stderr)
        percents = [int(m.group(1)) for m in lines]
        self.assertEqual(percents, sorted(percents))
        self.assertEqual(os.path.getsize(out), size)
        self.assertEqual(md5_file(out), md5_file(src))
        for path in (out, public):
            os.unlink(path)

    def slow_url(self, name, size, rate):
        path = os.path.join(WWW, "files", name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        Handler.slow["/files/" + name] = rate
        self.addCleanup(Handler.slow.pop, "/files/" + name, None)
        return web_url("files/" + name), path

    def test_tty_bar(self):
        url, _ = self.slow_url("tty.raw", 3 * MIB, 2 * MIB)
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(cli_cmd(["image", "create", "--datastore", "1", "--path",
                                             url, "--wait"]),
                                    env=cli_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=slave)
        finally:
            os.close(slave)
        chunks = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if not r:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:         # EIO: the last writer is gone
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        out, _ = proc.communicate(timeout=TIMEOUT)
        tty = b"".join(chunks).decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, tty)
        self.created(out.decode())
        frames = [f for f in tty.split("\r") if f.strip()]
        self.assertGreaterEqual(len(frames), 2, repr(tty))   # redrawn in place
        for frame in frames[:-1]:
            self.assertRegex(frame, r"^\[[=> ]{30}\]\s+\d+%\s+([\d.]+ \w+|--)/s  ETA "
                             r"(\d+:\d\d|-:--)\x1b\[K$")
        self.assertRegex(tty, r"\[={30}\] 100%\s+[\d.]+ (KiB|MiB|GiB)/s  ETA 0:00")
        self.assertTrue(tty.endswith("\n"), repr(tty[-80:]))

    def test_show_progress_and_ctrl_c(self):
        url, path = self.slow_url("interrupt.raw", 6 * MIB, 2 * MIB)
        proc = subprocess.Popen(cli_cmd(["image", "create", "--datastore", "1", "--path", url,
                                         "--name", "cli-img-interrupted", "--wait"]),
                                env=cli_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            iid = int(ID_RE.match(self.read_until(proc.stdout, ID_RE.pattern)).group(1))
            self.read_until(proc.stderr, r"^\d+% \d+/6144 KiB|^\d+% \d+/6 MiB")
            show = self.run_cli("image", "show", iid).stdout
            self.assertRegex(show, r"(?m)^PROGRESS       : \d+% \([\d.]+ \w+ of 6\.0 MiB\)$")
            self.assertIn("STATE          : LOCKED", show)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10 * harness.SLOW)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("stopped waiting for image %d; marketd goes on with the transfer" % iid,
                      err)
        # marketd did go on.
        self.wait_state("image", iid, 1, timeout=30)
        self.assertEqual(read_bytes(xtext(D.info("image", iid), "SOURCE")), read_bytes(path))

    def test_app_upload_progress(self):
        # The driver reports the upload's progress; marketd shows it in the
        # app's XML, `app show` prints it and --wait follows it.
        url, path = self.slow_url("upload.raw", 6 * MIB, 2 * MIB)
        proc = subprocess.Popen(cli_cmd(["app", "create", "--market", MID, "--path", url,
                                         "--wait"]),
                                env=cli_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            aid = int(ID_RE.match(self.read_until(proc.stdout, ID_RE.pattern)).group(1))
            self.read_until(proc.stderr, r"^\d+% \d+/6 MiB$")
            show = self.run_cli("app", "show", aid).stdout
            self.assertRegex(show, r"(?m)^PROGRESS       : \d+% \([\d.]+ \w+ of 6\.0 MiB\)$")
            self.assertIn("STATE          : LOCKED", show)
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(progress_lines(err)[-1].group(0), "100% 6/6 MiB", err)
        app = D.info("marketapp", aid)
        self.assertEqual(xint(app, "STATE"), 1)
        self.assertIsNone(app.find("PROGRESS"))
        self.assertEqual(xtext(app, "MD5"), md5_file(path))

    def test_download_ctrl_c(self):
        data = os.urandom(6 * MIB)
        aid = self.created(self.run_cli("app", "create", "--market", MID, "--path",
                                        write_bytes("dl-int.raw", data), "--wait"))
        _, source = self.public_file(aid)
        Handler.slow[urllib.parse.urlsplit(source).path] = 2 * MIB
        self.addCleanup(Handler.slow.clear)
        out = os.path.join(D.dir, "dl-int.out")
        proc = subprocess.Popen(cli_cmd(["app", "download", aid, out]), env=cli_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self.read_until(proc.stderr, r"^\d+% \d+/6 MiB$")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10 * harness.SLOW)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(leftovers(out), [])


# -- usage -------------------------------------------------------------------------------

class Usage(TransferTestCase):

    def test_usage_errors(self):
        f = write_text("usage.tmpl", tmpl(NAME="x", PATH="/nonexistent"))
        for args in (["image", "create", "--path", "/x"],                  # no --datastore
                     ["image", "create", "--datastore", "1"],              # no content
                     ["image", "create", f, "--datastore", "1", "--path", "/x"],
                     ["image", "create", "--datastore", "1", "--path", "http://host/"],
                     ["app", "create", "--market", "1"],
                     ["app", "create", "--market", "1", "--image", "0", "--path", "/x"],
                     ["app", "create", f, "--market", "1", "--image", "0"],
                     ["app", "create", "--image", "0"],                   # no --market
                     ["app", "export", "0"],                              # no --datastore
                     ["app", "export", "0", "--datastore", "1", "--name", ""],
                     ["app", "download", "0"],
                     ["app", "download", "0", "out", "extra"],
                     ["app", "download", "0", "out", "--wait"],
                     ["datastore", "create"],
                     ["image", "list", "--market", "1"],
                     ["image", "lock", "0", "--use", "--all"]):
            with self.subTest(args=args):
                p = self.run_cli(*args, rc=2)
                self.assertTrue(p.stderr.strip(), "a usage error should say something")

    def test_global_version_still_works(self):
        p = self.run_cli("--version")
        self.assertRegex(p.stdout, r"^marketctl \S+\n$")

    def test_help_lists_new_commands(self):
        p = self.run_cli("--help")
        for words in ("datastore list", "image create", "app export", "app download"):
            self.assertIn(words, p.stdout)
        p = self.run_cli("image", "create", "--help")
        for opt in ("--datastore DS", "--path FILE_OR_URL", "--name NAME", "--type TYPE",
                    "--wait"):
            self.assertIn(opt, p.stdout)


if __name__ == "__main__":
    harness.main(needs=("marketd", "marketctl") + DRIVERS)
