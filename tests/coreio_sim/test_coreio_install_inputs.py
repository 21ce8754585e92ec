"""`coreio_sim install` checks its inputs before it touches anything: a bad credentials file is
refused in one line (no secret in it) and the tree stays as it was."""

from __future__ import annotations

import pytest

from coreio_sim.errors import InstallError
from coreio_sim.installer import install

SECRET = "s3cr3t-never-printed"


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("only-a-guid\n", "expected 2 lines (GUID, then secret), found 1"),
    (f"guid\n{SECRET}\nextra\n", "expected 2 lines (GUID, then secret), found 3"),
])
def test_bad_credentials_are_refused_before_anything_is_installed(tmp_path, content, message):
    credentials = tmp_path / "payload_guid_and_secret"
    if content is not None:
        credentials.write_text(content)
    root = tmp_path / "coreio"
    with pytest.raises(InstallError) as refused:
        install(tmp_path / "missing.spx", root, credentials=credentials)
    text = str(refused.value)
    assert message in text and "--credentials" in text
    assert "\n" not in text and SECRET not in text
    assert not root.exists()
