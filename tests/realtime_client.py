"""A mobile app against a live server: REST calls with its token, and a real Socket.IO client."""
import queue
import time

import requests
import socketio

from community.demo import DEMO_PASSWORD


class App:
    def __init__(self, server, email):
        self.base = server.url
        response = requests.post(f"{self.base}/api/v1/auth/login",
                                 json={"email": email, "password": DEMO_PASSWORD}, timeout=10)
        assert response.status_code == 200, response.text
        self.tokens = response.json()
        self.events: queue.Queue = queue.Queue()
        self.socket = self._new_socket()

    def _new_socket(self):
        client = socketio.Client(reconnection=False)
        client.on("*", lambda event, data: self.events.put((event, data)))
        return client

    def api(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}
        return requests.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=10, **kwargs)

    def connect(self):
        if self.socket.connected or getattr(self.socket, "_used", False):
            self.socket = self._new_socket()  # a python-socketio Client connects once
        self.socket._used = True
        self.socket.connect(self.base, auth={"token": self.tokens["access_token"]}, transports=["websocket"],
                            wait_timeout=10)
        return self

    def subscribe(self, room):
        return self.socket.call("subscribe", {"room": room}, timeout=10)

    def next_event(self, timeout=5.0, skip=("notification.created",)):
        """The next push, passing over personal notifications (which have their own tests)."""
        deadline = time.monotonic() + timeout
        while True:
            name, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if name not in skip:
                return name, data

    def no_event(self, within=1.0):
        try:
            event = self.next_event(timeout=within)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected push: {event}")

    def close(self):
        if self.socket.connected:
            self.socket.disconnect()


def thread_in(app: App, category_name: str) -> dict:
    """Start a thread through the API in the named category, muted for its starter."""
    categories = {c["name"]: c["id"] for c in app.api("GET", "/categories").json()["items"]}
    created = app.api("POST", "/threads", json={"category_id": categories[category_name],
                                                "title": f"Live {time.monotonic_ns()}", "body": "start"})
    assert created.status_code == 201, created.text
    # Its starter watches it and would hear of each reply on their own socket too (a
    # notification.created push); muted, their socket carries only what the rooms say.
    muted = app.api("PUT", f"/threads/{created.json()['id']}/subscription", json={"level": "mute"})
    assert muted.status_code == 200, muted.text
    return created.json()
