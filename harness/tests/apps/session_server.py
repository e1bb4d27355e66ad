"""What the test apps of this folder share: an HTTP/1.1 handler that answers with a body and
headers, finds the session a request's `sid` cookie names among the sessions kept in memory, and
reads a JSON body; and serving a handler on the port the harness gives. Python's standard
library only."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sessions = {}


class SessionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def session(self):
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "sid" and value in sessions:
                return value
        return None

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"{}")


def serve(handler):
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["FAILOVER_DRILL_PORT"])), handler).serve_forever()
