"""Every YAML config example in README.md and docs/ (and docs/examples/*.yaml) is a valid
config: the project's loader (``camera_service.config.model.from_mapping``, which also reads
calibration files) accepts it, and so does the schema's model of the whole file
(``camera_service.schema.document.ConfigFile``, each source kind's own keys included).

Calibration files an example names (``calibration: front.yaml``) are written beside it, at
the example's size, so the loader can read them as it would on the robot."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
import yaml
from camera_service.config import model as config_model
from camera_service.core.errors import ConfigError
from camera_service.geometry.calibration_file import write_calibration
from camera_service.geometry.camera_model import CameraModel

from tests.docs.doc_sources import ROOT, Block, all_blocks

EXAMPLE_FILES = sorted((ROOT / "docs" / "examples").glob("*.yaml"))


def examples() -> List[Block]:
    found = [block for block in all_blocks() if block.language in ("yaml", "yml")]
    found += [Block(path, 1, "yaml", path.read_text()) for path in EXAMPLE_FILES]
    return found


EXAMPLES = examples()


def _write_calibrations(data: dict, folder: Path) -> None:
    for source in data.get("sources") or []:
        name = source.get("calibration") if isinstance(source, dict) else None
        if name and not Path(name).is_absolute():
            width, height = source.get("width", 1280), source.get("height", 720)
            write_calibration(str(folder / name), CameraModel(
                width, height, fx=0.8 * width, fy=0.8 * width, cx=width / 2, cy=height / 2))


def _container_paths_into(data: dict, folder: Path) -> None:
    """The extension's container sees its config folder as ``/config``: a ``/config/...``
    file an example names (the robot's CA) is made in ``folder`` instead, as a real PEM."""
    from robot_sim.certs import generate

    for section in ("robot", "settings"):
        for key, value in (data.get(section) or {}).items():
            if isinstance(value, str) and value.startswith("/config/"):
                path = folder / Path(value).name
                path.write_bytes(generate()[0])
                data[section][key] = str(path)


def test_there_are_examples_in_the_readme_and_the_pages():
    places = {block.path.name for block in EXAMPLES}
    assert {"README.md", "configuration.md", "cameras.md", "geometry.md"} <= places


@pytest.mark.parametrize("block", EXAMPLES, ids=[block.where for block in EXAMPLES])
def test_yaml_example_is_a_valid_config(block, tmp_path):
    from camera_service.schema.base import validate
    from camera_service.schema.document import ConfigFile

    data = yaml.safe_load(block.text)
    assert isinstance(data, dict), f"{block.where}: not a config mapping"
    _write_calibrations(data, tmp_path)
    _container_paths_into(data, tmp_path)
    try:
        config_model.from_mapping(data, str(tmp_path))
        validate(ConfigFile, data)
    except ConfigError as err:
        pytest.fail(f"{block.where}: {err}")
