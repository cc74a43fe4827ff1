"""Codes people read aloud or type from a screen: event check-in codes and personal badge codes.

Drawn from letters and digits nobody confuses (no 0/O, 1/I/L), read in any case, with spaces
and dashes ignored, so "k7m2-9qwx" typed on a phone is the code printed as "K7M2 9QWX".
"""
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters: 10 of them carry ~50 bits
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """What the person meant: upper case, without the spaces and dashes that help reading it."""
    return "".join(typed.split()).replace("-", "").upper()


def same_code(typed: str, code: str) -> bool:
    """Whether `typed` is `code`, in any case, in constant time."""
    return hmac.compare_digest(normalize_code(typed).encode(), normalize_code(code).encode())


def shown(code: str) -> str:
    """A code as printed: groups of four or five, easier to read and type."""
    half = (len(code) + 1) // 2
    return f"{code[:half]} {code[half:]}"
