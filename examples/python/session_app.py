"""A Python web app whose sessions live in Redis behind Sentinel, drilled by failover-drill.

Standard library HTTP server plus redis-py (`pip install redis`). It keeps a shopping cart in a
session named by an `sid` cookie and answers four test-only routes in the shape its scenario's
`[app.contract]` declares (examples/python/python-kill-master.toml):

    POST /test/login  {"username": "..."}   starts a session
    POST /test/cart   {"sku": "..."}        appends to the cart
    GET  /test/cart                         {"username": "...", "cart": [...]}
    POST /test/logout                       deletes the session from Redis

What makes it survive a failover is `with_retry`: a store error is retried, with the master found
again through Sentinel, until a deadline, instead of reaching the user.
"""

import json
import os
import secrets
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from redis.sentinel import Sentinel

RETRY_DEADLINE_S = 8.0
# How long an unused session lives; a drill that checks expiry sets it short.
SESSION_TTL_S = int(os.environ.get("FAILOVER_DRILL_SESSION_TTL", "3600"))

password = os.environ.get("FAILOVER_DRILL_REDIS_PASSWORD") or None
sentinels = [
    (host, int(port))
    for host, port in (a.rsplit(":", 1) for a in os.environ["FAILOVER_DRILL_SENTINELS"].split(","))
]
sentinel = Sentinel(
    sentinels,
    socket_timeout=0.5,
    sentinel_kwargs={"password": password, "socket_timeout": 0.5},
)
master = sentinel.master_for(
    os.environ["FAILOVER_DRILL_MASTER_NAME"],
    password=password,
    socket_timeout=1.0,
    socket_connect_timeout=0.5,
)


def with_retry(call):
    """Runs `call` until it succeeds or the deadline passes; redis-py asks Sentinel for the
    master again on every new connection, so a retry after a failover reaches the new one."""
    deadline = time.monotonic() + RETRY_DEADLINE_S
    pause = 0.05
    while True:
        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, redis.BusyLoadingError):
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, cookie=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if cookie == "":
            self.send_header("Set-Cookie", "sid=; Path=/; HttpOnly; Max-Age=0")
        elif cookie:
            self.send_header("Set-Cookie", f"sid={cookie}; Path=/; HttpOnly")
        self.end_headers()
        self.wfile.write(data)

    def session_id(self):
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "sid":
                return value
        return None

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def load(self, sid):
        raw = with_retry(lambda: master.get(f"sess:{sid}")) if sid else None
        return json.loads(raw) if raw else None

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, "ok")
        if self.path != "/test/cart":
            return self.reply(404, {"error": "no such route"})
        try:
            session = self.load(self.session_id())
        except redis.RedisError as e:
            return self.reply(503, {"error": f"session store unavailable: {e}"})
        if session is None:
            return self.reply(401, {"error": "log in again"})
        self.reply(200, session)

    def do_POST(self):
        try:
            if self.path == "/test/login":
                sid = secrets.token_hex(16)
                session = {"username": self.body()["username"], "cart": []}
                with_retry(lambda: master.set(f"sess:{sid}", json.dumps(session), ex=SESSION_TTL_S))
                return self.reply(200, {}, cookie=sid)
            if self.path == "/test/cart":
                sid = self.session_id()
                session = self.load(sid)
                if session is None:
                    return self.reply(401, {"error": "log in again"})
                session["cart"].append(self.body()["sku"])
                with_retry(lambda: master.set(f"sess:{sid}", json.dumps(session), ex=SESSION_TTL_S))
                return self.reply(200, {"cart_size": len(session["cart"])})
            if self.path == "/test/logout":
                # The session ends on the server, not only in the browser: the old cookie must
                # not open it again.
                sid = self.session_id()
                if sid:
                    with_retry(lambda: master.delete(f"sess:{sid}"))
                return self.reply(200, {}, cookie="")
            return self.reply(404, {"error": "no such route"})
        except redis.RedisError as e:
            return self.reply(503, {"error": f"session store unavailable: {e}"})


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: twenty users logging in at once overflow it, and
    # a dropped connection attempt is sent again only a second later.
    request_queue_size = 128
    daemon_threads = True


host, port = os.environ["FAILOVER_DRILL_LISTEN"].rsplit(":", 1)
Server((host, int(port)), Handler).serve_forever()
