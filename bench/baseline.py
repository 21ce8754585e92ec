"""The benchmark's baseline: the camera service re-encoding every request, as the SDK's
``custom_parameter_image_server`` example does.

``ReencodeEveryRequest`` stands in for the service's encode-once ``OutputCache``: same
interface and counters, but every ``get`` decodes and encodes again, even a camera JPEG the
service would pass through, and every response is built and serialized anew (``served``).
Its sources never pass the camera's bytes through (``jpeg_passthrough: never``), so a
request is encoded at its own ``quality_percent``, as the SDK example does.
``python -m bench.baseline --config FILE`` runs the service with it, taking the service's
own command line (the shipped service has no such mode).
"""

from __future__ import annotations

import sys
from typing import Callable, Hashable, List

from camera_service.app.service import CameraService
from camera_service.capture.frame_store import StoredFrame
from camera_service.cli import main as cli
from camera_service.config.model import Config
from camera_service.encoding.encoder import EncodedImage, OutputSpec, produce
from camera_service.encoding.output_cache import Built, OutputCache
from camera_service.sources.base import Frame


class ReencodeEveryRequest(OutputCache):
    """An output "cache" that caches nothing and never passes camera bytes through."""

    def passes_through(self, frame: Frame, spec: OutputSpec) -> bool:
        return False

    def get(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        return self._count(produce(stored.frame, spec, allow_passthrough=False))

    def served(self, stored: StoredFrame, spec: OutputSpec, variant: Hashable,
               build: Callable[[EncodedImage], Built]) -> Built:
        return build(self.get(stored, spec))


def baseline_service(config: Config) -> CameraService:
    """The camera service for ``config`` with the re-encode-every-request baseline."""
    for source in config.sources:
        source.settings.jpeg_passthrough = "never"
    return CameraService(config, output_cache=ReencodeEveryRequest())


def main(argv: List[str] | None = None) -> int:
    """The service's command line, run as the baseline."""
    return cli.main(argv, build=baseline_service)


if __name__ == "__main__":
    sys.exit(main())
