"""A private S3 server on 127.0.0.1 for the s3 driver's tests and bench:
the npm package s3rver (3.7.1) started through test/s3rver-ext.js, which
adds the AbortMultipartUpload and ListMultipartUploads calls s3rver lacks.

s3rver is installed once, from the npm registry, into
$MKT_BUILDDIR/test/node_modules (ignored by git), and reused.  Its access
key and secret are both "S3RVER".  s3rver checks V2 signatures but not V4
ones, and refuses an unknown access key id with both.  Its V2 check of
bucket-level calls (create, list, head bucket) fails for libs3, which signs
"/bucket/" where s3rver computes "/bucket": `lax=True` starts it with
--allow-mismatched-signatures for those.

The server runs in its own process group, dies with the process that
started it, and is stopped at exit."""

import atexit
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nginx import _child_setup, free_port  # noqa: E402

VERSION = "3.7.1"
KEY = SECRET = "S3RVER"
UPLOADS = "._S3rver_uploads"
OBJECT_SUFFIX = "._S3rver_object"
HERE = os.path.dirname(os.path.abspath(__file__))
_RUNNING = []


class Unavailable(RuntimeError):
    pass


def install(builddir):
    """The node_modules directory holding s3rver, installed when missing."""
    prefix = os.path.join(builddir, "test")
    modules = os.path.join(prefix, "node_modules")
    if os.path.exists(os.path.join(modules, "s3rver", "package.json")):
        return modules
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise Unavailable("%s not found: install nodejs and npm "
                              "(scripts/install-deps.sh --test)" % tool)
    os.makedirs(prefix, exist_ok=True)
    run = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund",
                          "--prefix", prefix, "s3rver@" + VERSION],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if run.returncode != 0:
        raise Unavailable("npm install s3rver@%s failed: %s" % (VERSION, run.stderr[-2000:]))
    return modules


@atexit.register
def stop_all():
    for server in list(_RUNNING):
        server.stop()


class S3rver:
    def __init__(self, builddir, datadir, lax=False, buckets=()):
        self.modules = install(builddir)
        self.datadir = datadir
        self.lax = lax
        self.buckets = list(buckets)
        self.port = None
        self.proc = None
        os.makedirs(datadir, exist_ok=True)

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, port=None):
        for _ in range(5):
            self.port = port or free_port()
            argv = ["node", os.path.join(HERE, "s3rver-ext.js"), self.datadir, str(self.port)]
            if self.lax:
                argv.append("--allow-mismatched-signatures")
            for b in self.buckets:
                argv += ["--bucket", b]
            env = dict(os.environ, NODE_PATH=self.modules)
            # Its messages go to a file: a pipe nobody reads would fill
            # up and block it, and the file says why it died, if it does.
            self.log_path = os.path.join(self.datadir, "s3rver.log")
            with open(self.log_path, "a") as log:
                self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=log,
                                             text=True, preexec_fn=_child_setup)
            _RUNNING.append(self)
            line = self.proc.stdout.readline()
            if line.startswith("ready"):
                return self
            self.stop()
        raise RuntimeError("s3rver did not start: %s" % (line or self.log_tail()))

    def log_tail(self, n=2000):
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def ensure_running(self):
        """s3rver (not the code under test) has been seen to die under
        load: say why, and start it again on the same port and data, so
        that one crash of the fixture fails one test, not every later one.
        True when it had to."""
        if self.proc and self.proc.poll() is None:
            return False
        sys.stderr.write("s3rver on port %s had exited (%s); restarting it:\n%s\n"
                         % (self.port, self.proc.returncode if self.proc else "?",
                            self.log_tail()))
        port = self.port
        self.stop()
        self.start(port)
        return True

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
        if self in _RUNNING:
            _RUNNING.remove(self)
        self.proc = None

    # -- looking at the store directly -----------------------------------------

    def object_path(self, bucket, key):
        return os.path.join(self.datadir, bucket, key + OBJECT_SUFFIX)

    def has_object(self, bucket, key):
        return os.path.exists(self.object_path(bucket, key))

    def uploads(self, bucket):
        """Multipart uploads not completed nor aborted: [(upload id, key)],
        key None while s3rver is still writing the upload's records."""
        d = os.path.join(self.datadir, bucket, UPLOADS)
        if not os.path.isdir(d):
            return []
        out = []
        for upload_id in sorted(os.listdir(d)):
            try:
                with open(os.path.join(d, upload_id, "key")) as f:
                    out.append((upload_id, f.read()))
            except FileNotFoundError:
                if os.path.isdir(os.path.join(d, upload_id)):
                    out.append((upload_id, None))
        return out

    def put_direct(self, bucket, key, data):
        """An object written into the store without the API (fast fixtures)."""
        path = self.object_path(bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        with open(path + ".md5", "w") as f:
            f.write(hashlib.md5(data).hexdigest())


def s3cmd_config(path, server):
    """An s3cmd configuration for @server (V4, path style, plain HTTP)."""
    with open(path, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = 127.0.0.1:%d\n"
                "host_bucket = 127.0.0.1:%d\nuse_https = False\nsignature_v2 = False\n"
                "bucket_location = us-east-1\n" % (KEY, SECRET, server.port, server.port))
    return path
