"""JPEG parsing without decoding: frame size and quantization tables (no exception for
anything a camera might send); the full parse on the frame shapes cameras send - what it
accepts, what it refuses - and normalized frames decoding to the same pixels with OpenCV and
with Pillow."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from camera_service.core import jpeg
from camera_service.core.jpeg import (
    DQT,
    SOF_MARKERS,
    header_segments,
    jpeg_size,
    quantization_tables_bytes,
)
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fake_cameras import uvc_frames


def make_jpeg(width, height, quality=75):
    image = np.full((height, width, 3), 128, np.uint8)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def test_jpeg_size_reads_the_frame_header_without_decoding():
    assert jpeg_size(make_jpeg(1280, 720)) == (1280, 720)
    assert jpeg_size(make_jpeg(17, 9)) == (17, 9)
    assert jpeg_size(b"not a jpeg") is None
    assert jpeg_size(b"\xff\xd8\xff\xe0\x00\x10") is None  # truncated


def test_header_segments_stop_at_the_image_data():
    markers = [marker for marker, _ in header_segments(make_jpeg(32, 16))]
    assert markers[0] == 0xE0 and DQT in markers and any(m in SOF_MARKERS for m in markers)
    assert 0xDA not in markers  # SOS ends the header


def test_quantization_tables_change_with_quality():
    low, high = make_jpeg(32, 16, 20), make_jpeg(32, 16, 95)
    assert quantization_tables_bytes(low) != quantization_tables_bytes(high)
    assert len(quantization_tables_bytes(low)) == 2 * 65  # luma + chroma, 8-bit
    assert quantization_tables_bytes(b"\xff\xd8\xff\xd9") is None


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(data):
    for candidate in (data, b"\xff\xd8" + data):
        jpeg_size(candidate)
        quantization_tables_bytes(candidate)
        list(header_segments(candidate))


def _image(width=160, height=96):
    """A textured test image (noise plus gradients: many 0xFF bytes in the coded data)."""
    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.integers(0, 80, (height, width, 3)).astype(np.float32)
    return np.clip(ramp + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def camera_jpeg():
    return uvc_frames.encode(_image(), quality=90)


def _cv2(data):
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _pillow(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes every scan; raises on damaged data
        return np.asarray(image.convert("RGB"))[:, :, ::-1]


def test_a_well_formed_jpeg_parses_and_stays_the_same_object(camera_jpeg):
    layout = jpeg.parse(camera_jpeg)
    assert (layout.width, layout.height, layout.components) == (160, 96, 3)
    assert layout.has_dht and not layout.needs_tables and layout.app0 == b"JFIF"
    assert layout.end == len(camera_jpeg)
    assert jpeg.normalized(camera_jpeg, layout) is camera_jpeg


def test_standard_tables_are_the_ones_libjpeg_writes(camera_jpeg):
    written = [camera_jpeg[start + 4:end]
               for marker, start, end in jpeg.segment_spans(camera_jpeg)
               if marker == 0xC4]
    assert b"".join(written) == jpeg.STANDARD_DHT[4:]
    assert int.from_bytes(jpeg.STANDARD_DHT[2:4], "big") == len(jpeg.STANDARD_DHT) - 2


@pytest.mark.parametrize("quirk", ["no_dht", "avi1", "padding"])
def test_served_quirks_normalize_to_frames_both_decoders_read_identically(camera_jpeg, quirk):
    sent = uvc_frames.uvc_frame(camera_jpeg, quirk)
    layout = jpeg.parse(sent)
    fixed = jpeg.normalized(sent, layout)
    again = jpeg.parse(fixed)
    assert again.has_dht and again.end == len(fixed)
    assert again.app0 == (b"AVI1" if quirk == "avi1" else b"JFIF")
    reference = _cv2(camera_jpeg)
    assert np.array_equal(_cv2(fixed), reference)
    assert np.abs(_pillow(fixed).astype(int) - reference).max() <= 1  # IDCT rounding


def test_no_dht_gets_the_tables_inserted_before_the_scan(camera_jpeg):
    sent = uvc_frames.uvc_frame(camera_jpeg, "no_dht")
    layout = jpeg.parse(sent)
    assert layout.needs_tables and not layout.has_dht
    fixed = jpeg.normalized(sent, layout)
    assert fixed == sent[:layout.first_scan] + jpeg.STANDARD_DHT + sent[layout.first_scan:]


def test_padding_after_the_end_marker_is_cut_to_the_original_bytes(camera_jpeg):
    sent = uvc_frames.uvc_frame(camera_jpeg, "padding")
    assert jpeg.normalized(sent, jpeg.parse(sent)) == camera_jpeg


@pytest.mark.parametrize("quirk, kind, words", [
    ("truncated", "truncated", "no end-of-image"),
    ("corrupt", "corrupt", "inside the image data"),
    ("no_soi", "corrupt", "no start-of-image"),
])
def test_damaged_frames_are_refused_with_their_kind(camera_jpeg, quirk, kind, words):
    with pytest.raises(jpeg.JpegError, match=words) as caught:
        jpeg.parse(uvc_frames.uvc_frame(camera_jpeg, quirk))
    assert caught.value.kind == kind


@pytest.mark.parametrize("cut", [3, 20, 200, 620])
def test_a_frame_cut_inside_its_header_is_truncated(camera_jpeg, cut):
    with pytest.raises(jpeg.JpegError) as caught:
        jpeg.parse(camera_jpeg[:cut])
    assert caught.value.kind == "truncated"


@pytest.mark.parametrize("bad, words", [
    (lambda j: j[:2] + b"\xff\xd9" + j[2:], "before any scan"),
    (lambda j: j[:2] + b"\xff\xd8" + j[2:], "second start-of-image"),
    (lambda j: j[:2] + b"\x00" + j[3:], "no marker"),
    (lambda j: j[:4] + b"\x00\x01" + j[6:], "has length 1"),
    (lambda j: uvc_frames.with_declared_size(j, 0, 96), "declares 0x96"),
])
def test_bad_markers_and_headers_are_corrupt(camera_jpeg, bad, words):
    with pytest.raises(jpeg.JpegError, match=words) as caught:
        jpeg.parse(bad(camera_jpeg))
    assert caught.value.kind == "corrupt"


def test_a_scan_before_any_frame_header_is_corrupt(camera_jpeg):
    segments = list(jpeg.segment_spans(camera_jpeg))
    _, sof_start, sof_end = next(s for s in segments if s[0] == 0xC0)
    with pytest.raises(jpeg.JpegError, match="scan before any frame header"):
        jpeg.parse(camera_jpeg[:sof_start] + camera_jpeg[sof_end:])


@pytest.mark.parametrize("encoder", ["progressive", "restart_markers", "grey", "exif"])
def test_valid_jpegs_of_other_shapes_are_accepted_untouched(encoder):
    image = _image(96, 64)
    if encoder == "restart_markers":
        data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_RST_INTERVAL, 2])[1].tobytes()
    elif encoder == "grey":
        data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))[1].tobytes()
    else:
        out = io.BytesIO()
        exif = Image.Exif()
        exif[0x010F] = "camera maker"
        Image.fromarray(image).save(out, "JPEG", progressive=encoder == "progressive",
                                    optimize=True, exif=exif.tobytes())
        data = out.getvalue()
    layout = jpeg.parse(data)
    assert (layout.width, layout.height) == (96, 64)
    assert layout.components == (1 if encoder == "grey" else 3)
    assert jpeg.normalized(data, layout) is data


def test_jpeg_size_reads_the_header_of_damaged_or_lying_frames(camera_jpeg):
    assert jpeg.jpeg_size(uvc_frames.uvc_frame(camera_jpeg, "truncated")) == (160, 96)
    assert jpeg.jpeg_size(uvc_frames.with_declared_size(camera_jpeg, 30000, 20000)) == (
        30000, 20000)


@given(st.binary(max_size=64))
def test_parse_refuses_arbitrary_bytes_with_a_jpeg_error_only(data):
    for candidate in (data, b"\xff\xd8" + data):
        try:
            jpeg.parse(candidate)
        except jpeg.JpegError as err:
            assert err.kind in ("truncated", "corrupt")


def _first_marker_by_hand(data: bytes, start: int, stop: int) -> int:
    """The rule, byte by byte: 0xFF followed (inside ``data[start:stop]``) by a byte other
    than 0x00, RST0-7 or 0xFF."""
    for at in range(start, stop - 1):
        if data[at] == 0xFF and not (data[at + 1] in (0x00, 0xFF) or
                                     0xD0 <= data[at + 1] <= 0xD7):
            return at
    return -1


# scan-like bytes: mostly ordinary, with 0xFF and the bytes that may or may not follow it
_SCAN_BYTES = st.lists(st.one_of(st.integers(0, 0xFE), st.sampled_from(
    [0xFF, 0x00, 0xD0, 0xD7, 0xD8, 0xD9, 0xC4, 0xDA, 0xFE])), max_size=300).map(bytes)


@given(_SCAN_BYTES, st.integers(0, 20), st.integers(0, 20))
def test_the_vectorized_marker_search_follows_the_rule(data, cut_start, cut_end):
    start, stop = min(cut_start, len(data)), max(0, len(data) - cut_end)
    assert jpeg.first_marker_in_scan(data, start, stop) == \
        _first_marker_by_hand(data, start, stop)
