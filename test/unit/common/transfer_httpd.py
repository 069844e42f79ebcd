#!/usr/bin/env python3
"""transfer_httpd.py: the HTTP server of transfer_test (stdlib only).

Usage: transfer_httpd.py ROOT PORTFILE LOGFILE

Serves the files under ROOT on 127.0.0.1 (a free port, written to PORTFILE
once listening), with Range support, ETags and HEAD.  Each request is
appended to LOGFILE as one line: "METHOD PATH range=... ua=...".

The query string misbehaves on demand.  "Once" means the first request
with that exact path and query string; add a unique id=... to keep the
cases of different tests apart.
  status=N     always answer HTTP N
  fail=K       answer 500 to the first K requests
  drop=N       once: send N bytes of the body, then close the connection
  stall=N      once: send N bytes, then stop sending for 30 s
  trickle=N    send the body N bytes a second (a too slow server)
  norange=1    ignore Range (answer 200 with the whole file)
  nolength=1   no Content-Length (the body ends when the connection closes)
  redirect=1   302 to the same URL without redirect=1
The path /__headers answers with the request's headers as its body.
"""
import http.server
import os
import socket
import sys
import threading
import time
import urllib.parse

ROOT, PORTFILE, LOGFILE = sys.argv[1:4]
counts = {}
lock = threading.Lock()


def once(key):
    """Number of earlier requests for @key (and count this one)."""
    with lock:
        n = counts.get(key, 0)
        counts[key] = n + 1
        return n


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self):
        with lock, open(LOGFILE, "a") as f:
            f.write("%s %s range=%s ua=%s\n" % (
                self.command, self.path, self.headers.get("Range", "-"),
                self.headers.get("User-Agent", "-")))

    def simple(self, status, body=b"", extra=()):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.log()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        key = self.path
        if url.path == "/__headers":
            self.simple(200, str(self.headers).encode())
            return
        if "redirect" in q:
            del q["redirect"]
            target = url.path + ("?" + urllib.parse.urlencode(q) if q else "")
            self.simple(302, extra=[("Location", target)])
            return
        if "status" in q:
            self.simple(int(q["status"]), b"error page\n")
            return
        if "fail" in q and once(key + "#fail") < int(q["fail"]):
            self.simple(500, b"try again\n")
            return
        path = os.path.join(ROOT, urllib.parse.unquote(url.path).lstrip("/"))
        try:
            with open(path, "rb") as f:
                data = f.read()
            st = os.stat(path)
        except OSError:
            self.simple(404, b"no such file\n")
            return
        size = len(data)
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and "norange" not in q and rng.startswith("bytes="):
            first = rng[6:].split("-")[0]
            start = int(first)
            if start >= size:
                self.simple(416, extra=[("Content-Range", "bytes */%d" % size)])
                return
            status = 206
        body = data[start:]
        self.send_response(status)
        self.send_header("ETag", '"%x-%x"' % (int(st.st_mtime), size))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        if "nolength" in q:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        for arg, pause in (("drop", 0), ("stall", 30)):
            if arg in q and once(key + "#" + arg) == 0:
                self.wfile.write(body[:int(q[arg])])
                self.wfile.flush()
                time.sleep(pause)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        if "trickle" in q:
            rate = int(q["trickle"])
            for i in range(0, len(body), rate):
                self.wfile.write(body[i:i + rate])
                self.wfile.flush()
                time.sleep(1)
            return
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # clients that go away mid-body are part of the tests


def main():
    server = Server(("127.0.0.1", 0), Handler)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
