"""A little webhook receiver on 127.0.0.1, as a vendor's system would run one: it verifies each
delivery with the Standard Webhooks library and answers with the statuses it is told to."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self):
        self.secret = None  # set once the webhook is created (it is shown once)
        self.received: list[dict] = []  # verified deliveries: {"headers", "body"}
        self.refused: list[str] = []  # deliveries whose signature did not verify
        self.answers: list[int] = []  # statuses to answer, in turn; then 200
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                except WebhookVerificationError as error:
                    receiver.refused.append(str(error))
                    self._answer(400, b"bad signature")
                    return
                status = receiver.answers.pop(0) if receiver.answers else 200
                with receiver.arrived:
                    receiver.received.append({"headers": headers, "body": json.loads(raw), "status": status})
                    receiver.arrived.notify_all()
                self._answer(status, b"ok thanks" if status < 300 else b"receiver is down: " + b"x" * 2000)

            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, event_type: str) -> list[dict]:
        return [d for d in self.received if d["body"]["type"] == event_type]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.of_type(event_type)) >= count, timeout)
        return self.of_type(event_type)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
