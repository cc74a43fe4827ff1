"""The few domain exceptions every entry point (web, API, sockets, CLI) maps once."""


class DomainError(Exception):
    """`status` is the HTTP status every entry point answers with."""

    code = "error"
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, code: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code:
            self.code = code


class NotFound(DomainError):
    """Missing, or not visible to the actor: both look exactly the same."""

    code = "not_found"
    status = 404
    default_message = "Not found."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do that."


class Conflict(DomainError):
    """The current state forbids the action (locked thread, used invitation...)."""

    code = "conflict"
    status = 409
    default_message = "That is not possible in the current state."


class AuthenticationFailed(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = "Invalid email or password."


class Unavailable(DomainError):
    """A service the action needs (the sign-in provider) does not answer."""

    code = "unavailable"
    status = 503
    default_message = "A service this needs does not answer. Try again in a moment."


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422
    default_message = "Some fields are not valid."

    def __init__(self, fields: dict[str, str], message: str | None = None):
        super().__init__(message)
        self.fields = fields


def check_fields(**checks) -> dict:
    """Run every `name=(check, value)` and report all failures at once, not the first only."""
    values, failures = {}, {}
    for name, (check, value) in checks.items():
        try:
            values[name] = check(value)
        except ValidationFailed as error:
            failures.update(error.fields)
    if failures:
        raise ValidationFailed(failures)
    return values


class Gone(DomainError):
    """It existed, and its time is over (an export past its download period)."""

    code = "gone"
    status = 410
    default_message = "This is no longer available."


class TooLarge(DomainError):
    """What was sent is larger than allowed (an upload over UPLOAD_MAX_BYTES)."""

    status = 413
    code = "payload_too_large"
