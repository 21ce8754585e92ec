"""Find V4L2 cameras from sysfs and ``/dev``, and resolve what a config calls a camera.

A USB (UVC) camera shows up as two ``/dev/videoN`` nodes: one captures video, the other only
carries metadata. Node numbers shift between boots and replugs, so configs should name a
camera by a stable path: ``/dev/v4l/by-id/...`` (model and serial), ``/dev/v4l/by-path/...``
(USB port) or a udev ``SYMLINK``. This module:

- lists nodes from ``<sys_root>/class/video4linux/videoN`` and asks each node for its
  capabilities (``VIDIOC_QUERYCAP``) to tell capture nodes from metadata-only ones;
- resolves a ``device`` setting (index, path, stable name, bare by-id/by-path name, ``auto``)
  to the node it points at *now*;
- expands ``device: all`` into one source per capture-capable camera (``expand_all``).

``sys_root``, ``dev_root`` and the capability query are parameters, so tests run against a
fake tree in a temporary folder. Run ``python -m camera_service.sources.v4l2.discovery`` on the
CORE I/O to list the cameras and the names to put in the config.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.ioctl import Capabilities, query_capabilities

CapabilityQuery = Callable[[str], Optional[Capabilities]]

AUTO = "auto"
ALL = "all"
_STABLE_DIRS = ("v4l/by-id", "v4l/by-path")
# Folders of /dev that never hold camera links (skipped for speed), and how deep to look.
_SKIPPED_DEV_DIRS = frozenset({"fd", "pts", "shm", "mqueue", "hugepages", "char", "block",
                               "disk", "bus", "snd", "input", "dri", "cpu", "net", "serial"})
_MAX_LINK_DEPTH = 3


def _link_rank(link: str) -> Tuple[int, bool, str]:
    """Sort key of a node's symlinks, most preferred first: names the integrator chose
    (``/dev/spot-cam-front``), then by serial number (``.../by-serial/...``, ``v4l/by-id``),
    then by port (``.../by-port/...``, ``v4l/by-path``); udev rule links before the stock
    ``/dev/v4l`` ones."""
    folder = os.path.basename(os.path.dirname(link)).lower()
    if re.search(r"serial|by-id", folder):
        kind = 1
    elif re.search(r"port|path", folder):
        kind = 2
    else:
        kind = 0
    return kind, "/v4l/" in link, link


class DeviceNotFound(LookupError):
    """The configured camera is not present (yet). The message is one line with a fix."""


@dataclasses.dataclass(frozen=True)
class VideoNode:
    """One ``/dev/videoN`` node as seen now.

    ``can_capture`` is from ``VIDIOC_QUERYCAP`` when the node answers, else guessed from the
    sysfs ``index`` (0 is the capture node of a UVC camera). ``stable_paths`` lists the
    symlinks that point at the node (udev names, by-id, by-path), most preferred first.
    """

    path: str
    card: str
    index: int
    can_capture: bool
    stable_paths: Tuple[str, ...] = ()

    @property
    def number(self) -> int:
        return int(re.sub(r"\D", "", os.path.basename(self.path)) or -1)


def _read_attr(folder: str, name: str) -> Optional[str]:
    try:
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


class VideoTree:
    """The video nodes under a sysfs root and a dev root (``/sys``, ``/dev`` by default)."""

    def __init__(
        self,
        sys_root: str = "/sys",
        dev_root: str = "/dev",
        query_caps: CapabilityQuery = query_capabilities,
    ) -> None:
        self.sys_root = sys_root
        self.dev_root = dev_root
        self.query_caps = query_caps

    # -- listing ------------------------------------------------------------------------
    def nodes(self) -> List[VideoNode]:
        """Every video node present, capture or not, ordered by node number."""
        class_dir = os.path.join(self.sys_root, "class", "video4linux")
        try:
            entries = os.listdir(class_dir)
        except OSError:
            return []
        aliases = self._aliases()
        nodes = []
        for entry in entries:
            if not re.fullmatch(r"video\d+", entry):
                continue
            path = os.path.join(self.dev_root, entry)
            if not os.path.exists(path):
                continue  # sysfs may show a node a moment before udev creates it
            folder = os.path.join(class_dir, entry)
            index_text = _read_attr(folder, "index")
            index = int(index_text) if index_text and index_text.isdigit() else 0
            caps = self.query_caps(path)
            can_capture = caps.can_capture if caps is not None else index == 0
            nodes.append(VideoNode(
                path=path,
                card=_read_attr(folder, "name") or entry,
                index=index,
                can_capture=can_capture,
                stable_paths=tuple(aliases.get(os.path.realpath(path), ())),
            ))
        return sorted(nodes, key=lambda node: node.number)

    def capture_nodes(self) -> List[VideoNode]:
        """The nodes that deliver video (metadata-only nodes skipped)."""
        return [node for node in self.nodes() if node.can_capture]

    def _aliases(self) -> Dict[str, List[str]]:
        """Real node path -> symlinks pointing at it anywhere under ``dev_root`` (a few
        levels deep: ``v4l/by-id``, udev ``SYMLINK`` names such as
        ``spot-cameras/by-serial/...``), most preferred first (see ``_link_rank``)."""
        aliases: Dict[str, List[str]] = {}
        base_depth = self.dev_root.rstrip(os.sep).count(os.sep)
        for folder, subfolders, names in os.walk(self.dev_root):
            depth = folder.rstrip(os.sep).count(os.sep) - base_depth
            subfolders[:] = [] if depth >= _MAX_LINK_DEPTH else sorted(
                sub for sub in subfolders if depth or sub not in _SKIPPED_DEV_DIRS)
            for name in names:
                link = os.path.join(folder, name)
                if re.fullmatch(r"video\d*", name) or not os.path.islink(link):
                    continue  # the nodes themselves, or a /dev/video -> video0 link
                target = os.path.realpath(link)
                if re.fullmatch(r"video\d+", os.path.basename(target)):
                    aliases.setdefault(target, []).append(link)
        return {node: sorted(links, key=_link_rank) for node, links in aliases.items()}

    # -- resolving a config's device setting ----------------------------------------------
    def candidates(self, device: str) -> List[str]:
        """Where ``device`` may be: the paths to try, in order (nothing is checked)."""
        if device.isdigit():
            return [os.path.join(self.dev_root, f"video{int(device)}")]
        if os.path.isabs(device):
            if self.dev_root != "/dev" and (device + "/").startswith("/dev/"):
                return [os.path.join(self.dev_root, device[len("/dev/"):])]
            return [device]
        folders = [os.path.join(self.dev_root, sub) for sub in _STABLE_DIRS] + [self.dev_root]
        return [os.path.join(folder, device) for folder in folders]

    def resolve(self, device: str) -> str:
        """The node ``device`` points at now (symlinks followed).

        ``device`` is a node index, a path, a bare by-id/by-path/udev name or ``auto`` (the
        first capture-capable node). Raises ``DeviceNotFound`` when absent or when the path
        is a metadata-only node.
        """
        if device == AUTO:
            found = self.capture_nodes()
            if not found:
                raise DeviceNotFound(
                    f"no capture-capable camera under {self.dev_root}: plug one in "
                    "(the source opens it as soon as it appears)")
            return os.path.realpath(found[0].path)
        tried = self.candidates(device)
        for path in tried:
            if os.path.exists(path):
                node = os.path.realpath(path)
                self._check_captures(device, node)
                return node
        raise DeviceNotFound(
            f"no camera at {tried[0]}: plug it in, or fix the device name (--device on the "
            "command line, else the source's 'device' in the config) "
            "(python -m camera_service.sources.v4l2.discovery lists the cameras present)")

    def _hardware_of(self, node: str) -> Optional[str]:
        """What a node belongs to: the sysfs device it hangs off (shared by a camera's
        capture and metadata nodes), else its card name."""
        folder = os.path.join(self.sys_root, "class", "video4linux", os.path.basename(node))
        link = os.path.join(folder, "device")
        if os.path.islink(link):
            return os.path.realpath(link)
        return _read_attr(folder, "name")

    def _check_captures(self, device: str, node: str) -> None:
        caps = self.query_caps(node)
        if caps is None or caps.can_capture:
            return
        hardware = self._hardware_of(node)
        siblings = [n.path for n in self.capture_nodes() if self._hardware_of(n.path) == hardware]
        hint = f"use {siblings[0]}" if siblings else "use the camera's other /dev/video node"
        raise DeviceNotFound(f"{device} ({node}) does not capture video (metadata-only node): "
                             f"{hint} or its /dev/v4l/by-id name")


def preferred_path(node: VideoNode) -> str:
    """The most stable way to name the node in a config: a udev symlink the integrator made,
    else by serial number, else by USB port, else the node itself (see ``_link_rank``)."""
    return node.stable_paths[0] if node.stable_paths else node.path


def stable_name(node: VideoNode) -> str:
    """A short source name that survives reboots, from ``preferred_path`` (``usb-`` and
    ``-video-indexN`` trimmed), else the card name and node number."""
    path = preferred_path(node)
    if path == node.path:
        base = f"{node.card}-{node.number}"
    else:
        base = re.sub(r"-video-index\d+$", "", os.path.basename(path))
        if "/by-id/" in path:
            base = re.sub(r"^usb-", "", base)
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return slug or f"video{node.number}"


def expand_all(settings: SourceSettings, tree: Optional[VideoTree] = None) -> List[SourceSettings]:
    """Turn one ``device: all`` config entry into one entry per capture-capable camera.

    Each copy is named ``<entry name>-<stable name>`` and points at ``preferred_path``, so
    it follows the camera across replugs and reboots.
    When no camera is present the entry comes back once with ``device: auto``: it is listed
    and faulted, and opens the first camera plugged in (cameras beyond the first that appear
    later need a restart, or name them in the config).
    """
    tree = tree or VideoTree()
    nodes = tree.capture_nodes()
    if not nodes:
        return [dataclasses.replace(settings, options={**settings.options, "device": AUTO})]
    expanded = []
    used: Dict[str, int] = {}
    for node in nodes:
        slug = stable_name(node)
        used[slug] = used.get(slug, 0) + 1
        if used[slug] > 1:
            slug = f"{slug}-{used[slug]}"
        device = preferred_path(node)
        expanded.append(dataclasses.replace(
            settings,
            name=f"{settings.name}-{slug}",
            options={**settings.options, "device": device},
        ))
    return expanded


def expand_sources(entries: Sequence[Tuple[str, SourceSettings]],
                   tree: Optional[VideoTree] = None) -> List[Tuple[str, SourceSettings]]:
    """``(kind, settings)`` pairs with every ``v4l2`` entry whose device is ``all`` expanded;
    other entries pass through unchanged, in order. The CLI calls this before building
    sources with ``create_source``."""
    result: List[Tuple[str, SourceSettings]] = []
    for kind, settings in entries:
        if kind == "v4l2" and str(settings.options.get("device", "")).lower() == ALL:
            result.extend((kind, expanded) for expanded in expand_all(settings, tree))
        else:
            result.append((kind, settings))
    return result


def describe(tree: Optional[VideoTree] = None) -> List[str]:
    """Human-readable lines: each node, whether it captures, and its stable names."""
    tree = tree or VideoTree()
    lines = []
    for node in tree.nodes():
        role = "capture" if node.can_capture else "metadata only (not usable)"
        lines.append(f"{node.path}: {node.card} [{role}]")
        lines.extend(f"    {link}" for link in node.stable_paths)
    return lines or [f"no video devices under {tree.dev_root}"]


def main() -> int:
    """Print the cameras present and the stable names to use in the config."""
    print("\n".join(describe()))
    print("try one with: python -m camera_service.sources.v4l2.probe DEVICE --width W "
          "--height H --fps F")
    return 0


if __name__ == "__main__":
    sys.exit(main())
