"""The ``robot``, ``service`` and ``settings`` sections and ``log_level`` of the config file.

Each field states its type, default, range, unit and meaning once; the loader, the settings
page and the configuration reference all read them from here.
"""

from __future__ import annotations

import os
import re
from typing import ClassVar, Literal, Optional

from pydantic import Field, field_validator, model_validator
from typing_extensions import Annotated

from camera_service.core.errors import excerpt
from camera_service.schema.base import Between, Bool, ConfigModel, Float, Int, Text, problem

DEFAULT_ROBOT = "192.168.50.3"
DEFAULT_PORT = 21230
DEFAULT_SETTINGS_PORT = 21231
DEFAULT_NAME = "camera-image-service"
# The payload credentials file the Spot Extension's manifest mounts into the container.
DEFAULT_CREDENTIALS_FILE = "/opt/payload_credentials/payload_guid_and_secret"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)


def check_name(value: str, what: str = "") -> str:
    """A directory or source name: letters, digits, ``-``, ``_``, ``.``; up to 63."""
    if not _NAME_RE.match(value):
        raise problem(f"must be letters, digits, '-', '_' or '.'{what}")
    return value


def check_pem(path: str) -> None:
    """``path`` must be a readable PEM certificate file (the robot's CA)."""
    if not os.path.isfile(path):
        raise problem(f"{path} is not a file")
    try:
        with open(path, "rb") as handle:
            text = handle.read(1 << 20)
    except OSError as err:
        raise problem(f"cannot read {path}: {err.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise problem(f"{path} is not a PEM certificate (no BEGIN CERTIFICATE line)")


class RobotConfig(ConfigModel):
    """How the service reaches the robot and logs in."""

    where: ClassVar[str] = "robot"

    hostname: Text = Field(DEFAULT_ROBOT, min_length=1, description="robot address seen "
                           "from the CORE I/O", examples=["192.168.50.3"])
    port: Annotated[Int, Between(1, 65535)] = Field(443, description="robot's gRPC/TLS port (the "
                                         "simulator uses another)")
    ca_cert: Optional[Text] = Field(None, description="robot CA certificate file (PEM); null "
                                    "= the SDK's built-in CA", examples=["/data/robot-ca.pem"])
    payload_credentials_file: Text = Field(DEFAULT_CREDENTIALS_FILE, description="the "
                                           "payload's GUID and secret, as the Spot Extension "
                                           "mounts them")
    guid: Optional[Text] = Field(None, description="payload GUID instead of the credentials "
                                 "file (the SDK example's --guid); give with secret")
    secret: Optional[Text] = Field(None, repr=False, description="payload secret, with guid "
                                   "(never logged)")
    mode: Literal["payload", "external"] = Field("payload", description="payload: log in as "
                                                 "the payload; external: user login from "
                                                 "BOSDYN_CLIENT_USERNAME/BOSDYN_CLIENT_PASSWORD")
    host_ip: Text = Field("auto", description="address the robot reaches this service at; "
                          "auto = this host's address on the route to the robot",
                          examples=["auto", "192.168.50.5"])
    keepalive_seconds: Annotated[Float, Between(0.5, 600)] = Field(10.0, description="directory "
                                                        "keep-alive period (seconds)")

    @field_validator("ca_cert")
    @classmethod
    def _pem(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            check_pem(value)
        return value

    @model_validator(mode="after")
    def _guid_with_secret(self) -> RobotConfig:
        if (self.guid is None) != (self.secret is None):
            raise problem("guid and secret go together; give both or neither",
                          sub="guid" if self.guid is None else "secret")
        return self


def _memory_limit(value: int) -> int:
    if value != 0 and not 256 <= value <= 65536:
        raise problem(f"must be 0 or between 256 and 65536, got {excerpt(value)}")
    return value


class ServiceConfig(ConfigModel):
    """The gRPC image service the robot forwards to."""

    where: ClassVar[str] = "service"

    port: Annotated[Int, Between(0, 65535)] = Field(
        DEFAULT_PORT, description="gRPC port; the CORE I/O "
                                         "firewall allows 21000-22000 (0 = any free port)")
    bind: Text = Field("0.0.0.0", description="address to listen on")
    name: Text = Field(DEFAULT_NAME, description="directory name shown on the robot",
                       json_schema_extra={"pattern": NAME_PATTERN})
    authority: Text = Field(DEFAULT_NAME, description="gRPC authority the robot uses for the "
                            "service", json_schema_extra={"pattern": NAME_PATTERN})
    jpeg_quality: Annotated[Int, Between(1, 100)] = Field(
        75, description="JPEG quality of sources that "
                                               "do not set their own (percent)")
    workers: Annotated[Int, Between(1, 64)] = Field(8, description="gRPC worker threads")
    memory_limit_mib: Int = Field(0, description="memory budget (MiB): 0 = the container's "
                                  "cgroup limit (512 when there is none), else 256-65536",
                                  json_schema_extra={"minimum": 0, "maximum": 65536})
    max_images_per_request: Annotated[Int, Between(1, 1000)] = Field(
        32, description="image requests "
                                                          "answered per GetImage")

    @field_validator("name", "authority")
    @classmethod
    def _names(cls, value: str) -> str:
        return check_name(value)

    @field_validator("memory_limit_mib")
    @classmethod
    def _memory(cls, value: int) -> int:
        return _memory_limit(value)


class SettingsPageConfig(ConfigModel):
    """The HTTPS settings page (see README, Settings page)."""

    where: ClassVar[str] = "settings"

    enabled: Bool = Field(True, description="serve the settings page")
    port: Annotated[Int, Between(0, 65535)] = Field(
        DEFAULT_SETTINGS_PORT, description="HTTPS port, in "
                                         "21000-22000 on a CORE I/O: https://<robot>:21231/")
    bind: Text = Field("0.0.0.0", description="address to listen on")
    data_dir: Optional[Text] = Field(None, description="certificate folder; null = the "
                                     "config file's folder")
    cert_file: Optional[Text] = Field(None, description="operator's PEM certificate instead "
                                      "of the one generated on first start; with key_file")
    key_file: Optional[Text] = Field(None, description="the certificate's PEM key; with "
                                     "cert_file")
    session_minutes: Annotated[Float, Between(0.01, 7 * 24 * 60)] = Field(
        30.0, description="a login "
                                                               "lasts this long (minutes)")

    @model_validator(mode="after")
    def _cert_with_key(self) -> SettingsPageConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise problem("cert_file and key_file go together; give both or neither",
                          sub="cert_file" if self.cert_file is None else "key_file")
        return self


class Sections(ConfigModel):
    """Every part of the config file but ``sources`` (validated entry by entry)."""

    robot: RobotConfig = Field(default_factory=RobotConfig, description="the robot")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="the image "
                                   "service")
    settings: SettingsPageConfig = Field(default_factory=SettingsPageConfig,
                                         description="the settings page")
    log_level: Literal["debug", "info", "warning"] = Field("info", description="log detail")

    @model_validator(mode="after")
    def _ports_differ(self) -> Sections:
        page, service = self.settings, self.service
        if page.enabled and page.port and page.port == service.port:
            raise problem(f"must differ from service.port ({service.port})",
                          sub="settings.port")
        return self
