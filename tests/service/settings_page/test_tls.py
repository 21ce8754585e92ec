"""The page's certificate: made once with a private key file, reused afterwards, its
fingerprint the SHA-256 of the DER certificate; an unwritable folder is one clear error."""

from __future__ import annotations

import hashlib
import os
import ssl
import stat

import pytest
from camera_service.core.errors import ConfigError
from camera_service.settings_page.tls import CertificatePair, ensure_certificate


def test_generated_once_then_reused(tmp_path):
    first = ensure_certificate(tmp_path / "saved")
    assert first.generated
    assert stat.S_IMODE(os.stat(first.key_file).st_mode) == 0o600
    again = ensure_certificate(tmp_path / "saved")
    assert not again.generated
    assert again.fingerprint() == first.fingerprint()
    der = ssl.PEM_cert_to_DER_cert(first.cert_file.read_text())
    assert first.fingerprint().replace(":", "") == hashlib.sha256(der).hexdigest().upper()
    assert len(first.fingerprint().split(":")) == 32


def test_pair_makes_a_server_context(tmp_path):
    pair = ensure_certificate(tmp_path)
    assert isinstance(pair.server_context(), ssl.SSLContext)


def test_mismatched_operator_pair_is_refused(tmp_path):
    one = ensure_certificate(tmp_path / "one")
    two = ensure_certificate(tmp_path / "two")
    with pytest.raises(ConfigError) as caught:
        CertificatePair(one.cert_file, two.key_file).server_context()
    assert caught.value.key == "settings.cert_file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_is_one_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ConfigError) as caught:
            ensure_certificate(folder)
    finally:
        folder.chmod(0o700)
    assert caught.value.key == "settings.data_dir"
    assert "writable" in caught.value.problem
