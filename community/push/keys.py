"""The server's VAPID key (RFC 8292): it signs every Web Push request, and browsers subscribe
with its public half. From VAPID_PRIVATE_KEY (PEM, or the path of a PEM file); the demo and the
tests make one in the instance folder. Without a key, Web Push is off."""
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app
from py_vapid import Vapid, b64urlencode

VAPID_EXTENSION = "roundtable.vapid"
DEMO_KEY_FILE = "vapid-private-key.pem"


def _demo_key(instance_path: str) -> bytes:
    path = Path(instance_path) / DEMO_KEY_FILE
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pem)
        temporary.chmod(0o600)
        os.replace(temporary, path)  # two processes starting at once both end with one valid key
    return path.read_bytes()


def load_vapid(app: Flask) -> Vapid | None:
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        pem = configured.encode() if "-----BEGIN" in configured else Path(configured).read_bytes()
    elif app.config.get("DEMO"):
        pem = _demo_key(app.instance_path)
    else:
        return None
    return Vapid.from_pem(pem)


def vapid() -> Vapid | None:
    return current_app.extensions.get(VAPID_EXTENSION)


def public_key() -> str | None:
    """Base64url of the uncompressed P-256 point: what `PushManager.subscribe` takes."""
    key = vapid()
    if key is None:
        return None
    return b64urlencode(key.public_key.public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint))


def init_push(app: Flask) -> None:
    app.extensions[VAPID_EXTENSION] = load_vapid(app)
