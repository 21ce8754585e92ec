"""Reading and unpacking .spx files (coreio_sim.spx_archive)."""

from __future__ import annotations

import io
import tarfile

import pytest
from coreio_spx_factory import manifest_dict, write_spx

from coreio_sim.errors import InstallError
from coreio_sim.spx_archive import SpxArchive


def test_valid_spx_opens_and_unpacks_every_file(make_spx, tmp_path):
    spx = SpxArchive.open(make_spx(extra={"config/default.yaml": b"sources: []\n"}))
    assert spx.manifest.extension_name == "tiny-ext"
    assert "config/default.yaml" in spx.members
    dest = tmp_path / "unpacked"
    spx.unpack(dest)
    assert (dest / "config" / "default.yaml").read_bytes() == b"sources: []\n"
    assert (dest / "image.tar.gz").is_file()
    assert (dest / "manifest.json").is_file()


def test_image_list_must_match_archives_exactly(make_spx):
    spx = make_spx(extra={"other.tar.gz": b"x"})
    with pytest.raises(InstallError, match=r"present but unlisted: \['other.tar.gz'\]"):
        SpxArchive.open(spx)
    missing = make_spx(manifest=manifest_dict(images=["a.tar.gz", "b.tar.gz"]))
    # the factory writes every listed archive; drop one by rebuilding without it
    with tarfile.open(missing) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.name != "b.tar.gz"}
    write_spx(missing, files)
    with pytest.raises(InstallError, match=r"listed but absent: \['b.tar.gz'\]"):
        SpxArchive.open(missing)


def test_missing_compose_manifest_or_udev_file_is_named(make_spx, tmp_path):
    no_manifest = write_spx(tmp_path / "a.spx", {"docker-compose.yml": b"services: {}\n"})
    with pytest.raises(InstallError, match=r"no manifest\.json"):
        SpxArchive.open(no_manifest)
    with tarfile.open(make_spx()) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}
    del files["docker-compose.yml"]
    with pytest.raises(InstallError, match=r"no docker-compose\.yml"):
        SpxArchive.open(write_spx(tmp_path / "b.spx", files))
    with pytest.raises(InstallError, match=r"udev_rules 'x\.rules' is not in the \.spx"):
        SpxArchive.open(make_spx(manifest=manifest_dict(udev_rules="x.rules")))


def test_not_a_gzip_tar_is_one_clear_error(tmp_path):
    bogus = tmp_path / "bogus.spx"
    bogus.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(InstallError, match="not a gzip-compressed tar"):
        SpxArchive.open(bogus)
    with pytest.raises(InstallError, match=r"no such \.spx file"):
        SpxArchive.open(tmp_path / "absent.spx")


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/escape.txt", "a/../../escape.txt"])
def test_members_leaving_the_folder_are_refused(make_spx, name):
    spx = make_spx()
    with tarfile.open(spx) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}
    files[name] = b"boom"
    write_spx(spx, files)
    with pytest.raises(InstallError, match="would leave the extension folder"):
        SpxArchive.open(spx)


def test_links_are_refused(make_spx):
    spx = make_spx()
    with tarfile.open(spx) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}
    with tarfile.open(spx, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        link = tarfile.TarInfo("passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(InstallError, match="link or special file"):
        SpxArchive.open(spx)


def test_dot_slash_prefixed_members_are_accepted(tmp_path, make_spx):
    with tarfile.open(make_spx()) as tar:
        files = {"./" + m.name: tar.extractfile(m).read() for m in tar}
    spx = SpxArchive.open(write_spx(tmp_path / "dotted.spx", files))
    assert "manifest.json" in spx.members
