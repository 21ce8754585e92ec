"""Keeping operator files across an upgrade (manifest ``files_to_save`` / ``directories_to_save``).

``save_kept(extension_dir, paths, holding_dir)`` moves the listed paths that exist out of the
old extension folder into ``holding_dir``; ``restore_kept(holding_dir, extension_dir)`` moves
them into the new folder, replacing what the new .spx shipped at the same path (the operator's
version wins), then removes ``holding_dir``. Paths are relative to the extension folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable, List

from coreio_sim.errors import InstallError


def save_kept(extension_dir: Path, paths: Iterable[str], holding_dir: Path) -> List[str]:
    """Move each existing ``extension_dir/path`` to ``holding_dir/path``; return those moved.

    ``holding_dir`` must not exist yet (a leftover means an earlier upgrade was interrupted
    and still holds the operator's files).
    """
    if holding_dir.exists():
        raise InstallError(
            f"{holding_dir} exists: an earlier upgrade stopped half-way and it may hold"
            " operator files; copy them back into the extension folder, then delete it"
        )
    holding_dir.mkdir(parents=True)
    moved: List[str] = []
    for relative in sorted(set(paths)):
        source = extension_dir / relative
        _check_inside(extension_dir, source, relative)
        if not source.exists() or any(relative.startswith(f"{done}/") for done in moved):
            continue
        target = holding_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        moved.append(relative)
    return moved


def restore_kept(holding_dir: Path, extension_dir: Path, moved: Iterable[str]) -> None:
    """Move the ``moved`` paths back from ``holding_dir`` into ``extension_dir``; drop holding."""
    for relative in moved:
        source = holding_dir / relative
        target = extension_dir / relative
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
    shutil.rmtree(holding_dir)


def _check_inside(extension_dir: Path, path: Path, relative: str) -> None:
    resolved = path.resolve()
    base = extension_dir.resolve()
    if resolved != base and base not in resolved.parents:
        raise InstallError(f"kept path {relative!r} resolves outside the extension folder")
