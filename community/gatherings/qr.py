"""QR codes of events: what they carry and how they are drawn (on the server: no script, no CDN).

Neutral ground: the web pages and the API both use it.
"""
import io

import segno
from flask import url_for


def checkin_qr_payload(event_id: int, code: str) -> str:
    """What the check-in QR code carries: the event page with the code filled in. A phone's
    camera opens it; the app reads `code` from it (the API also accepts the whole URL as the code)."""
    return url_for("gatherings.event", event_id=event_id, code=code, _external=True)


def qr_svg(payload: str) -> str:
    """An SVG drawing of a QR code carrying `payload`."""
    svg = io.BytesIO()
    # Never a Micro QR (segno picks one for short codes): most phone cameras cannot read them.
    segno.make(payload, error="m", micro=False).save(svg, kind="svg", scale=8, border=4)
    return svg.getvalue().decode()
