"""CORE I/O credentials file: clear one-line errors, never the secret."""

from __future__ import annotations

import pytest
from camera_service.robot.credentials import (
    CredentialsError,
    check_credentials,
    read_credentials_file,
)

SECRET = "Zm9vYmFyc2VjcmV0"


def test_reads_guid_and_secret(tmp_path):
    path = tmp_path / "creds"
    path.write_text(f"0a1b2c3d-4e5f-6789-abcd-ef0123456789\n{SECRET}\n")
    creds = read_credentials_file(str(path))
    assert creds.guid.startswith("0a1b2c3d") and creds.secret == SECRET
    assert SECRET not in repr(creds) and SECRET not in str(creds)


@pytest.mark.parametrize(("content", "needle"), [
    ("only-one-line\n", "expected 2 non-empty lines"),
    (f"guid\n{SECRET}\nextra\n", "expected 2 non-empty lines"),
    (f"not a guid\n{SECRET}\n", "GUID is malformed"),
    (f"0a1b2c3d\n{SECRET} x\n", "whitespace"),
])
def test_malformed_files(tmp_path, content, needle):
    path = tmp_path / "creds"
    path.write_text(content)
    with pytest.raises(CredentialsError) as err:
        read_credentials_file(str(path))
    assert needle in str(err.value) and SECRET not in str(err.value)


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(CredentialsError, match="does not exist"):
        read_credentials_file(str(tmp_path / "absent"))
    folder = tmp_path / "creds"
    folder.mkdir()  # exists but cannot be read as a file (chmod does not stop root)
    with pytest.raises(CredentialsError, match="cannot read"):
        read_credentials_file(str(folder))


def test_check_credentials_requires_both():
    with pytest.raises(CredentialsError):
        check_credentials("0a1b2c3d", "", "--guid/--secret")
