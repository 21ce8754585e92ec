"""Install, upgrade, list and remove Spot Extensions the way the CORE I/O portal does.

``install(spx, root)`` validates the .spx, and, if an extension of that name is installed,
stops it and sets aside the files its manifests say to keep (upgrade). It then unpacks the
.spx into ``ROOT/data/.extensions/<name>/``, puts the kept files back, loads the image
archives into Docker, stages the udev rules in ``ROOT/etc/udev/rules.d/``, lays down the
payload credentials file and the bind-mounted folders the compose file expects, writes the
host override (see ``compose_override``) into ``ROOT/var/lib/coreio_sim/<name>/`` and runs
``compose up -d``. The extension's own files are never modified.

Progress and notes go to the ``coreio_sim`` logger; failures raise ``InstallError``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import yaml

from coreio_sim import docker_cli
from coreio_sim.compose_override import ComposeOverride, build_override
from coreio_sim.credentials import check_credentials_file, install_credentials
from coreio_sim.errors import InstallError
from coreio_sim.kept_files import restore_kept, save_kept
from coreio_sim.layout import CoreIoRoot
from coreio_sim.manifest import Manifest
from coreio_sim.spx_archive import COMPOSE_FILE, MANIFEST_FILE, SpxArchive, installed_manifest

LOG = logging.getLogger("coreio_sim")

OVERRIDE_FILE = "docker-compose.coreio-sim.yml"
_HOLDING_DIR = "kept-during-upgrade"
_STAGING_SUFFIX = ".incoming"


@dataclass(frozen=True)
class Installed:
    """An installed extension: its manifest, folder, compose project and compose files."""

    manifest: Manifest
    extension_dir: Path
    project: str
    compose_files: Tuple[Path, ...]


def install(
    spx_path: Path, root: Path, credentials: Path | None = None, start: bool = True
) -> Installed:
    """Install ``spx_path`` into the tree at ``root`` (upgrading one of the same name).

    ``credentials``: a payload credentials file to copy into the tree's credentials path
    (otherwise an existing one is kept). ``start=False`` prepares everything but does not
    run ``compose up`` (for inspection).
    """
    tree = CoreIoRoot.at(root)
    if credentials is not None:  # every input checked before anything is touched
        check_credentials_file(Path(credentials))
    spx = SpxArchive.open(Path(spx_path))
    manifest = spx.manifest
    if manifest.installation_target != "spot":
        raise InstallError(
            f"{spx.path}: installation_target is {manifest.installation_target!r}; a CORE I/O"
            " installs only 'spot' extensions"
        )
    docker_cli.check_engine()
    name = manifest.extension_name
    extension_dir = tree.extension_dir(name)
    state_dir = tree.state_dir(name)
    incoming = extension_dir.with_name(name + _STAGING_SUFFIX)
    if incoming.exists():
        shutil.rmtree(incoming)
    spx.unpack(incoming)

    previous = _installed_or_none(tree, name)
    holding = state_dir / _HOLDING_DIR
    kept: List[str] = []
    if previous is not None:
        LOG.info("upgrading %s %s -> %s", name, previous.manifest.version, manifest.version)
        _compose_down(previous)
        kept_paths = _kept_paths(previous.manifest) + _kept_paths(manifest)
        kept = save_kept(extension_dir, kept_paths, holding)
        shutil.rmtree(extension_dir)
    elif extension_dir.exists():
        LOG.info("replacing %s (no readable manifest found there)", extension_dir)
        shutil.rmtree(extension_dir)
    else:
        LOG.info("installing %s %s", name, manifest.version)
    incoming.rename(extension_dir)
    try:
        return _finish_install(tree, manifest, extension_dir, state_dir, holding, kept,
                               credentials, start)
    except Exception as err:
        _roll_back(tree, name, extension_dir, kept, holding)
        if isinstance(err, InstallError):
            raise
        raise InstallError(f"installing {name} failed: {type(err).__name__}: {err}") from None


def _roll_back(tree: CoreIoRoot, name: str, extension_dir: Path, kept: List[str],
               holding: Path) -> None:
    """Undo a failed install: no extension is left listed without its container. Files kept
    from a previous version stay in ``holding`` (named in the log) so nothing is lost."""
    with contextlib.suppress(InstallError):
        docker_cli.compose(docker_cli.project_name(name), (extension_dir / COMPOSE_FILE,),
                           ["down"], f"stopping {name}")
    if kept and extension_dir.is_dir():
        save_kept(extension_dir, kept, holding)
    shutil.rmtree(extension_dir, ignore_errors=True)
    record = tree.state_dir(name) / "install.json"
    if record.exists():
        record.unlink()
    LOG.error("install of %s failed; nothing is installed%s", name,
              f" (kept files are in {holding})" if kept else "")


def _finish_install(tree: CoreIoRoot, manifest: Manifest, extension_dir: Path,
                    state_dir: Path, holding: Path, kept: List[str],
                    credentials: Path | None, start: bool) -> Installed:
    """The steps after the new files are in place: kept files back, images, udev rules,
    credentials, host override, compose up."""
    name = manifest.extension_name
    if kept:
        restore_kept(holding, extension_dir, kept)
        LOG.info("kept from the previous version: %s", ", ".join(kept))

    for archive in manifest.images:
        tags = docker_cli.load_image(extension_dir / archive)
        LOG.info("loaded %s: %s", archive, ", ".join(tags) or "(untagged)")
    _stage_udev_rules(tree, manifest, extension_dir)
    install_credentials(tree, credentials)

    override = _prepare_override(tree, extension_dir)
    compose_files = [extension_dir / COMPOSE_FILE]
    state_dir.mkdir(parents=True, exist_ok=True)
    override_path = state_dir / OVERRIDE_FILE
    if override.document:
        override_path.write_text(yaml.safe_dump(override.document, sort_keys=False))
        compose_files.append(override_path)
    elif override_path.exists():
        override_path.unlink()
    result = Installed(manifest, extension_dir, docker_cli.project_name(name), tuple(compose_files))
    _write_record(state_dir, result)
    if start:
        docker_cli.compose(result.project, result.compose_files, ["up", "-d"], f"starting {name}")
        LOG.info("started %s (compose project %s)", name, result.project)
    return result


def uninstall(name: str, root: Path, keep_images: bool = False) -> None:
    """Stop and remove extension ``name``: containers, folder, staged udev rules, images.

    ``keep_images`` leaves the Docker images loaded (faster reinstall). The payload
    credentials belong to the CORE I/O and stay.
    """
    tree = CoreIoRoot.at(root)
    installed = _installed_or_none(tree, name)
    if installed is None:
        raise InstallError(f"no extension {name!r} is installed under {tree.root}")
    docker_cli.check_engine()
    images = _compose_images(installed.extension_dir / COMPOSE_FILE)
    _compose_down(installed)
    if installed.manifest.udev_rules:
        (tree.udev_rules_dir / installed.manifest.udev_rules).unlink(missing_ok=True)
    shutil.rmtree(installed.extension_dir)
    shutil.rmtree(tree.state_dir(name), ignore_errors=True)
    if not keep_images:
        for image in images:
            if not docker_cli.remove_image(image):
                LOG.warning("image %s is still in use elsewhere; left in place", image)
    LOG.info("removed %s", name)


def list_installed(root: Path) -> List[Installed]:
    """The extensions installed under ``root``, sorted by name."""
    tree = CoreIoRoot.at(root)
    if not tree.extensions_dir.is_dir():
        return []
    found = []
    for folder in sorted(tree.extensions_dir.iterdir()):
        if folder.is_dir() and not folder.name.endswith(_STAGING_SUFFIX):
            installed = _installed_or_none(tree, folder.name)
            if installed is not None:
                found.append(installed)
    return found


def _installed_or_none(tree: CoreIoRoot, name: str) -> Installed | None:
    extension_dir = tree.extension_dir(name)
    manifest = installed_manifest(extension_dir / MANIFEST_FILE)
    if manifest is None:
        return None
    record = tree.state_dir(name) / "install.json"
    files: Tuple[Path, ...] = (extension_dir / COMPOSE_FILE,)
    if record.is_file():
        files = tuple(Path(path) for path in json.loads(record.read_text())["compose_files"])
    return Installed(manifest, extension_dir, docker_cli.project_name(name), files)


def _write_record(state_dir: Path, installed: Installed) -> None:
    record = {
        "extension_name": installed.manifest.extension_name,
        "version": installed.manifest.version,
        "project": installed.project,
        "compose_files": [str(path) for path in installed.compose_files],
    }
    (state_dir / "install.json").write_text(json.dumps(record, indent=2) + "\n")


def _kept_paths(manifest: Manifest) -> List[str]:
    return list(manifest.files_to_save) + list(manifest.directories_to_save)


def _compose_down(installed: Installed) -> None:
    files = [path for path in installed.compose_files if path.exists()]
    if files:
        docker_cli.compose(
            installed.project,
            files,
            ["down", "--remove-orphans"],
            f"stopping {installed.manifest.extension_name}",
        )


def _stage_udev_rules(tree: CoreIoRoot, manifest: Manifest, extension_dir: Path) -> None:
    if not manifest.udev_rules:
        return
    tree.udev_rules_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(extension_dir / manifest.udev_rules, tree.udev_rules_dir / manifest.udev_rules)
    LOG.info(
        "staged udev rules %s in %s (a real CORE I/O copies them to /etc/udev/rules.d and"
        " triggers udev)",
        manifest.udev_rules,
        tree.udev_rules_dir,
    )


def _read_compose(compose_file: Path) -> dict:
    try:
        data = yaml.safe_load(compose_file.read_text())
    except yaml.YAMLError as exc:
        raise InstallError(f"{compose_file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InstallError(f"{compose_file}: expected a mapping at the top level")
    return data


def _compose_images(compose_file: Path) -> List[str]:
    if not compose_file.is_file():
        return []
    services = _read_compose(compose_file).get("services") or {}
    return sorted(
        {svc["image"] for svc in services.values() if isinstance(svc, dict) and svc.get("image")}
    )


def _prepare_override(tree: CoreIoRoot, extension_dir: Path) -> ComposeOverride:
    override = build_override(
        _read_compose(extension_dir / COMPOSE_FILE),
        tree,
        extension_dir,
        journald_available=docker_cli.journald_available(),
        daemon_log_driver=docker_cli.daemon_log_driver(),
    )
    for note in override.notes:
        LOG.warning("note: %s", note)
    for directory in override.directories:
        if not directory.exists():
            directory.mkdir(parents=True)
            LOG.info("created %s", directory)
    if override.credentials_mounted and not tree.credentials_file.is_file():
        LOG.warning(
            "note: no payload credentials at %s; pass --credentials FILE (GUID line 1,"
            " secret line 2) or the service cannot authenticate",
            tree.credentials_file,
        )
    return override
