"""An app whose answers are malformed on purpose, for the harness's hostile-input test. Now and
then it answers a read with a body of several megabytes, with bytes that are not UTF-8, or with
escape sequences and forged report lines in its JSON; it sets cookies holding a control character
or an encoded line break, and its errors carry escape sequences. Sessions live in memory: the
store is not what is drilled here, the harness's reading of answers is. Python's standard library
only."""

import json
import secrets
import threading

from session_server import SessionHandler, serve, sessions

FORGED = "\x1b[2J\x1b[31mproblem: forged line\n[ok  ] every expectation held"

counter = {"reads": 0, "logins": 0}
lock = threading.Lock()


def tick(name):
    with lock:
        counter[name] += 1
        return counter[name]


class Handler(SessionHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self.answer(200, b"ok")
        if self.path == "/metrics":
            return self.answer(200, b"")
        if self.path != "/session":
            return self.answer(404, b"")
        sid = self.session()
        if sid is None:
            return self.answer(401, FORGED.encode())
        session = sessions[sid]
        mode = tick("reads") % 6
        if mode == 1:
            huge = b'{"user": "' + b"x" * (4 << 20) + b'", "items": []}'
            return self.answer(200, huge)
        if mode == 2:
            return self.answer(200, b'\xff\xfe{"user": "\xc3\x28", "items": ["\x80"]}')
        if mode == 3:
            forged = {"user": session["user"] + FORGED, "items": session["items"] + [FORGED]}
            return self.answer(200, json.dumps(forged).encode())
        return self.answer(200, json.dumps(session).encode())

    def do_POST(self):
        body = self.body()
        if self.path == "/login":
            sid = secrets.token_hex(8)
            sessions[sid] = {"user": body.get("user"), "items": []}
            headers = [("Set-Cookie", f"sid={sid}; Path=/")]
            mode = tick("logins") % 3
            if mode == 1:
                headers.append(("Set-Cookie", "odd=a\x01b; Path=/"))
            if mode == 2:
                headers.append(("Set-Cookie", "odd=a%0D%0Aproblem:%20forged; Path=/"))
            return self.answer(200, b"{}", headers)
        if self.path == "/session/items":
            sid = self.session()
            if sid is None:
                return self.answer(401, FORGED.encode())
            sessions[sid]["items"].append(body.get("value"))
            return self.answer(200, json.dumps({"version": len(sessions[sid]["items"])}).encode())
        return self.answer(404, b"")


serve(Handler)
