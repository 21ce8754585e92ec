"""The extra compose file that adapts an extension's own compose file to this host.

The extension's files stay untouched; ``build_override`` returns a compose document to pass
after them with another ``-f``. Compose merges ``volumes`` and ``devices`` entries by their
path inside the container, so an entry here replaces the extension's entry for that path:

- bind mounts of CORE I/O-owned host paths (``/data/...``, ``/opt/payload_credentials/...``)
  are moved into the stand-in tree, so a real CORE I/O file on this host is never touched;
- a device the host lacks (``/dev/video0`` cannot exist on a machine without a camera) is
  mapped from ``/dev/null`` so the container can start; the service then sees no camera there;
- a ``journald`` logging driver is replaced by ``json-file`` when the host has no journald
  (no systemd), since Docker refuses to start such a container.

Each adaptation adds a one-line note for the operator. Pure: no Docker, no file-system writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Mapping

from coreio_sim.errors import InstallError
from coreio_sim.layout import CREDENTIALS_PATH, CoreIoRoot

#: Logging used instead of journald where journald is missing (bounded like the CORE I/O's).
FALLBACK_LOGGING = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}


@dataclass
class ComposeOverride:
    """An override document plus what the installer must prepare and tell the operator.

    ``document`` is empty when nothing needs adapting. ``directories`` are bind-mount
    sources in the stand-in tree that the installer creates when missing; ``credentials_mounted``
    says whether the compose file mounts the payload credentials file.
    """

    document: Dict[str, Any] = field(default_factory=dict)
    directories: List[Path] = field(default_factory=list)
    credentials_mounted: bool = False
    notes: List[str] = field(default_factory=list)


def build_override(
    compose: Mapping[str, Any],
    tree: CoreIoRoot,
    extension_dir: Path,
    journald_available: bool,
    daemon_log_driver: str = "json-file",
    device_exists: Callable[[str], bool] | None = None,
) -> ComposeOverride:
    """Work out the override for the parsed compose file ``compose`` (see module doc)."""
    if device_exists is None:
        device_exists = lambda path: Path(path).exists()  # noqa: E731
    services = compose.get("services")
    if not isinstance(services, Mapping) or not services:
        raise InstallError("docker-compose.yml: no 'services' mapping")
    result = ComposeOverride()
    overridden: Dict[str, Any] = {}
    for name, service in services.items():
        if not isinstance(service, Mapping):
            raise InstallError(f"docker-compose.yml: service {name!r} is not a mapping")
        changes: Dict[str, Any] = {}
        volumes = _adapt_volumes(name, service.get("volumes") or [], tree, extension_dir, result)
        if volumes:
            changes["volumes"] = volumes
        devices = _adapt_devices(name, service.get("devices") or [], device_exists, result)
        if devices:
            changes["devices"] = devices
        driver = (service.get("logging") or {}).get("driver") or daemon_log_driver
        if driver == "journald" and not journald_available:
            changes["logging"] = dict(FALLBACK_LOGGING)
            result.notes.append(
                f"service {name}: this host has no journald (no systemd), so its logs go to"
                " Docker's json-file driver instead (read them with `docker logs`)"
            )
        if changes:
            overridden[name] = changes
    if overridden:
        result.document = {"services": overridden}
        if "version" in compose:
            result.document = {"version": compose["version"], **result.document}
    return result


def _adapt_volumes(
    service: str, volumes: Any, tree: CoreIoRoot, extension_dir: Path, result: ComposeOverride
) -> List[Any]:
    adapted: List[Any] = []
    for entry in volumes:
        source, rebuild = _split_volume(service, entry)
        if not source or not _is_path(source):
            continue  # named or anonymous volume
        real = PurePosixPath(source)
        if real in (CREDENTIALS_PATH, CREDENTIALS_PATH.parent):
            result.credentials_mounted = True
        if real.is_absolute():
            if not tree.maps(real):
                continue  # a host path outside the CORE I/O tree (e.g. /etc/localtime)
            host = tree.host_path(real)
            adapted.append(rebuild(str(host)))
        else:
            host = (extension_dir / source).resolve()
        if real != CREDENTIALS_PATH and tree.root in host.parents:
            result.directories.append(host)
    return adapted


def _split_volume(service: str, entry: Any) -> Any:
    """(source, rebuild(new_source)) for a short- or long-syntax volume entry.

    ``source`` is empty for anonymous and non-bind long-syntax volumes.
    """
    if isinstance(entry, str):
        parts = entry.split(":")
        if len(parts) == 1:
            return "", None
        return parts[0], lambda new: ":".join([new, *parts[1:]])
    if isinstance(entry, Mapping):
        if entry.get("type", "volume") != "bind":
            return "", None
        return str(entry.get("source", "")), lambda new: {**entry, "source": new}
    raise InstallError(f"docker-compose.yml: service {service!r} has a malformed volume {entry!r}")


def _is_path(source: str) -> bool:
    return source.startswith(("/", ".", "~"))


def _adapt_devices(
    service: str, devices: Any, device_exists: Callable[[str], bool], result: ComposeOverride
) -> List[str]:
    adapted: List[str] = []
    for entry in devices:
        if not isinstance(entry, str):
            raise InstallError(
                f"docker-compose.yml: service {service!r} has a malformed device {entry!r}"
            )
        parts = entry.split(":")
        host = parts[0]
        if device_exists(host):
            continue
        in_container = parts[1] if len(parts) > 1 else host
        adapted.append(":".join(["/dev/null", in_container, *parts[2:]]))
        result.notes.append(
            f"service {service}: host device {host} does not exist here; {in_container} is"
            " mapped from /dev/null so the container starts (the service sees no camera there)"
        )
    return adapted
