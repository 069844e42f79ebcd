"""A counting HTTP proxy on loopback, for the tests of the proxy variables
(http_proxy, no_proxy) that drivers must honour.  Python standard library
only."""

import http.server
import socketserver
import threading
import urllib.error
import urllib.request


class CountingProxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A forward HTTP proxy on loopback that counts the requests it relays
    (GET with an absolute URI only: all a plain-http monitor needs)."""

    daemon_threads = True

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                req = urllib.request.Request(self.path, headers={
                    "User-Agent": self.headers.get("User-Agent", "")})
                try:
                    with opener.open(req, timeout=30) as resp:
                        body, code = resp.read(), resp.status
                except urllib.error.HTTPError as e:
                    body, code = e.read(), e.code
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()
