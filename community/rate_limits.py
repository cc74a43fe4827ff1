"""Rate limits shared by every entry point (DESIGN.md: login about 10 a minute per IP and
per account; posting, voting, flagging and check-in per user and per IP)."""
from flask import request

from . import json_input
from .extensions import limiter

LOGIN = "10/minute"
WRITE = "30/minute"
VOTE = "60/minute"
FLAG = "10/minute"
CHECKIN = "30/minute"
# The composer previews as one pauses typing.
PREVIEW = "120/minute"


def _account_named() -> str:
    """The account a password sign-in names: the web form's `email`, or the API body's."""
    email = (json_input.request_object() if request.is_json else request.form).get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def _refused(response) -> bool:
    return response.status_code == 401


# Every way in draws on the same two buckets, whichever door (web form, API, single sign-on):
# tries per address, and wrong passwords per account, so an account takes 10 guesses a minute
# in all. A right password costs the account nothing, but waits like the rest once it is used up.
def sign_in_per_address(method: str = "POST"):
    """Count a door's sign-in requests (`method`: the one that signs in) per client address."""
    return limiter.shared_limit(LOGIN, scope="sign-in-address", methods=[method])


password_guesses_per_account = limiter.shared_limit(LOGIN, scope="sign-in-account", key_func=_account_named,
                                                    methods=["POST"], deduct_when=_refused)
