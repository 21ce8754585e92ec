"""Directory registration of the image service (and the clips plugin beside it), kept alive
across robot reboots.

``keep_alive`` is called periodically by ``RobotLink``: it registers the service, or (if the
entry exists) refreshes it, which doubles as the liveness heartbeat. After a robot reboot the
directory is empty and the next call registers again. Unlike the SDK's
``DirectoryRegistrationKeepAlive`` this survives refused tokens and never stops retrying.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence

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
    """What goes into the directory: name, authority, type, and where the robot reaches us."""

    name: str
    authority: str
    host: str
    port: int
    liveness_timeout: float = 0.0  # seconds; 0 = the robot does not watch liveness
    service_type: str = SERVICE_TYPE


class Registration:
    """Registers ``endpoint`` (the image service) and any ``extra`` entries (the clips plugin,
    served by the same process) through a ``DirectoryRegistrationClient`` given per call (the
    client belongs to the current robot session); all are kept alive, re-registered and
    unregistered together. ``registered`` is what we believe about ``endpoint``.
    ``registrations`` counts fresh entries created (the fault reporter follows it: a fresh
    entry holds none of this service's faults)."""

    def __init__(self, endpoint: ServiceEndpoint,
                 extra: Sequence[ServiceEndpoint] = ()) -> None:
        self.endpoint = endpoint
        self.registrations = 0
        self.endpoints: List[ServiceEndpoint] = [endpoint, *extra]
        self._registered: Dict[str, bool] = {e.name: False for e in self.endpoints}
        self._retired: List[ServiceEndpoint] = []  # dropped by set_extra, to unregister

    def set_extra(self, extra: Sequence[ServiceEndpoint]) -> None:
        """The extra entries from now on (a live config change; the caller republishes): new
        ones register with the next keep-alive, dropped ones go with the next
        ``unregister``."""
        endpoints = [self.endpoint, *extra]
        names = {e.name for e in endpoints}
        self._retired += [e for e in self.endpoints if e.name not in names]
        for endpoint in endpoints:
            self._registered.setdefault(endpoint.name, False)
        self.endpoints = endpoints

    @property
    def registered(self) -> bool:
        return self._registered[self.endpoint.name]

    def keep_alive(self, client: DirectoryRegistrationClient, timeout: float) -> bool:
        """Register, or refresh the existing entries. Returns True when the robot had lost an
        entry we had registered (it rebooted). Raises the SDK's RpcError/ResponseError."""
        lost = False
        for endpoint in self.endpoints:
            lost = self._keep_alive(endpoint, client, timeout) or lost
        return lost

    def _keep_alive(self, e: ServiceEndpoint, client: DirectoryRegistrationClient,
                    timeout: float) -> bool:
        try:
            client.register(e.name, e.service_type, e.authority, e.host, e.port,
                            user_token_required=True, liveness_timeout_secs=e.liveness_timeout,
                            timeout=timeout)
        except ServiceAlreadyExistsError:
            if not self._registered[e.name]:
                # Left over from an earlier run, or ours with another endpoint: take it over.
                client.update(e.name, e.service_type, e.authority, e.host, e.port,
                              user_token_required=True,
                              liveness_timeout_secs=e.liveness_timeout, timeout=timeout)
                _LOG.info("registered %r (authority %s) at %s:%d (updated existing entry)",
                          e.name, e.authority, e.host, e.port)
                self._registered[e.name] = True
            return False
        self.registrations += 1
        lost = self._registered[e.name]
        if lost:
            _LOG.info("re-registered %r at %s:%d: the robot had lost the entry (reboot?)",
                      e.name, e.host, e.port)
        else:
            _LOG.info("registered %r (authority %s) at %s:%d", e.name, e.authority, e.host,
                      e.port)
        self._registered[e.name] = True
        return lost

    def unregister(self, client: DirectoryRegistrationClient, timeout: float) -> None:
        """Remove the entries (service shutting down, republishing). A missing entry is
        fine."""
        retired, self._retired = self._retired, []
        for endpoint in [*self.endpoints, *retired]:
            try:
                client.unregister(endpoint.name, timeout=timeout)
                _LOG.info("unregistered %r from the robot's directory", endpoint.name)
            except ServiceDoesNotExistError:
                pass
            self._registered[endpoint.name] = False

    def wait_dropped(self, directory: DirectoryClient, timeout: float) -> bool:
        """Poll the robot's directory until it lists none of the entries (after
        ``unregister``); True once they are gone, False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        pending = [e.name for e in self.endpoints]
        while True:
            for name in list(pending):
                try:
                    directory.get_entry(name, timeout=min(1.0, timeout))
                except NonexistentServiceError:
                    pending.remove(name)
            if not pending:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
