"""Uploads: the type comes from the bytes, images are re-encoded without their metadata, and a
file is served only to members who may read a post that shows it."""
import io
import zlib

import pytest
from PIL import Image

from .conftest import assert_error
from .factories import make_category, make_thread

GPS_TAG = 0x8825


def png(width=40, height=30, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(side=20_000) -> bytes:
    """A tiny PNG whose header claims side × side pixels (400 megapixels)."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (side + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def multipart(data: bytes, name: str) -> bytes:
    """A multipart body in memory (the test client would spool a large one to an unclosed file)."""
    return (b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name.encode()
            + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--BOUNDARY--\r\n")


def send(client, data: bytes, name: str):
    return client.post("/api/v1/uploads", data=multipart(data, name),
                       content_type="multipart/form-data; boundary=BOUNDARY")


@pytest.fixture
def places(make):
    return make(lambda: {"public": make_category("General"), "staff": make_category("Staff lounge", True)})


def test_an_image_is_stored_with_its_size_and_shown_in_a_post_to_its_readers(people, places, make, api_as, login_as):
    member = api_as(people.member)
    answer = send(member, png(40, 30), "screenshot.png")
    assert answer.status_code == 201, answer.json
    upload = answer.json
    assert {k: upload[k] for k in ("filename", "content_type", "width", "height")} == \
        {"filename": "screenshot.png", "content_type": "image/png", "width": 40, "height": 30}
    assert upload["url"].startswith("/uploads/") and upload["size"] > 0

    outsider = login_as(people.outsider)
    assert outsider.get(upload["url"]).status_code == 404  # not in any post yet: only its uploader
    mine = login_as(people.member).get(upload["url"])
    assert mine.status_code == 200 and mine.mimetype == "image/png"

    thread = make(make_thread, people.member, places["public"])
    post = member.post(f"/api/v1/threads/{thread.id}/posts", {"body": f"Look: ![shot]({upload['url']})"}).json
    assert f'<img src="{upload["url"]}" alt="shot" width="40" height="30" loading="lazy">' in post["body_html"]
    served = outsider.get(upload["url"])
    assert served.status_code == 200 and Image.open(io.BytesIO(served.data)).size == (40, 30)
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    # The app reads it with its bearer token.
    assert api_as(people.outsider).get(upload["url"]).status_code == 200


def test_a_file_shown_only_in_a_staff_thread_stays_with_staff(people, places, make, api_as, login_as):
    moderator = api_as(people.moderator)
    upload = send(moderator, png(), "plan.png").json
    thread = make(make_thread, people.moderator, places["staff"])
    moderator.post(f"/api/v1/threads/{thread.id}/posts", {"body": f"![plan]({upload['url']})"})
    assert login_as(people.admin).get(upload["url"]).status_code == 200
    assert login_as(people.member).get(upload["url"]).status_code == 404
    assert api_as(people.member).get(upload["url"]).status_code == 404
    anonymous = login_as(people.member)
    anonymous.logout()
    refused = anonymous.get(upload["url"])  # like every page: to the sign-in form, nothing about the file
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login?next=")


def test_metadata_such_as_gps_is_stripped(people, api_as, login_as):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_TAG)  # the fixture really carries GPS
    upload = send(api_as(people.member), original, "holiday.jpg").json
    stored = Image.open(io.BytesIO(login_as(people.member).get(upload["url"]).data))
    assert stored.format == "JPEG" and stored.size == (64, 48)
    assert not stored.getexif().get_ifd(GPS_TAG) and b"SpyCam" not in login_as(people.member).get(upload["url"]).data


@pytest.mark.parametrize(("data", "name", "message"), [
    (png_bomb(), "bomb.png", "too many pixels"),
    (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg",
     "SVG images are not accepted"),
    (b"<html><script>alert(1)</script></html>", "cute-cat.png", "is not a PNG, JPEG, GIF or WebP image, or a PDF"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "broken.png", "not really the image"),
    (png()[:60], "truncated.png", "is damaged"),
    (jpeg_with_gps(), "diagram.png", "named .png but its contents are a JPG image"),
    (b"", "empty.png", "empty"),
])
def test_dangerous_or_lying_files_are_refused_with_a_clear_message(people, api_as, data, name, message):
    error = assert_error(send(api_as(people.member), data, name), 422)
    assert message in error["fields"]["file"]


def test_an_oversized_file_is_refused_and_pdfs_are_accepted(people, api_as):
    member = api_as(people.member)
    pdf = send(member, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "terms.pdf")
    assert pdf.status_code == 201 and pdf.json["content_type"] == "application/pdf" and pdf.json["width"] is None
    error = assert_error(send(member, b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "big.pdf"), 413)
    assert "at most 1 MiB" in error["message"]
    assert_error(member.post("/api/v1/uploads", data={}, content_type="multipart/form-data"), 422)


@pytest.fixture(autouse=True)
def _small_uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024 * 1024)
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(tmp_path / "uploads"))


def test_a_reply_form_without_javascript_attaches_an_image(people, places, make, login_as):
    thread = make(make_thread, people.member, places["public"])
    member = login_as(people.member)
    answer = member.post(f"/t/{thread.id}/reply", {"body": "See the screenshot",
                                                   "file": (io.BytesIO(png(20, 10)), "shot.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302
    page = member.get(f"/t/{thread.id}").get_data(as_text=True)
    assert 'alt="shot.png" width="20" height="10"' in page
    refused = member.post(f"/t/{thread.id}/reply", {"body": "x", "file": (io.BytesIO(b"<svg/>"), "x.svg")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "SVG images are not accepted" in refused.get_data(as_text=True)


def test_the_web_upload_route_answers_json_for_the_composer(people, login_as):
    member = login_as(people.member)
    ok = member.post("/uploads", {"file": (io.BytesIO(png()), "paste.png")}, content_type="multipart/form-data")
    assert ok.status_code == 201 and ok.json["markdown"] == f"![paste.png]({ok.json['url']})"
    refused = member.post("/uploads", {"file": (io.BytesIO(b"<svg/>"), "x.svg")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "SVG" in refused.json["error"]["fields"]["file"]
