"""Interop: the official JavaScript socket.io-client, run by Node, against the real server."""
import json
import shutil
import subprocess
import time
from pathlib import Path

from .conftest import require_service
from .realtime_client import App, thread_in

JS = Path(__file__).parent / "js"


def _node_ready() -> bool:
    return shutil.which("node") is not None and (JS / "node_modules" / "socket.io-client").is_dir()


def test_the_javascript_client_subscribes_and_receives_pushes(realtime_server):
    require_service(_node_ready(), "Node with tests/js/node_modules (npm ci --prefix tests/js)")
    alice, bob = App(realtime_server, "alice@acme.test"), App(realtime_server, "bob@globex.test")
    thread = thread_in(alice, "General")
    with subprocess.Popen(["node", str(JS / "listen.mjs"), realtime_server.url, alice.tokens["access_token"],
                           f"thread:{thread['id']}", "1"], stdout=subprocess.PIPE, text=True) as listener:
        assert json.loads(listener.stdout.readline()) == {"ack": {"ok": True}}
        time.sleep(0.2)
        reply = bob.api("POST", f"/threads/{thread['id']}/posts", json={"body": "hello node"}).json()
        line = json.loads(listener.stdout.readline())
        assert listener.wait(timeout=20) == 0
    assert line["event"] == "post.created"
    assert line["payload"]["post"]["id"] == reply["id"] and line["payload"]["room"] == f"thread:{thread['id']}"


def test_the_javascript_client_is_refused_without_a_valid_token(realtime_server):
    require_service(_node_ready(), "Node with tests/js/node_modules (npm ci --prefix tests/js)")
    result = subprocess.run(["node", str(JS / "listen.mjs"), realtime_server.url, "not-a-token", "thread:1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert json.loads(result.stdout.splitlines()[0]) == {"connect_error": "unauthorized"}
