"""The OpenID Connect relying party: Authlib speaks to the provider and checks its ID tokens.

Discovery runs once per process from `OIDC_ISSUER`; the provider's JWKS is kept with it and
fetched again only when a token names a key (`kid`) it does not hold, so a provider that rotates
its keys is followed without a restart. Who may get in is not decided here but in `sso`.
"""
import hashlib
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app
from joserfc.errors import InvalidClaimError, JoseError

from ..errors import AuthenticationFailed, Unavailable

_CLIENT = "roundtable.oidc_client"
# Every call to the provider gives up after this long, so a slow provider cannot hold workers.
PROVIDER_TIMEOUT_SECONDS = 10


def init_app(app: Flask) -> None:
    if not app.config["OIDC_ISSUER"]:
        return
    registry = OAuth(app)
    app.extensions[_CLIENT] = registry.register(
        "sso",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "timeout": PROVIDER_TIMEOUT_SECONDS},
    )


def is_enabled() -> bool:
    return _CLIENT in current_app.extensions


def provider_origin(app: Flask) -> str | None:
    """Where sign-in and sign-out send the browser (pages allow forms to lead there)."""
    issuer = app.config["OIDC_ISSUER"]
    if not issuer:
        return None
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}"


def client():
    return current_app.extensions[_CLIENT]


@contextmanager
def _unreachable_is_unavailable():
    """The provider not answering is a 503 for the person signing in, not a 500."""
    try:
        yield
    except requests.RequestException as error:
        current_app.logger.warning("OpenID provider unreachable: %s", error)
        raise Unavailable("The sign-in provider does not answer. Try again in a moment.") from None


def _claims_options(audiences: list[str]) -> dict:
    issuer = client().load_server_metadata()["issuer"]
    return {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "values": audiences},
            "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True}}


def authorize_redirect(redirect_uri: str, ask_again: bool = False):
    """The redirect to the provider's sign-in; Authlib keeps state, nonce and the PKCE verifier
    in the session for `finish_authorization`. `ask_again` makes the provider ask who is signing
    in even when it has a session, so a person can switch accounts."""
    with _unreachable_is_unavailable():
        return client().authorize_redirect(redirect_uri, **({"prompt": "login"} if ask_again else {}))


def finish_authorization() -> tuple[dict, str]:
    """The verified claims of the person coming back from the provider, and their ID token
    (for RP-initiated sign-out). Checks state, the code exchange with the PKCE verifier, and the
    ID token's signature, issuer, audience (this client), expiry and nonce."""
    with _unreachable_is_unavailable():
        try:
            token = client().authorize_access_token(
                claims_options=_claims_options([current_app.config["OIDC_CLIENT_ID"]]),
                leeway=current_app.config["OIDC_LEEWAY_SECONDS"])
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise AuthenticationFailed("The provider sent no ID token.", code="invalid_id_token")
            if "email" not in claims:  # providers that keep profile claims for the userinfo endpoint
                extra = client().userinfo(token=token)
                if extra.get("sub") == claims["sub"]:
                    claims.update({key: value for key, value in extra.items() if key not in claims})
        except (OAuthError, JoseError, ValueError) as error:
            raise AuthenticationFailed(f"Signing in with the provider did not complete ({_reason(error)}). "
                                       "Try again.", code="sso_failed") from None
    return claims, token["id_token"]


class _AppIDToken(CodeIDToken):
    """An ID token an app obtained itself: it may be issued to any of the accepted clients."""

    def validate_azp(self):
        azp = self.get("azp")
        if azp is not None and azp not in self.options["aud"]["values"]:
            raise InvalidClaimError("azp")


def check_app_id_token(id_token: str) -> dict:
    """The claims of an ID token an app got from the provider, once its signature (by a key of
    the provider's JWKS; never `alg: none`), issuer, audience (`OIDC_CLIENT_ID` or one of
    `OIDC_MOBILE_CLIENT_IDS`) and expiry are checked. Whether it was used before is the
    caller's to check, by `token_digest`."""
    audiences = [current_app.config["OIDC_CLIENT_ID"], *current_app.config["OIDC_MOBILE_CLIENT_IDS"]]
    with _unreachable_is_unavailable():
        try:
            return dict(client().parse_id_token({"id_token": id_token}, nonce=None, claims_cls=_AppIDToken,
                                                claims_options=_claims_options(audiences),
                                                leeway=current_app.config["OIDC_LEEWAY_SECONDS"]))
        except (JoseError, ValueError) as error:
            raise AuthenticationFailed(f"The ID token is not valid: {_reason(error)}.",
                                       code="invalid_id_token") from None


def token_digest(id_token: str) -> str:
    return hashlib.sha256(id_token.encode()).hexdigest()


def expires_at(claims: dict) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


def logout_url(id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session address (RP-initiated logout), if it offers one."""
    with _unreachable_is_unavailable():
        if not client().load_server_metadata().get("end_session_endpoint"):
            return None
        return client().create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token,
                                          client_id=current_app.config["OIDC_CLIENT_ID"])["url"]


def _reason(error: Exception) -> str:
    description = getattr(error, "description", None) or str(error) or type(error).__name__
    return description.removeprefix("invalid_claim: ").rstrip(".")
