"""Test doubles of push services on 127.0.0.1 that record what they receive: a Web Push
service (HTTP/1.1), FCM's OAuth token endpoint and messages:send, and APNs over HTTP/2 (h2c)."""
import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hypercorn.asyncio import serve
from hypercorn.config import Config


class Received:
    def __init__(self, path, headers, body, http_version="1.1"):
        self.path, self.headers, self.body, self.http_version = path, headers, body, http_version

    def json(self):
        return json.loads(self.body)


class PushService:
    """Answers each POST with the next of `answers` (status, headers, body), then 201."""

    def __init__(self):
        self.received: list[Received] = []
        self.answers: list[tuple[int, dict, bytes]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, headers, answer = service.answer(self.path, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, body):
        return self.answers.pop(0) if self.answers else (201, {}, b"")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Http2Service:
    """An ASGI app under Hypercorn on 127.0.0.1, speaking HTTP/2 with prior knowledge (h2c)."""

    def __init__(self, port: int):
        self.received: list[Received] = []
        self.answers: list[tuple[int, dict, bytes]] = []
        self.url = f"http://127.0.0.1:{port}"
        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.accesslog = config.errorlog = None
        self._stop = None
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def main():
            self._stop = asyncio.Event()
            started.set()
            await serve(self._app, config, shutdown_trigger=self._stop.wait)

        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(main(),), daemon=True)
        self._thread.start()
        started.wait(5)

    async def _app(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.received.append(Received(scope["path"], headers, body, scope["http_version"]))
        status, answer_headers, answer = self.answers.pop(0) if self.answers else (200, {}, b"")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in answer_headers.items()]})
        await send({"type": "http.response.body", "body": answer})

    def stop(self):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
        self._loop.close()
