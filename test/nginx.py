"""A private nginx on 127.0.0.1 for the tests and benchmarks (Debian's
nginx-light): daemon off, every path under its own directory, serving a
root directory and optional extra locations.  It runs in its own process
group, dies with the process that started it, and is stopped at exit."""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time

PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None
_RUNNING = []


def find_nginx():
    for path in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if path and os.access(path, os.X_OK):
            return path
    raise RuntimeError("nginx not found: install nginx-light (scripts/install-deps.sh --test)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child_setup():
    os.setsid()                 # its own group: stop() kills the workers too
    if _libc is not None:       # and it dies with its parent
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@atexit.register
def stop_all():
    """Stop every nginx this process started."""
    for server in list(_RUNNING):
        server.stop()


class Nginx:
    """@locations: (prefix, directory, rate) triples served besides @root,
    rate an nginx limit_rate ("2m") or None.  @extra: more directives for
    the server block, as nginx configuration text."""

    def __init__(self, workdir, root, locations=(), access_log=True, extra=""):
        self.workdir = workdir
        self.root = root
        self.locations = list(locations)
        self.access_log = access_log
        self.extra = extra
        self.port = None
        self.proc = None
        os.makedirs(workdir, exist_ok=True)

    def url(self, path=""):
        return "http://127.0.0.1:%d/%s" % (self.port, path)

    def config(self):
        w = self.workdir
        built = subprocess.run([find_nginx(), "-V"], capture_output=True, text=True).stderr
        temps = "client_body_temp_path %s/body;\n" % w
        for module in ("proxy", "fastcgi", "uwsgi", "scgi"):
            if "--without-http_%s_module" % module not in built:
                temps += "    %s_temp_path %s/%s;\n" % (module, w, module)
        locations = "".join(
            "location %s { alias %s/;%s }\n" % (prefix, directory,
                                                " limit_rate %s;" % rate if rate else "")
            for prefix, directory, rate in self.locations)
        return """
%(user)s
daemon off;
master_process on;
worker_processes 1;
pid %(w)s/nginx.pid;
error_log %(w)s/error.log;
events { worker_connections 64; }
http {
    access_log %(access)s;
    %(temps)s
    default_type application/octet-stream;
    sendfile on;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
        %(locations)s
        %(extra)s
    }
}
""" % {"user": "user root;" if os.geteuid() == 0 else "", "w": w, "temps": temps,
       "access": "%s/access.log" % w if self.access_log else "off",
       "port": self.port, "root": self.root, "locations": locations,
       "extra": self.extra}

    def start(self):
        for _ in range(5):
            self.port = free_port()
            conf = os.path.join(self.workdir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.config())
            self.proc = subprocess.Popen(
                [find_nginx(), "-p", self.workdir, "-c", conf,
                 "-e", os.path.join(self.workdir, "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_child_setup)
            _RUNNING.append(self)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError("nginx did not start: %s" % self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.workdir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return "(no error log)"

    def stop(self):
        if self in _RUNNING:
            _RUNNING.remove(self)
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)   # workers included
        except OSError:
            pass
        self.proc.wait()
