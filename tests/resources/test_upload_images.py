"""Images shared through the real form are re-encoded in the bounded child process: their
metadata, and whatever is hidden after the image, is dropped; images over the pixel cap are
refused; up to 25 megapixels are accepted without the web process decoding them; and an image
that cannot be re-encoded is refused beside its field, leaving no trace."""

from __future__ import annotations

import io
import resource as resource_usage
import sys
import tracemalloc

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.resources.conftest import image_bytes
from tests.resources.upload_helpers import (
    TITLE,
    assert_no_trace,
    field_error,
    form,
    share,
    stored_files,
)


def test_images_are_reencoded_without_metadata(signed_in, app, qms):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0110] = "Secret ward camera"  # Model
    original = image_bytes("JPEG", exif=exif.tobytes())
    assert b"Camera maker" in original
    resource = share(signed_in, qms, content=original, filename="run chart.jpg", type="other")
    [path] = stored_files(app)
    stored = path.read_bytes()
    assert b"Camera maker" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (8, 6)
        assert not image.getexif()
    assert resource.current_version.mime == "image/jpeg"


def test_a_png_loses_its_text_and_what_is_hidden_after_it(signed_in, app, qms):
    text = PngInfo()
    text.add_text("Comment", "Ward 7 patient list")
    original = image_bytes("PNG", pnginfo=text) + b"hidden after the image"
    share(signed_in, qms, content=original, filename="run chart.png", type="other")
    [path] = stored_files(app)
    stored = path.read_bytes()
    assert b"Ward 7" not in stored and b"hidden after" not in stored
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (8, 6) and "Comment" not in image.info


def test_images_over_the_pixel_cap_are_refused(signed_in, app, qms, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 1000)
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=image_bytes("PNG", size=(40, 30)), filename="chart.png"),
        content_type="multipart/form-data",
    )
    assert "40 × 30 pixels" in field_error(response.get_data(as_text=True), "file")
    assert_no_trace(app)


def test_images_up_to_25_megapixels_are_accepted_without_the_web_process_decoding_them(
    signed_in, app, qms
):
    """A 24-megapixel camera's photo fits with room to spare. The pixels are decoded and written
    again in the bounded child process: that child does the work (its CPU time is counted), and
    the web process holds no copy of them (a 5,000 × 5,000 RGB image is 75 MB; tracemalloc sees
    Python's copies, not Pillow's own buffers, hence the CPU time as well)."""
    too_large = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=image_bytes("PNG", size=(5001, 5000)), filename="driver diagram.png"),
        content_type="multipart/form-data",
    )
    assert field_error(too_large.get_data(as_text=True), "file") == (
        "The image must be 25 megapixels or fewer (this one is 5,001 × 5,000 pixels)"
    )
    assert_no_trace(app)

    content = image_bytes("PNG", size=(5000, 5000))
    children = resource_usage.getrusage(resource_usage.RUSAGE_CHILDREN)
    tracemalloc.start()
    try:
        resource = share(signed_in, qms, content=content, filename="driver diagram.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"the web process held {peak / 2**20:.0f} MB"
    after = resource_usage.getrusage(resource_usage.RUSAGE_CHILDREN)
    # Decoding and encoding 25 million pixels takes a child at least a tenth of a second of CPU.
    assert (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime) > 0.1
    assert resource.current_version.mime == "image/png"
    [path] = stored_files(app)
    with Image.open(path) as image:
        assert image.size == (5000, 5000)


@pytest.mark.parametrize(
    ("trouble", "message", "logged"),
    [
        # it takes longer than it may
        ({"UPLOAD_IMAGE_TIMEOUT": 0.001},
         "The image took too long to process. Save it at a smaller size and upload the copy",
         "took over 0.001s: stopped"),
        # its child process cannot be started: no interpreter where it should be
        ({"executable": "/nonexistent/python3"},
         "The image could not be processed just now. Try again in a few minutes",
         "could not start"),
    ],
)  # fmt: skip
def test_an_image_that_cannot_be_re_encoded_is_refused_beside_the_field(
    signed_in, app, qms, monkeypatch, caplog, trouble, message, logged
):
    if "executable" in trouble:
        monkeypatch.setattr(sys, "executable", trouble["executable"])
    else:
        monkeypatch.setitem(app.config, "UPLOAD_IMAGE_TIMEOUT", trouble["UPLOAD_IMAGE_TIMEOUT"])
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=image_bytes("PNG"), filename="chart.png"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_error(page, "file") == message
    assert f'value="{TITLE}"' in page
    assert logged in caplog.text
    assert_no_trace(app)
