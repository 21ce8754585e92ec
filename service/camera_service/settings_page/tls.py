"""The settings page's TLS certificate.

``ensure_certificate(folder)`` returns the PEM certificate and key in ``folder``
(``settings-cert.pem``, ``settings-key.pem``), generating a self-signed EC P-256 pair on
first use; the key file is created with mode 0600. An operator may provide their own pair
instead (``settings.cert_file``/``key_file``). ``fingerprint`` is the SHA-256 of the
certificate's DER encoding as shown by browsers (``AB:CD:...``), logged at start so a user
can check the browser's warning against it.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from camera_service.core.errors import ConfigError

CERT_NAME = "settings-cert.pem"
KEY_NAME = "settings-key.pem"
VALID_DAYS = 3650


@dataclass(frozen=True)
class CertificatePair:
    """A certificate and key file, and whether they were made just now."""

    cert_file: Path
    key_file: Path
    generated: bool = False

    def fingerprint(self) -> str:
        return fingerprint(self.cert_file)

    def server_context(self) -> ssl.SSLContext:
        """A TLS 1.2+ server context with this pair. Raises ``ConfigError`` when the files do
        not form a usable pair."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as err:
            raise ConfigError("settings.cert_file", f"cannot use {self.cert_file} with "
                              f"{self.key_file}: {getattr(err, 'strerror', None) or err}; "
                              "give a PEM certificate and its key") from None
        return context


def fingerprint(cert_file: Path) -> str:
    """SHA-256 fingerprint of the first certificate in a PEM file, colon-separated hex."""
    der = ssl.PEM_cert_to_DER_cert(Path(cert_file).read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ensure_certificate(folder: Path) -> CertificatePair:
    """The pair kept in ``folder``, generated there when either file is missing.
    Raises ``ConfigError`` when ``folder`` is not writable."""
    pair = CertificatePair(folder / CERT_NAME, folder / KEY_NAME)
    if pair.cert_file.is_file() and pair.key_file.is_file():
        return pair
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = generate_self_signed(socket.gethostname())
        _write_private(pair.key_file, key_pem)
        _write_atomically(pair.cert_file, cert_pem)
    except OSError as err:
        raise ConfigError("settings.data_dir", f"cannot write the settings page's "
                          f"certificate into {folder}: {err.strerror or err}; make the "
                          "folder writable for the service's user or set "
                          "settings.cert_file and settings.key_file") from None
    return CertificatePair(pair.cert_file, pair.key_file, generated=True)


def generate_self_signed(hostname: str) -> tuple:
    """(certificate PEM, private key PEM) of a new self-signed EC P-256 certificate for
    ``hostname``, ``localhost`` and 127.0.0.1, valid ``VALID_DAYS`` days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "spot_camera_service settings"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, hostname[:64] or "CORE I/O"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if hostname and hostname != "localhost":
        alt_names.insert(0, x509.DNSName(hostname))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
