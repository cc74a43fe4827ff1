"""One push to one device, through its push service's documented HTTP API.

Each sender answers DELIVERED or GONE (the service says the subscription no longer exists:
404/410, an unknown token), raises `RetryLater` for what may pass (429 and 5xx, with their
`Retry-After`; a network failure) and `GiveUp` for what will not (any other refusal).
FCM and APNs messages pass through Google and Apple: they carry ids and a generic alert only.
"""
import json
import threading
import time
from urllib.parse import urlsplit

import httpx
import jwt
import requests
from flask import current_app
from google.auth.credentials import DEFAULT_UNIVERSE_DOMAIN
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from pywebpush import WebPusher

from .. import outbound
from ..jobs import GiveUp, RetryLater
from . import keys

DELIVERED, GONE = "delivered", "gone"
# What Google and Apple may show on the lock screen: nothing from the community itself.
GENERIC_TITLE = "Roundtable"
GENERIC_BODY = "You have a new notification."
# A push service keeps an undelivered message this long for a device that is offline.
TTL_SECONDS = 24 * 3600
# FCM's API and its OAuth scope live in Google's API domain, which google-auth names.
FCM_DEFAULT_ENDPOINT = f"https://fcm.{DEFAULT_UNIVERSE_DOMAIN}"
FCM_SCOPE = f"https://www.{DEFAULT_UNIVERSE_DOMAIN}/auth/firebase.messaging"
# Apple wants a provider token renewed at least hourly, and at most every 20 minutes.
APNS_TOKEN_SECONDS = 40 * 60
_CLIENTS = "roundtable.push_clients"


def _judge(status: int, headers, service: str, gone: bool = False) -> str:
    if 200 <= status < 300:
        return DELIVERED
    if status in (404, 410) or gone:
        return GONE
    if status == 429 or status >= 500:
        raise RetryLater(f"{service} answered {status}", outbound.retry_after_seconds(headers.get("Retry-After")))
    raise GiveUp(f"{service} refused the push: {status}")


def _clients() -> dict:
    return current_app.extensions.setdefault(_CLIENTS, {"lock": threading.Lock()})


# Web Push (RFC 8030 delivery, RFC 8291 aes128gcm, RFC 8292 VAPID)


def _vapid_headers(vapid, audience: str) -> dict:
    """The signed VAPID header for one push service, made once an hour (it is valid for 12)."""
    clients = _clients()
    with clients["lock"]:
        headers, made = clients.setdefault("vapid", {}).get(audience, (None, 0.0))
        if headers is None or time.time() - made > 3600:
            claims = {"sub": current_app.config["VAPID_SUBJECT"], "aud": audience, "exp": int(time.time()) + 12 * 3600}
            headers, made = vapid.sign(claims), time.time()
            clients["vapid"][audience] = (headers, made)
        return headers


def send_webpush(subscription, payload: dict, topic: str) -> str:
    vapid = keys.vapid()
    if vapid is None:
        raise GiveUp("Web Push is off: VAPID_PRIVATE_KEY is not set")
    endpoint = urlsplit(subscription.address)
    headers = {**_vapid_headers(vapid, f"{endpoint.scheme}://{endpoint.netloc}"), "Topic": topic, "Urgency": "high"}
    pusher = WebPusher({"endpoint": subscription.address, "keys": {"p256dh": subscription.p256dh,
                                                                  "auth": subscription.auth}},
                       requests_session=outbound.session())
    try:
        response = pusher.send(json.dumps(payload), headers=headers, ttl=TTL_SECONDS, content_encoding="aes128gcm",
                               timeout=outbound.TIMEOUT)
    except outbound.OutboundRefused:
        return GONE  # its endpoint now leads into a network we never reach: it cannot be delivered
    except requests.RequestException as error:
        raise RetryLater(f"push service unreachable: {type(error).__name__}") from error
    return _judge(response.status_code, response.headers, "the push service")


# FCM HTTP v1


def _fcm():
    clients = _clients()
    with clients["lock"]:
        if "fcm" not in clients:
            credentials = service_account.Credentials.from_service_account_file(
                current_app.config["FCM_CREDENTIALS_FILE"], scopes=[FCM_SCOPE])
            clients["fcm"] = (AuthorizedSession(credentials), credentials.project_id)
        return clients["fcm"]


def fcm_message(token: str, data: dict, topic: str) -> dict:
    return {"message": {
        "token": token,
        "notification": {"title": GENERIC_TITLE, "body": GENERIC_BODY},
        "data": {name: str(value) for name, value in data.items()},  # FCM data values are strings
        "android": {"priority": "high", "collapse_key": topic, "ttl": f"{TTL_SECONDS}s"},
    }}


def send_fcm(subscription, data: dict, topic: str) -> str:
    session, project_id = _fcm()
    endpoint = current_app.config["FCM_ENDPOINT"] or FCM_DEFAULT_ENDPOINT
    url = f"{endpoint}/v1/projects/{project_id}/messages:send"
    try:
        response = session.post(url, json=fcm_message(subscription.address, data, topic), timeout=outbound.TIMEOUT)
    except (requests.RequestException, GoogleAuthError) as error:
        raise RetryLater(f"FCM unreachable: {type(error).__name__}") from error
    unregistered = response.status_code == 400 and "registration token" in response.text.lower()
    return _judge(response.status_code, response.headers, "FCM", gone=unregistered)


# APNs, token-based authentication over HTTP/2


def _apns_token(config) -> str:
    clients = _clients()
    with clients["lock"]:
        token, made = clients.get("apns_token", (None, 0.0))
        if token is None or time.time() - made > APNS_TOKEN_SECONDS:
            with open(config["APNS_KEY_FILE"], "rb") as key_file:
                key = key_file.read()
            made = time.time()
            token = jwt.encode({"iss": config["APNS_TEAM_ID"], "iat": int(made)}, key, algorithm="ES256",
                               headers={"kid": config["APNS_KEY_ID"]})
            clients["apns_token"] = (token, made)
        if "apns" not in clients:
            # APNs speaks HTTP/2 only (over TLS; h2c prior knowledge for a local endpoint).
            clients["apns"] = httpx.Client(http1=False, http2=True, timeout=httpx.Timeout(10, connect=5))
        return token


def apns_request(token: str, data: dict, topic: str, config) -> tuple[str, dict, dict]:
    headers = {"apns-topic": config["APNS_TOPIC"], "apns-push-type": "alert", "apns-priority": "10",
               "apns-collapse-id": topic, "apns-expiration": str(int(time.time()) + TTL_SECONDS)}
    body = {"aps": {"alert": {"title": GENERIC_TITLE, "body": GENERIC_BODY}, "sound": "default"}, **data}
    return f"{config['APNS_ENDPOINT']}/3/device/{token}", headers, body


def send_apns(subscription, data: dict, topic: str) -> str:
    config = current_app.config
    provider_token = _apns_token(config)
    url, headers, body = apns_request(subscription.address, data, topic, config)
    try:
        response = _clients()["apns"].post(url, json=body, headers={**headers,
                                                                    "authorization": f"bearer {provider_token}"})
    except httpx.HTTPError as error:
        raise RetryLater(f"APNs unreachable: {type(error).__name__}") from error
    reason = response.json().get("reason", "") if response.content else ""
    if response.status_code == 403 and reason == "ExpiredProviderToken":
        _clients().pop("apns_token", None)
        raise RetryLater("APNs: provider token expired", 0)
    bad_token = response.status_code == 400 and reason in ("BadDeviceToken", "DeviceTokenNotForTopic")
    return _judge(response.status_code, response.headers, f"APNs ({reason or response.status_code})", gone=bad_token)
