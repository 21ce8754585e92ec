"""The benchmark's re-encode-every-request baseline (bench.baseline)."""

from __future__ import annotations

import cv2
from camera_service.capture.frame_store import FrameStore
from camera_service.config.model import from_mapping
from camera_service.core.jpeg_quality import estimate_quality
from camera_service.encoding.encoder import OutputSpec, is_passthrough
from camera_service.encoding.output_cache import OutputCache
from camera_service.sources.base import Frame
from camera_service.sources.synthetic import render_test_pattern

from bench.baseline import BaselineService, ReencodeEveryRequest

SPEC = OutputSpec("jpeg", "rgb", 75, 64, 48)


def test_baseline_encodes_every_request():
    cache = ReencodeEveryRequest()
    stored = FrameStore().put("cam", Frame(1, 1.0, 64, 48,
                                           pixels=render_test_pattern(64, 48, 1, 1.0)))
    for _ in range(4):
        cache.get(stored, SPEC)
    assert cache.encodes == 4 and cache.stats()["hits"] == 0


def test_baseline_re_encodes_even_a_camera_jpeg_it_could_pass_through():
    pixels = render_test_pattern(64, 48, 1, 1.0)
    jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes()
    stored = FrameStore().put("cam", Frame(1, 1.0, 64, 48, jpeg=jpeg, jpeg_quality=75))
    own = OutputSpec("jpeg", "rgb", 0, 64, 48)  # the camera's own bytes
    assert OutputCache().get(stored, own).data is jpeg  # shipped: the camera's bytes
    baseline = ReencodeEveryRequest()
    assert is_passthrough(stored.frame, own)
    image = baseline.get(stored, own)
    assert not image.passthrough and image.data[:2] == b"\xff\xd8"
    assert image.spec == own
    assert estimate_quality(image.data).quality == 75  # re-encoded at the camera's quality
    assert baseline.encodes == 1 and baseline.passthroughs == 0


def test_baseline_service_is_the_service_with_the_baseline_cache():
    config = from_mapping({"sources": [{"name": "cam", "type": "synthetic"}]})
    service = BaselineService(config)
    assert isinstance(service.cache, ReencodeEveryRequest)
    assert service.servicer.cache is service.cache  # what GetImage encodes with
    assert [c.name for c in service.captures] == ["cam"]
    assert [c.jpeg_passthrough for c in service.captures] == ["never"]


def test_baseline_builds_every_response_anew():
    cache = ReencodeEveryRequest()
    stored = FrameStore().put("cam", Frame(1, 1.0, 64, 48,
                                           pixels=render_test_pattern(64, 48, 1, 1.0)))
    built = [cache.served(stored, SPEC, "v", lambda image: image.data) for _ in range(3)]
    assert cache.encodes == 3 and len({id(b) for b in built}) == 3
