"""Deterministic .spx writing, parallel or single-core gzip, and docker-save archive reading."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from spx_fixtures import image_archive

from spx_tools import archive
from spx_tools import image_archive as images


@pytest.fixture
def inputs(tmp_path: Path) -> dict:
    (tmp_path / "in").mkdir()
    files = {}
    for name, data in {"manifest.json": b"{}", "config/config.yaml": b"a: 1\n",
                       "img.tar.gz": image_archive(), "b.txt": b"x" * 300_000}.items():
        source = tmp_path / "in" / name.replace("/", "_")
        source.write_bytes(data)
        files[name] = source
    return files


@pytest.mark.parametrize("pigz", [True, False], ids=["pigz", "python-gzip"])
def test_same_inputs_give_the_same_bytes(inputs, tmp_path, monkeypatch, pigz):
    if pigz and archive.shutil.which("pigz") is None:
        pytest.skip("pigz is not installed")
    if not pigz:
        monkeypatch.setattr(archive.shutil, "which", lambda name: None)
    first, second = tmp_path / "1.spx", tmp_path / "2.spx"
    archive.write_spx(first, inputs, epoch=1_700_000_000)
    for source in inputs.values():  # newer file times must not matter
        source.touch()
    archive.write_spx(second, dict(reversed(list(inputs.items()))), epoch=1_700_000_000)
    assert first.read_bytes() == second.read_bytes()
    header = first.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b" and header[4:8] == b"\0\0\0\0"  # gzip, no time stamp


def test_members_are_sorted_with_fixed_owner_and_time(inputs, tmp_path):
    target = tmp_path / "x.spx"
    archive.write_spx(target, inputs, epoch=1_234_567_890)
    with tarfile.open(target) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["config", "b.txt", "config/config.yaml",
                                         "img.tar.gz", "manifest.json"]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 1_234_567_890)}
    assert {m.mode for m in members if m.isfile()} == {0o644}


def test_saved_folders_belong_to_the_service_user(inputs, tmp_path):
    target = tmp_path / "x.spx"
    archive.write_spx(target, inputs, epoch=0, service_owned=["config"])
    with tarfile.open(target) as tar:
        owners = {m.name: (m.uid, m.gid) for m in tar.getmembers()}
    uid = archive.SERVICE_UID
    assert owners.pop("config") == owners.pop("config/config.yaml") == (uid, uid)
    assert set(owners.values()) == {(0, 0)}


def test_read_spx_inspects_image_archives(inputs, tmp_path):
    target = tmp_path / "x.spx"
    archive.write_spx(target, inputs, epoch=0)
    contents = archive.read_spx(target)
    assert contents.files["config/config.yaml"] == b"a: 1\n"
    (image,) = contents.archives["img.tar.gz"].images
    assert (image.tags, image.architecture, image.user) == \
        (("spot_camera_service:0.1.0",), "arm64", "1000:1000")


def _oci_archive() -> bytes:
    """The layout newer engines write: blobs/sha256/..., index.json and manifest.json."""
    config = {"architecture": "arm64", "os": "linux", "config": {"User": "1000"}}
    files = {"blobs/sha256/" + "c" * 64: json.dumps(config).encode(),
             "blobs/sha256/" + "d" * 64: archive.tar_bytes({"f": b"1"}),
             "index.json": b"{}", "oci-layout": b"{}",
             "manifest.json": json.dumps([{"Config": "blobs/sha256/" + "c" * 64,
                                           "RepoTags": ["a:1"],
                                           "Layers": ["blobs/sha256/" + "d" * 64]}]).encode()}
    return archive.tar_bytes(files)


def test_oci_layout_archives_are_read():
    info = images.inspect(io.BytesIO(_oci_archive()), "a.tar")
    assert info.loadable and info.images[0].architecture == "arm64"


def test_untagged_images_cannot_be_referenced():
    info = images.inspect(io.BytesIO(gzip.decompress(image_archive(tags=()))), "a.tar")
    assert not info.loadable and "RepoTags" in info.problems[0]


def _digest(data: bytes) -> str:
    return images.inspect(io.BytesIO(data), "a.tar.gz", digest=True).content_digest


def test_content_digest_ignores_config_but_not_layer_content():
    base = _digest(image_archive())
    assert base and base == _digest(image_archive(tags=("other:2",), user="0"))
    changed = gzip.decompress(image_archive()).replace(b"hello\n", b"HELLO\n")
    assert base != _digest(gzip.compress(changed))
