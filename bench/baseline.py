"""The benchmark's baseline: the camera service re-encoding every request, as the SDK's
``custom_parameter_image_server`` example does.

``ReencodeEveryRequest`` stands in for the service's encode-once ``OutputCache``: same
interface and counters, but every ``get`` decodes and encodes again, even a camera JPEG the
service would pass through, and every response is built and serialized anew (``served``).
``BaselineService`` is the shipped ``CameraService`` with that cache in its servicer and
sources that never pass the camera's bytes through (``jpeg_passthrough: never``), so a
request is encoded at its own ``quality_percent``, as the SDK example does. Both are made
here from the service's public parts; the shipped service has no such mode.
``python -m bench.baseline --config FILE`` runs it, taking the service's own command line.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Callable, Hashable, List

from camera_service.app.service import CameraService, run_service
from camera_service.capture.frame_store import StoredFrame
from camera_service.cli.main import load_config, setup_logging
from camera_service.config.model import Config
from camera_service.core import allocator
from camera_service.core.errors import ConfigError
from camera_service.encoding.encoder import DEFAULT_OWN_QUALITY, EncodedImage, OutputSpec, produce
from camera_service.encoding.output_cache import Built, OutputCache


class ReencodeEveryRequest(OutputCache):
    """An output "cache" that caches nothing and never passes camera bytes through."""

    def get(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        frame = stored.frame
        encoded = spec
        if spec.format == "jpeg" and spec.quality == 0:  # "the camera's own": re-encoded
            encoded = replace(spec, quality=frame.jpeg_quality or DEFAULT_OWN_QUALITY)
        return self._count(replace(produce(frame, encoded), spec=spec))

    def served(self, stored: StoredFrame, spec: OutputSpec, variant: Hashable,
               build: Callable[[EncodedImage], Built]) -> Built:
        return build(self.get(stored, spec))


class BaselineService(CameraService):
    """The camera service for ``config``, re-encoding every request."""

    def __init__(self, config: Config, **parts) -> None:
        for source in config.sources:
            source.settings.jpeg_passthrough = "never"
        super().__init__(config, **parts)
        self._cache = ReencodeEveryRequest()  # what counters() reports
        self.servicer.cache = self._cache  # what GetImage encodes with


def main(argv: List[str] | None = None) -> int:
    """The service's command line, run as the baseline (exit 2 = bad configuration)."""
    allocator.tune()  # as the service does, before any thread or image buffer exists
    argv = sys.argv[1:] if argv is None else argv
    try:
        config = load_config(argv)
    except ConfigError as err:
        print(f"baseline: {err}", file=sys.stderr)
        return 2
    setup_logging(config.log_level)
    return run_service(BaselineService(config))


if __name__ == "__main__":
    sys.exit(main())
