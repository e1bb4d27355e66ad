"""An app whose logout answers 200 and ends nothing: the session stays on the server, so the
cookie held before the logout still opens it. The sessions live in memory; everything else
follows the harness's default contract. For the test that the resurrected-session check fails
such an app. Python's standard library only."""

import json
import secrets

from session_server import SessionHandler, serve, sessions


class Handler(SessionHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self.answer(200, b"ok")
        if self.path == "/session":
            sid = self.session()
            if sid is None:
                return self.answer(401, b"{}")
            return self.answer(200, json.dumps(sessions[sid]).encode())
        return self.answer(404, b"")

    def do_POST(self):
        body = self.body()
        if self.path == "/login":
            sid = secrets.token_hex(8)
            sessions[sid] = {"user": body.get("user"), "items": []}
            return self.answer(200, b"{}", [("Set-Cookie", f"sid={sid}; Path=/")])
        if self.path == "/session/items":
            sid = self.session()
            if sid is None:
                return self.answer(401, b"{}")
            sessions[sid]["items"].append(body.get("value"))
            return self.answer(200, json.dumps({"version": len(sessions[sid]["items"])}).encode())
        if self.path == "/logout":
            # The bug: the cookie is expired in the browser, the session is left on the server.
            return self.answer(200, b"{}", [("Set-Cookie", "sid=; Path=/; Max-Age=0")])
        return self.answer(404, b"")


serve(Handler)
