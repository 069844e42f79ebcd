"""Integration-test harness for marketd (Python 3.11, stdlib only).

Starts the real daemon in a private temporary directory, on a free loopback
port, and talks to it with the standard library's xmlrpc.client, an XML-RPC
client written independently of marketd.  The pattern is redis'
tests/unit/*.tcl: spawn the server, drive it from outside, read its log when
something goes wrong.

Binaries come from $MKT_BUILDDIR (set by `make check`; default: the source
tree root, two directories above this file): $MKT_BUILDDIR/marketd and
$MKT_BUILDDIR/marketctl.  A missing binary is an error, never a skip.

Environment knobs:
    MKT_BUILDDIR        build directory holding marketd and marketctl
    MKT_TEST_KEEP=1     keep each daemon's temporary directory
    MKT_TEST_WRAPPER=valgrind   run marketd under valgrind (slow; timeouts x10)
"""

import atexit
import ctypes
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
# Absolute: the daemon runs in a directory of its own.
SRCDIR = os.path.abspath(os.environ.get("MKT_SRCDIR") or os.path.join(HERE, "..", ".."))
BUILDDIR = os.path.abspath(os.environ.get("MKT_BUILDDIR") or os.path.join(HERE, "..", ".."))

WRAPPER = os.environ.get("MKT_TEST_WRAPPER", "")
SLOW = 10 if WRAPPER == "valgrind" else 1
START_TIMEOUT = 10 * SLOW
STOP_TIMEOUT = 10 * SLOW
RPC_TIMEOUT = 15 * SLOW
CLI_TIMEOUT = 20 * SLOW

# Error codes of the API (oned's Request.h).
AUTHENTICATION = 0x100
AUTHORIZATION = 0x200
NO_EXISTS = 0x400
ACTION = 0x800
RPC_API = 0x1000
INTERNAL = 0x2000
ALLOCATE = 0x4000

# Marketplace app states and types.
APP_INIT, APP_READY, APP_LOCKED, APP_ERROR, APP_DISABLED = 0, 1, 2, 3, 4
TYPE_IMAGE, TYPE_VMTEMPLATE, TYPE_SERVICE_TEMPLATE = 1, 2, 3

MARKET_CHILDREN = ["ID", "UID", "GID", "UNAME", "GNAME", "NAME", "STATE",
                   "MARKET_MAD", "ZONE_ID", "TOTAL_MB", "FREE_MB", "USED_MB",
                   "MARKETPLACEAPPS", "PERMISSIONS", "TEMPLATE"]
APP_CHILDREN = ["ID", "UID", "GID", "UNAME", "GNAME", "REGTIME", "NAME",
                "ZONE_ID", "ORIGIN_ID", "SOURCE", "MD5", "SIZE", "DESCRIPTION",
                "VERSION", "FORMAT", "APPTEMPLATE64", "MARKETPLACE_ID",
                "MARKETPLACE", "STATE", "TYPE", "PERMISSIONS", "TEMPLATE"]
APP_CHILDREN_LOCKED = APP_CHILDREN[:5] + ["LOCK"] + APP_CHILDREN[5:]
PERM_CHILDREN = ["OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M",
                 "GROUP_A", "OTHER_U", "OTHER_M", "OTHER_A"]


class HarnessError(Exception):
    """The environment (binaries, daemon start/stop) is broken."""


def find_program(name):
    """Absolute path of a built program; raises HarnessError if missing."""
    path = os.path.join(BUILDDIR, name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    raise HarnessError(
        "%s not found or not executable at %s (build it first with "
        "`./configure && make`, or point MKT_BUILDDIR at the build directory)"
        % (name, path))


def marketd_path():
    return find_program("marketd")


def marketctl_path():
    return find_program("marketctl")


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port():
    """A loopback port with (very probably) nobody listening."""
    return free_port()


def q(value):
    """Quote a value for OpenNebula template syntax."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def tmpl(*pairs, **kw):
    """Template text from (key, value) pairs and/or keywords, in order."""
    items = list(pairs) + list(kw.items())
    return "".join("%s = %s\n" % (k, q(v)) for k, v in items)


def xml(text):
    """Parse an XML reply; fails the test with the text on a parse error."""
    if not isinstance(text, str):
        raise AssertionError("expected an XML string, got %r" % (text,))
    try:
        return ET.fromstring(text)
    except ET.ParseError as e:
        raise AssertionError("reply is not well-formed XML (%s): %r" % (e, text[:2000]))


def xtext(elem, path):
    """Text of a sub-element (CDATA included), '' when empty; fails if absent."""
    found = elem.find(path)
    if found is None:
        raise AssertionError("<%s> has no %s: %s" % (elem.tag, path,
                             ET.tostring(elem, encoding="unicode")[:2000]))
    return found.text or ""


def xint(elem, path):
    value = xtext(elem, path).strip()
    try:
        return int(value)
    except ValueError:
        raise AssertionError("%s/%s is not an integer: %r" % (elem.tag, path, value))


def perms(elem):
    """PERMISSIONS of an object as a 9-character '110100100' string."""
    p = elem.find("PERMISSIONS")
    if p is None:
        raise AssertionError("<%s> has no PERMISSIONS" % elem.tag)
    return "".join(xtext(p, c).strip() for c in PERM_CHILDREN)


def octal_perms(octal):
    """'644' -> '110100100' (the chmod_octet expansion of the Ruby OCA)."""
    out = ""
    for digit in octal:
        d = int(digit)
        out += "%d%d%d" % ((d >> 2) & 1, (d >> 1) & 1, d & 1)
    return out


def chmod_args(octal):
    return [int(c) for c in octal_perms(octal)]


def pool_ids(pool_xml, root, elem):
    """Ids of the objects of a pool reply, in document order."""
    r = xml(pool_xml)
    if r.tag != root:
        raise AssertionError("pool root is <%s>, expected <%s>" % (r.tag, root))
    return [xint(e, "ID") for e in r.findall(elem)]


# -- process bookkeeping: never leave a daemon behind ------------------------

_ALL_DAEMONS = []   # not yet cleaned up
_CREATED = []       # every daemon ever created (for log dumps)


def _kill_all():
    for d in list(_ALL_DAEMONS):
        try:
            d.cleanup()
        except Exception:
            pass


atexit.register(_kill_all)


def _on_sigterm(signum, frame):
    # `make check` timeouts and Ctrl-C: run atexit, which kills the daemons.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_sigterm)

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None
PR_SET_PDEATHSIG = 1


def _child_setup():
    # The daemon dies with the test process, even if the latter is SIGKILLed.
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


class Daemon:
    """One marketd in its own temporary directory.

    d = Daemon(); d.start(); d.ok("one.market.info", 100); d.stop(); d.cleanup()
    """

    # The API tests run against fake drivers (test/integration/drivers), so
    # that an IMAGE app's state is chosen by the test (FAKE_IMPORT in its
    # market); the real drivers have tests of their own.
    FAKE_DRIVERS = os.path.join(SRCDIR, "test", "integration", "drivers")

    # The built drivers, for the end-to-end tests (real_drivers=True).
    REAL_DRIVERS = os.path.abspath(os.path.join(BUILDDIR, "drivers"))
    PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "NO_PROXY", "ALL_PROXY", "all_proxy")

    def __init__(self, write_auth=True, password=None, extra_conf="", name="marketd",
                 driver_dir=None, real_drivers=False, market_mad=None):
        """real_drivers: the built drivers, without proxy variables (they
        reach test servers on 127.0.0.1 directly).  market_mad: the
        MARKET_MAD vector's contents (workers, time limits)."""
        self.binary = marketd_path()
        self.real_drivers = real_drivers
        self.market_mad = market_mad or 'WORKERS = "16", TIMEOUT = "60"'
        if real_drivers:
            driver_dir = driver_dir or self.REAL_DRIVERS
        self.write_auth = write_auth
        self.password = password or ("pw-" + secrets.token_hex(12))
        self.extra_conf = extra_conf
        self.driver_dir = driver_dir or self.FAKE_DRIVERS
        self.dir = tempfile.mkdtemp(prefix="mkt-it-%s-" % name)
        self.proc = None
        self.session = None
        self._saved_tail = None
        self._prepared = False
        self.port = None
        _ALL_DAEMONS.append(self)
        _CREATED.append(self)

    # -- paths ---------------------------------------------------------------
    @property
    def conf_path(self):
        return os.path.join(self.dir, "marketd.conf")

    @property
    def auth_path(self):
        return os.path.join(self.dir, "one_auth")

    @property
    def log_path(self):
        return os.path.join(self.dir, "marketd.log")

    @property
    def pid_path(self):
        return os.path.join(self.dir, "marketd.pid")

    @property
    def data_dir(self):
        return os.path.join(self.dir, "var")

    @property
    def stdout_path(self):
        return os.path.join(self.dir, "marketd.stdout")

    @property
    def stderr_path(self):
        return os.path.join(self.dir, "marketd.stderr")

    @property
    def public_dir(self):
        return os.path.join(self.dir, "public")

    @property
    def url(self):
        return "http://127.0.0.1:%d/RPC2" % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- setup -----------------------------------------------------------------
    def _prepare(self):
        """(Re)write the configuration, with a fresh port."""
        self.port = free_port()
        os.makedirs(self.data_dir, exist_ok=True)
        os.makedirs(self.public_dir, exist_ok=True)
        conf = (
            'LISTEN_ADDRESS = "127.0.0.1"\n'
            "PORT = %d\n"
            "DATA_DIR = %s\n"
            "PID_FILE = %s\n"
            'DB = [ BACKEND = "sqlite", FILE = "marketd.db" ]\n'
            'LOG = [ SYSTEM = "file", FILE = %s, DEBUG_LEVEL = 3 ]\n'
            "ZONE_ID = 0\n"
            "DRIVER_DIR = %s\n"
            "MARKET_MAD = [ %s ]\n"
            'MARKET_MAD_CONF = [ NAME = "http", REQUIRED_ATTRS = "BASE_URL,PUBLIC_DIR", '
            'APP_ACTIONS = "create, delete, monitor" ]\n'
            'MARKET_MAD_CONF = [ NAME = "s3", REQUIRED_ATTRS = '
            '"ACCESS_KEY_ID,SECRET_ACCESS_KEY,REGION,BUCKET", '
            'APP_ACTIONS = "create, delete, monitor" ]\n'
            'MARKET_MAD_CONF = [ NAME = "one", REQUIRED_ATTRS = "", '
            'APP_ACTIONS = "monitor", PUBLIC = "yes" ]\n'
            % (self.port, q(self.data_dir), q(self.pid_path), q(self.log_path),
               q(self.driver_dir), self.market_mad))
        conf += self.extra_conf
        # The fake drivers' uploads last an hour and the API tests start
        # many at once as oneadmin: no per-user cap (marketd's default is 4)
        # unless a test sets TRANSFER itself.
        if "TRANSFER" not in self.extra_conf:
            conf += 'TRANSFER = [ MAX_PER_USER = "0" ]\n'
        with open(self.conf_path, "w") as f:
            f.write(conf)
        if self.write_auth:
            self.set_auth_file("oneadmin:%s\n" % self.password)
        self._prepared = True

    def set_auth_file(self, content):
        with open(self.auth_path, "w") as f:
            f.write(content)
        os.chmod(self.auth_path, 0o600)

    def env(self):
        env = dict(os.environ)
        for k in ("ONE_XMLRPC", "ONE_AUTH"):
            env.pop(k, None)
        env["ONE_AUTH"] = self.auth_path
        env["HOME"] = self.dir
        if self.real_drivers:
            for k in self.PROXY_VARS:
                env.pop(k, None)
        return env

    def _spawn(self):
        cmd = [self.binary, "-f", "-c", self.conf_path]
        if WRAPPER == "valgrind":
            cmd = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite",
                   "--log-file=%s" % os.path.join(self.dir, "valgrind.%p")] + cmd
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.dir, env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=_child_setup)
        finally:
            out.close()
            err.close()

    def start(self):
        """Start (first time: on a fresh port) and wait until it answers."""
        if self.running():
            raise HarnessError("daemon already running")
        first = not self._prepared
        attempts = 3 if first else 1
        for attempt in range(attempts):
            if first:
                self._prepare()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except HarnessError:
                dead = not self.running()
                if dead and attempt + 1 < attempts and self._port_clash():
                    # Another process took the port between free_port() and
                    # the daemon's bind(): try again with another port.
                    self._reset_dir()
                    continue
                self.kill()
                raise

    def _port_clash(self):
        return "in use" in self.log_tail(200).lower()

    def _reset_dir(self):
        for entry in os.listdir(self.dir):
            p = os.path.join(self.dir, entry)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)

    def _read_session(self):
        if self.write_auth and self.session:
            return self.session
        try:
            with open(self.auth_path) as f:
                content = f.read().strip()
        except OSError:
            return None
        return content or None

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = "no attempt"
        if self.write_auth:
            self.session = "oneadmin:%s" % self.password
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError("marketd exited with status %s during start-up\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
            except OSError as e:
                last = "connect: %s" % e
                time.sleep(0.05)
                continue
            session = self._read_session()
            if session is None:
                last = "no credentials in %s yet" % self.auth_path
                time.sleep(0.05)
                continue
            try:
                reply = self._call("one.system.version", (session,), timeout=2)
            except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError) as e:
                last = "one.system.version: %r" % e
                time.sleep(0.05)
                continue
            except xmlrpc.client.Fault as e:
                last = "one.system.version: %r" % e
                time.sleep(0.05)
                continue
            if isinstance(reply, list) and reply and reply[0] is True:
                # A foreign daemon on the same port would not know our
                # random password, so this is really ours.
                self.session = session
                return
            last = "one.system.version replied %r" % (reply,)
            time.sleep(0.1)
        raise HarnessError("marketd did not become ready within %ss on port %s (%s)\n%s"
                           % (START_TIMEOUT, self.port, last, self.log_tail()))

    # -- stopping --------------------------------------------------------------
    def signal(self, signum):
        if not self.running():
            raise HarnessError("marketd is not running (status %s)"
                               % (self.proc.returncode if self.proc else None))
        self.proc.send_signal(signum)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait for the exit; fails unless the exit status is 0."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise HarnessError("marketd did not exit within %ss of SIGTERM\n%s"
                                   % (timeout, self.log_tail()))
        rc = self.proc.returncode
        if rc != 0:
            raise HarnessError("marketd exited with status %s after SIGTERM (expected 0)\n%s"
                               % (rc, self.log_tail()))
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass

    def restart(self):
        """Clean stop (exit 0 required), then start on the same dir and port."""
        self.stop()
        return self.start()

    def cleanup(self):
        """Kill if still running and remove the directory (idempotent)."""
        self.kill()
        if self.dir and os.path.isdir(self.dir):
            self._saved_tail = self.log_tail()
            if os.environ.get("MKT_TEST_KEEP"):
                sys.stderr.write("kept marketd directory %s\n" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        if self in _ALL_DAEMONS:
            _ALL_DAEMONS.remove(self)

    # -- logs --------------------------------------------------------------------
    def log_tail(self, lines=40):
        if self._saved_tail is not None and not os.path.isdir(self.dir):
            return self._saved_tail
        parts = []
        for path in (self.log_path, self.stderr_path, self.stdout_path):
            try:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            if data:
                parts.append("---- tail of %s ----\n%s" % (path, "\n".join(data[-lines:])))
        if not parts:
            return "(marketd wrote no log in %s)" % self.dir
        return "\n".join(parts)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- XML-RPC ---------------------------------------------------------------
    def proxy(self, timeout=RPC_TIMEOUT):
        return xmlrpc.client.ServerProxy(self.url, transport=_TimeoutTransport(timeout))

    def _call(self, method, args, timeout=RPC_TIMEOUT):
        with self.proxy(timeout) as p:
            result = getattr(p, method)(*args)
        return result

    def rpc(self, method, *args, session=None):
        """Raw reply of a call with the session first (default: oneadmin).

        Faults propagate as xmlrpc.client.Fault.  A dead daemon is reported
        as such rather than as a connection error."""
        s = self.session if session is None else session
        try:
            return self._call(method, (s,) + args)
        except (ConnectionError, http.client.RemoteDisconnected) as e:
            if not self.running():
                raise AssertionError("marketd is not running (exit status %s) [%s]"
                                     % (self.proc.returncode if self.proc else None, e))
            raise

    def rpc_nosession(self, method, *args):
        """A call with exactly these parameters (no session added)."""
        return self._call(method, args)

    def ok(self, method, *args, session=None):
        """Assert [True, value, 0] and return value."""
        reply = self.rpc(method, *args, session=session)
        assert_ok(reply, method)
        return reply[1]

    def info(self, kind, oid, session=None):
        """Parsed XML of one.<kind>.info(id)."""
        return xml(self.ok("one.%s.info" % kind, oid, session=session))

    def alive(self):
        """Whether the daemon still answers one.system.version."""
        if not self.running():
            return False
        try:
            r = self.rpc("one.system.version")
        except Exception:
            return False
        return isinstance(r, list) and len(r) == 3 and r[0] is True

    # -- shortcuts ---------------------------------------------------------------
    def market(self, name, mad="http", session=None, **attrs):
        """Allocate a market; returns its id."""
        pairs = [("NAME", name), ("MARKET_MAD", mad)]
        if mad == "http":
            pairs += [("BASE_URL", "http://127.0.0.1/%s" % name),
                      ("PUBLIC_DIR", self.public_dir)]
        elif mad == "s3":
            pairs += [("ACCESS_KEY_ID", "AK"), ("SECRET_ACCESS_KEY", "SK"),
                      ("REGION", "eu-west-1"), ("BUCKET", "bucket")]
        elif mad == "one":
            # Never let a monitor pass reach the real public marketplace.
            pairs += [("ENDPOINT", "http://127.0.0.1:%d/" % closed_port())]
        pairs += list(attrs.items())
        return self.ok("one.market.allocate", tmpl(*pairs), session=session)

    def wait_state(self, kind, oid, states, timeout=30):
        """Poll one.<kind>.info until STATE is in @states; returns the XML."""
        deadline = time.time() + timeout
        while True:
            x = self.info(kind, oid)
            if int(x.findtext("STATE")) in states:
                return x
            if time.time() > deadline:
                raise AssertionError("%s %d still in state %s after %d s"
                                     % (kind, oid, x.findtext("STATE"), timeout))
            time.sleep(0.05)

    def image(self, name, size=4096, datastore=1, session=None):
        """A READY image with @size random bytes, copied by marketd from a
        local file (oneadmin only); returns its id."""
        path = os.path.join(self.dir, "src-%s" % name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        iid = self.ok("one.image.allocate", tmpl(NAME=name, PATH=path), datastore,
                      session=session)
        self.wait_state("image", iid, (1,))
        return iid

    def app(self, name, market_id, type_="VMTEMPLATE", session=None, **attrs):
        """Allocate an app; returns its id.  VMTEMPLATE by default: its state
        does not depend on any driver."""
        pairs = [("NAME", name), ("TYPE", type_), ("ORIGIN_ID", "0")]
        pairs += list(attrs.items())
        return self.ok("one.marketapp.allocate", tmpl(*pairs), market_id, session=session)

    def user(self, name, password=None, groups=(), session=None):
        """Allocate a user; returns (uid, session string)."""
        password = password or ("p-" + secrets.token_hex(8))
        uid = self.ok("one.user.allocate", name, password, "core", list(groups),
                      session=session)
        return uid, "%s:%s" % (name, password)

    def group(self, name, session=None):
        return self.ok("one.group.allocate", name, session=session)

    def cli(self, *args, auth_file=None, endpoint=None, input=None, env_extra=None):
        """Run marketctl against this daemon; returns CompletedProcess."""
        env = dict(os.environ)
        env["ONE_XMLRPC"] = endpoint or self.url
        env["ONE_AUTH"] = auth_file or self.auth_path
        env["HOME"] = self.dir
        env.update(env_extra or {})
        return run_cli(list(args), env, input=input)


def run_cli(args, env, input=None):
    cmd = [marketctl_path()] + [str(a) for a in args]
    try:
        return subprocess.run(cmd, env=env, input=input, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("marketctl %s hung for %ss" % (" ".join(cmd[1:]), e.timeout))


# -- assertions usable outside TestCase ------------------------------------------

def assert_ok(reply, method="call"):
    if not (isinstance(reply, list) and len(reply) == 3 and reply[0] is True
            and reply[2] == 0):
        raise AssertionError("%s: expected [True, value, 0], got %r" % (method, reply))


def assert_failure(reply, method, code=None, contains=None, exact=None, resp_id=-1):
    """Check [False, "[method] msg", code, resp_id, -1].

    code None: any error code (the spec leaves it open); resp_id is then
    only checked to be an int.  resp_id is the object id for NO_EXISTS."""
    if not (isinstance(reply, list) and len(reply) == 5 and reply[0] is False):
        raise AssertionError("%s: expected a 5-element failure [False, msg, code, "
                             "resp_id, -1], got %r" % (method, reply))
    msg = reply[1]
    if not isinstance(msg, str) or not msg.startswith("[%s] " % method):
        raise AssertionError("%s: message should start with '[%s] ': %r"
                             % (method, method, msg))
    if code is not None and reply[2] != code:
        raise AssertionError("%s: expected error code %d, got %r (%r)"
                             % (method, code, reply[2], msg))
    if not isinstance(reply[2], int) or reply[2] <= 0:
        raise AssertionError("%s: bad error code %r" % (method, reply[2]))
    if code is not None and reply[3] != resp_id:
        raise AssertionError("%s: expected resp_id %r, got %r" % (method, resp_id, reply[3]))
    if not isinstance(reply[3], int):
        raise AssertionError("%s: resp_id is not an int: %r" % (method, reply[3]))
    if reply[4] != -1:
        raise AssertionError("%s: last element should be -1, got %r" % (method, reply[4]))
    if exact is not None and msg != exact:
        raise AssertionError("%s: message\n  %r\nexpected\n  %r" % (method, msg, exact))
    if contains is not None:
        for c in ([contains] if isinstance(contains, str) else contains):
            if c not in msg:
                raise AssertionError("%s: message %r does not contain %r" % (method, msg, c))
    return reply


class TestCase(unittest.TestCase):
    """Base class: on a failure, prints the tail of every daemon in use."""

    maxDiff = None

    def run(self, result=None):
        before_daemons = list(_ALL_DAEMONS)
        counts = None
        if result is not None:
            counts = (len(result.failures), len(result.errors))
        created_before = len(_CREATED)
        r = super().run(result)
        res = result if result is not None else r
        if res is not None and counts is not None and \
                (len(res.failures), len(res.errors)) != counts:
            seen = before_daemons + [d for d in _CREATED[created_before:]
                                     if d not in before_daemons]
            for d in seen:
                sys.stderr.write("\n==== %s: marketd in %s (port %s) ====\n%s\n"
                                 % (self.id(), d.dir, d.port, d.log_tail()))
        return r

    # Thin wrappers so tests read naturally.
    def assertOk(self, reply, method="call"):
        assert_ok(reply, method)
        return reply[1]

    def assertFailure(self, reply, method, code=None, contains=None, exact=None, resp_id=-1):
        return assert_failure(reply, method, code=code, contains=contains,
                              exact=exact, resp_id=resp_id)

    def assertRejected(self, call):
        """A call with bad parameters: an XML-RPC fault (negative code) or
        [False, msg, 4096 (RPC_API), ...].  `call` is a zero-arg callable."""
        try:
            reply = call()
        except xmlrpc.client.Fault as f:
            self.assertLess(f.faultCode, 0, "fault code should be negative: %r" % f)
            return f
        self.assertIsInstance(reply, list, "reply %r" % (reply,))
        self.assertGreaterEqual(len(reply), 3, "reply %r" % (reply,))
        self.assertIs(reply[0], False, "bad parameters were accepted: %r" % (reply,))
        self.assertEqual(reply[2], RPC_API, "expected RPC_API (4096): %r" % (reply,))
        return reply

    def assertChildren(self, elem, expected):
        self.assertEqual([c.tag for c in elem], expected,
                         "child elements of <%s>" % elem.tag)

    def wait_for(self, predicate, timeout=5.0, what="condition"):
        deadline = time.monotonic() + timeout * SLOW
        while True:
            v = predicate()
            if v:
                return v
            if time.monotonic() > deadline:
                self.fail("timed out after %ss waiting for %s" % (timeout, what))
            time.sleep(0.05)


_names = iter(range(1, 1 << 30))


def unique_name(prefix):
    """A name no other call of this process got: "<prefix>-<n>"."""
    return "%s-%d" % (prefix, next(_names))


def tear_down_module(daemons=(), servers=(), tmp=None):
    """End a module's fixtures: stop @daemons (exit status 0 required),
    then @servers (anything with stop()), then remove @tmp unless
    MKT_TEST_KEEP is set; the servers and files go even if a daemon
    failed to stop cleanly."""
    try:
        for d in daemons:
            if d is not None:
                stop_module_daemon(d)
    finally:
        for srv in servers:
            if srv is not None:
                srv.stop()
        if tmp and not os.environ.get("MKT_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def module_daemon(**kw):
    """Start a daemon for a whole module (call from setUpModule)."""
    return Daemon(**kw).start()


def stop_module_daemon(d):
    """Stop (exit status 0 required) and remove a module daemon."""
    if d is None:
        return
    try:
        d.stop()
    finally:
        d.cleanup()


def fresh_daemon(testcase, **kw):
    """A daemon for one test, removed when the test ends."""
    d = Daemon(**kw)
    testcase.addCleanup(d.cleanup)
    d.start()
    return d


def main(needs=("marketd",)):
    # Fail loudly, before running anything, when a binary is missing
    # (exit 99: a hard error for automake's test harness, never a skip).
    for prog in needs:
        try:
            find_program(prog)
        except HarnessError as e:
            sys.stderr.write("ERROR: %s\n" % e)
            sys.exit(99)
    unittest.main(module="__main__", verbosity=2)
