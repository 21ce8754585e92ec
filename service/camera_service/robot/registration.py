"""Directory registration of the image service, kept alive across robot reboots.

``keep_alive`` is called periodically by ``RobotLink``: it registers the service, or (if the
entry exists) refreshes it, which doubles as the liveness heartbeat. After a robot reboot the
directory is empty and the next call registers again. Unlike the SDK's
``DirectoryRegistrationKeepAlive`` this survives refused tokens and never stops retrying.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bosdyn.client.directory import DirectoryClient, NonexistentServiceError
from bosdyn.client.directory_registration import (
    DirectoryRegistrationClient,
    ServiceAlreadyExistsError,
    ServiceDoesNotExistError,
)

_LOG = logging.getLogger(__name__)
SERVICE_TYPE = "bosdyn.api.ImageService"


@dataclass(frozen=True)
class ServiceEndpoint:
    """What goes into the directory: name, authority, and where the robot reaches us."""

    name: str
    authority: str
    host: str
    port: int
    liveness_timeout: float = 0.0  # seconds; 0 = the robot does not watch liveness


class Registration:
    """Registers ``endpoint`` through a ``DirectoryRegistrationClient`` given per call (the
    client belongs to the current robot session). ``registered`` is what we believe."""

    def __init__(self, endpoint: ServiceEndpoint) -> None:
        self.endpoint = endpoint
        self.registered = False

    def keep_alive(self, client: DirectoryRegistrationClient, timeout: float) -> bool:
        """Register, or refresh the existing entry. Returns True when the robot had lost an
        entry we had registered (it rebooted). Raises the SDK's RpcError/ResponseError."""
        e = self.endpoint
        try:
            client.register(e.name, SERVICE_TYPE, e.authority, e.host, e.port,
                            user_token_required=True, liveness_timeout_secs=e.liveness_timeout,
                            timeout=timeout)
        except ServiceAlreadyExistsError:
            if not self.registered:
                # Left over from an earlier run, or ours with another endpoint: take it over.
                client.update(e.name, SERVICE_TYPE, e.authority, e.host, e.port,
                              user_token_required=True,
                              liveness_timeout_secs=e.liveness_timeout, timeout=timeout)
                _LOG.info("registered %r (authority %s) at %s:%d (updated existing entry)",
                          e.name, e.authority, e.host, e.port)
                self.registered = True
            return False
        lost = self.registered
        if lost:
            _LOG.info("re-registered %r at %s:%d: the robot had lost the entry (reboot?)",
                      e.name, e.host, e.port)
        else:
            _LOG.info("registered %r (authority %s) at %s:%d", e.name, e.authority, e.host,
                      e.port)
        self.registered = True
        return lost

    def unregister(self, client: DirectoryRegistrationClient, timeout: float) -> None:
        """Remove the entry (service shutting down). A missing entry is fine."""
        try:
            client.unregister(self.endpoint.name, timeout=timeout)
            _LOG.info("unregistered %r from the robot's directory", self.endpoint.name)
        except ServiceDoesNotExistError:
            pass
        self.registered = False

    def wait_dropped(self, directory: DirectoryClient, timeout: float) -> bool:
        """Poll the robot's directory until it no longer lists this service (after
        ``unregister``); True once it is gone, False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                directory.get_entry(self.endpoint.name, timeout=min(1.0, timeout))
            except NonexistentServiceError:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
