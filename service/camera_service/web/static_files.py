"""The pages' static files: plain file names looked up in a list of folders (no paths, no
traversal), with their content type; shared by the settings page and the laptop viewer."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

STATIC_DIR = Path(__file__).resolve().parent / "static"  # the shared preview code


def find_static(name: str, folders: Sequence[Path]) -> Optional[Tuple[bytes, str]]:
    """(content, content type) of the file called ``name`` in the first of ``folders``
    holding one, else None. Only plain file names of those folders are served."""
    available: Dict[str, Path] = {}
    for folder in reversed(folders):
        available.update({path.name: path for path in folder.iterdir() if path.is_file()})
    path = available.get(name)
    if path is None:
        return None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or name.endswith(".js"):
        content_type += "; charset=utf-8"
    return path.read_bytes(), content_type
