"""Grey images for calibration, from one of three places.

- ``RobotFrames``: GetImage through the robot with the SDK's ``ImageClient`` (a laptop on the
  robot's network; user login from ``BOSDYN_CLIENT_USERNAME`` / ``BOSDYN_CLIENT_PASSWORD``).
- ``ServiceFrames``: GetImage on the service's own port (on the CORE I/O itself).
- ``DeviceFrames``: the camera opened directly from the service's config (service stopped),
  or an IP camera's URL (``--url``).

Each is an iterator-like object: ``grab()`` returns the next ``H x W`` uint8 image or raises
``FrameError`` with one line; ``close()`` releases it.
"""

from __future__ import annotations

from typing import Tuple

import cv2
import grpc
import numpy as np
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.image import build_image_request

Image = image_pb2.Image
LOGIN_TIMEOUT = 10.0


class FrameError(RuntimeError):
    """No image could be had; the message says why and what to do."""


def _request(source: str) -> image_pb2.ImageRequest:
    """Full-size, uncompressed grey: JPEG artefacts would move the corners."""
    return build_image_request(source, image_format=Image.FORMAT_RAW,
                               pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8)


def grey_from_response(response: image_pb2.ImageResponse) -> np.ndarray:
    """The grey pixels of an OK ``ImageResponse``; raises ``FrameError`` otherwise."""
    if response.status != image_pb2.ImageResponse.STATUS_OK:
        name = image_pb2.ImageResponse.Status.Name(response.status)
        detail = "; ".join(response.custom_param_error.error_messages)
        raise FrameError(f"GetImage answered {name}" + (f": {detail}" if detail else ""))
    image = response.shot.image
    if image.format == Image.FORMAT_JPEG:
        pixels = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    else:
        pixels = np.frombuffer(image.data, np.uint8)
        channels = len(image.data) // max(1, image.rows * image.cols)
        pixels = pixels.reshape(image.rows, image.cols, channels) if channels > 1 else \
            pixels.reshape(image.rows, image.cols)
        if channels == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    if pixels is None:
        raise FrameError("the service sent an image that does not decode")
    return pixels


class ServiceFrames:
    """GetImage on the service's own gRPC port (``host:port``, no TLS: local to the
    CORE I/O)."""

    def __init__(self, address: str, source: str, timeout: float = 5.0) -> None:
        self.source, self.timeout = source, timeout
        self._channel = grpc.insecure_channel(address)
        self._stub = image_service_pb2_grpc.ImageServiceStub(self._channel)
        self.where = f"service {address}, source {source!r}"

    def grab(self) -> np.ndarray:
        try:
            reply = self._stub.GetImage(image_pb2.GetImageRequest(
                image_requests=[_request(self.source)]), timeout=self.timeout)
        except grpc.RpcError as err:
            raise FrameError(f"cannot reach the service ({err.code().name}); is it running "
                             "on that port?") from None
        return grey_from_response(reply.image_responses[0])

    def close(self) -> None:
        self._channel.close()


class RobotFrames:
    """GetImage through the robot with the SDK's ImageClient for the service ``service``."""

    def __init__(self, hostname: str, source: str, service: str, port: int = 443,
                 ca_cert: str | None = None) -> None:
        from bosdyn.client.exceptions import Error as SdkError

        from camera_service.robot.login import (
            PASSWORD_ENV,
            USERNAME_ENV,
            password_login_from_env,
        )
        from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot

        login = password_login_from_env()
        if login is None:
            raise FrameError(f"set {USERNAME_ENV} and {PASSWORD_ENV} to log in to the robot")
        self.source = source
        self.where = f"robot {hostname}, service {service!r}, source {source!r}"
        self._sdk_error = SdkError
        try:
            self._robot = make_sdk_robot(RobotTarget(hostname, port, ca_cert),
                                         "camera-calibrate")
            login.apply(self._robot, timeout=LOGIN_TIMEOUT)
            self._robot.sync_with_directory()
            self._client = self._robot.ensure_client(service)
        except SdkError as err:
            raise FrameError(f"cannot use {self.where}: {type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''}") from None
        except Exception as err:  # unknown service name, unreadable CA file
            raise FrameError(f"cannot use {self.where}: {err}") from None

    def grab(self) -> np.ndarray:
        try:
            (response,) = self._client.get_image([_request(self.source)], timeout=5.0)
        except self._sdk_error as err:
            raise FrameError(f"GetImage failed: {type(err).__name__}") from None
        return grey_from_response(response)

    def close(self) -> None:
        self._robot.shutdown()


class DeviceFrames:
    """The source ``source`` of the service config ``config_path``, opened here (or, with
    ``url``, a ``url`` source of that camera: no config file needed)."""

    def __init__(self, config_path: str | None, source: str, url: str | None = None) -> None:
        from camera_service.config import model as config_module
        if url is not None:
            config = config_module.from_mapping({"sources": [
                {"name": source, "type": "url", "url": url}]})
            origin = "--url"
        else:
            config = config_module.load(str(config_path))
            origin = str(config_path)
        sources = {s.name: s for s in config.build_sources()}
        if source not in sources:
            raise FrameError(f"{config_path} has no source {source!r}; it has "
                             f"{', '.join(sources) or 'none'}")
        self._source = sources[source]
        self.where = f"{self._source.describe()} (source {source!r} of {origin})"
        try:
            self._source.open()
        except Exception as err:
            raise FrameError(f"cannot open {self.where}: {err} (stop the service first: "
                             "a camera has one reader)") from None

    def grab(self) -> np.ndarray:
        try:
            frame = self._source.read()
        except Exception as err:
            raise FrameError(f"the camera stopped delivering: {err}") from None
        if frame.jpeg is not None:
            grey = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
            if grey is None:
                raise FrameError("the camera sent a JPEG frame that does not decode")
            return np.asarray(grey)
        pixels = frame.pixels
        assert pixels is not None  # a frame holds JPEG bytes or pixels
        if pixels.ndim == 2:
            return pixels
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2GRAY if pixels.shape[2] == 4
                            else cv2.COLOR_BGR2GRAY)

    def close(self) -> None:
        self._source.close()


def image_size(pixels: np.ndarray) -> Tuple[int, int]:
    """(width, height) of an image."""
    return int(pixels.shape[1]), int(pixels.shape[0])
