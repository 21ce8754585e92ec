"""Build progress: steps numbered as the README lists them, nested steps under their parent,
step times that add up (no step counted twice), the total from the wall clock."""

from __future__ import annotations

import io

from spx_tools import base_image
from spx_tools.progress import Progress


def test_nested_steps_are_numbered_under_their_parent_and_timed_once():
    out = io.StringIO()
    progress = Progress(stream=out)
    with progress.step("engine"):
        pass
    with progress.step("base image"):
        with progress.step("debootstrap"):
            progress.info("I: Retrieved")
        with progress.step("import"):
            pass
    with progress.step("wheels"):
        pass
    lines = [line.strip() for line in out.getvalue().splitlines() if "[" in line]
    assert lines == ["[1] engine ...", "[2] base image ...", "[2.1] debootstrap ...",
                     "[2.2] import ...", "[3] wheels ..."]
    assert list(progress.timings) == ["engine", "base image", "wheels"]
    assert sum(progress.timings.values()) <= progress.total_seconds


def _inspect_with(labels):
    return lambda ref: {"Id": "sha256:abc", "Config": {"Labels": labels}}


def test_the_base_image_is_found_in_the_engine_by_its_recipe_not_by_a_marker(monkeypatch):
    recipe = base_image.recipe_digest("arm64")
    monkeypatch.setattr(base_image.docker_engine, "image_inspect", _inspect_with(
        {base_image.RECIPE_LABEL: recipe, base_image.PYTHON_LABEL: "3.11"}))
    found = base_image.cached_base("arm64")
    assert found is not None and found.python_version == "3.11" and found.image_id == "sha256:abc"


def test_a_base_image_of_another_recipe_is_made_again(monkeypatch):
    monkeypatch.setattr(base_image.docker_engine, "image_inspect", _inspect_with(
        {base_image.RECIPE_LABEL: "0000", base_image.PYTHON_LABEL: "3.11"}))
    assert base_image.cached_base("arm64") is None
    monkeypatch.setattr(base_image.docker_engine, "image_inspect", lambda ref: None)
    assert base_image.cached_base("arm64") is None
    assert base_image.recipe_digest("arm64") != base_image.recipe_digest("amd64")
