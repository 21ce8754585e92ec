"""The ZIP the robot's REST endpoint ``/v1/data-buffer/daq-data/`` answers.

Layout as the SDK documents it (docs/concepts/data_acquisition_output.md): one folder per
``group_name``; in it each image as ``<action name> <channel>.<jpg|png|raw>``, each data blob
as ``<action name> <channel>[ <data_name>].<file_extension>`` (its bytes untouched) and one
``metadata.json``: ``{"actions": [{"action_id", "data": {channel: [{"data_id", "filename",
"metadata"}]}, "metadata": {channel: [{"data_id", "data"}]}}]}``. Metadata that references one
piece of data (``reference_id.channel`` set) sits under that piece's ``metadata``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Dict, List, Set

from bosdyn.api import image_pb2
from google.protobuf import json_format

from robot_sim.capture_store import ALERT, DATA, IMAGE, METADATA, StoredItem

_BAD_CHARACTERS = set(':*?<>|/\\"')
_IMAGE_EXTENSIONS = {image_pb2.Image.FORMAT_JPEG: "jpg", image_pb2.Image.FORMAT_RLE: "rle",
                     image_pb2.Image.FORMAT_RAW: "raw"}


def clean(name: str) -> str:
    """``name`` without characters that cannot be in a file name (never empty)."""
    return "".join(c for c in name if c not in _BAD_CHARACTERS).strip() or "unnamed"


def _to_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _extension(item: StoredItem) -> str:
    if item.kind == IMAGE:
        return _IMAGE_EXTENSIONS.get(item.image.image.format, "bin")
    return item.file_extension.lstrip(".") or "bin"


def _unique(name: str, extension: str, taken: Set[str]) -> str:
    candidate, number = f"{name}.{extension}", 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number}).{extension}"
    taken.add(candidate)
    return candidate


class _Group:
    """The files and metadata.json of one group folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.files: Dict[str, bytes] = {}
        self.actions: Dict[tuple, dict] = {}

    def action(self, item: StoredItem) -> dict:
        action_id = item.data_id.action_id
        key = (action_id.action_name, action_id.timestamp.seconds, action_id.timestamp.nanos)
        if key not in self.actions:
            self.actions[key] = {"action_id": _to_dict(action_id), "data": {}, "metadata": {}}
        return self.actions[key]

    def add_file(self, item: StoredItem) -> None:
        data_id = item.data_id
        stem = f"{data_id.action_id.action_name} {data_id.channel}"
        if data_id.data_name:
            stem += " " + data_id.data_name
        filename = _unique(clean(stem), _extension(item), set(self.files))
        self.files[filename] = item.image.image.data if item.kind == IMAGE else item.data
        entry = {"data_id": _to_dict(data_id), "filename": filename, "metadata": {}}
        self.action(item)["data"].setdefault(data_id.channel, []).append(entry)

    def add_metadata(self, item: StoredItem) -> None:
        if item.kind == METADATA:
            content, reference = item.metadata.metadata.data, item.metadata.reference_id
        else:
            content, reference = item.alert.alert_data, item.alert.reference_id
        entry = {"data_id": _to_dict(item.data_id), "data": _to_dict(content)}
        action = self.action(item)
        target = action["metadata"]
        for referenced in action["data"].get(reference.channel, []) if reference.channel else ():
            if referenced["data_id"].get("data_name", "") == reference.data_name:
                target = referenced["metadata"]
        target.setdefault(item.data_id.channel, []).append(entry)

    def write(self, archive: zipfile.ZipFile) -> None:
        for filename, content in self.files.items():
            archive.writestr(f"{self.folder}/{filename}", content)
        document = {"actions": list(self.actions.values())}
        archive.writestr(f"{self.folder}/metadata.json", json.dumps(document, indent=2))


def build_zip(items: List[StoredItem]) -> bytes:
    """The ZIP holding ``items`` (see the module docstring)."""
    groups: Dict[str, _Group] = {}
    # files first, so that metadata can find the data it references
    for item in sorted(items, key=lambda i: i.kind in (METADATA, ALERT)):
        folder = clean(item.data_id.action_id.group_name)
        group = groups.setdefault(folder, _Group(folder))
        if item.kind in (IMAGE, DATA):
            group.add_file(item)
        else:
            group.add_metadata(item)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for group in groups.values():
            group.write(archive)
    return buffer.getvalue()
