"""A self-made certificate authority and the robot's TLS server certificate.

The SDK verifies the robot's certificate against its CA bundle and checks the name given by
``grpc.ssl_target_name_override`` (``auth.spot.robot``, ``api.spot.robot``, a payload's
``<authority>.spot.robot`` ...). The server certificate therefore names ``*.spot.robot``, the
bootstrap authorities, ``localhost``, ``127.0.0.1`` and the address the simulator serves on.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Iterable, List, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BOOTSTRAP_NAMES = (
    "*.spot.robot",
    "auth.spot.robot",
    "api.spot.robot",
    "id.spot.robot",
    "payload-registration.spot.robot",
    "localhost",
)
CA_FILE = "ca.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "robot_sim"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject_alt_names(extra_hosts: Iterable[str]) -> List[x509.GeneralName]:
    names: List[x509.GeneralName] = []
    seen = set()
    for host in [*BOOTSTRAP_NAMES, "127.0.0.1", *extra_hosts]:
        if not host or host in seen or host in ("0.0.0.0", "::"):
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate(extra_hosts: Iterable[str] = ()) -> Tuple[bytes, bytes, bytes]:
    """Make a fresh CA and a server certificate signed by it.

    Returns ``(ca_cert_pem, server_cert_pem, server_key_pem)``.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("robot_sim CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("api.spot.robot"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(_subject_alt_names(extra_hosts)), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return ca_cert.public_bytes(pem), server_cert.public_bytes(pem), _pem_key(server_key)


def write_certificates(
    directory: Path, extra_hosts: Iterable[str] = ()
) -> Tuple[Path, bytes, bytes]:
    """Generate certificates into ``directory``.

    Returns ``(ca_cert_path, server_cert_pem, server_key_pem)``. The CA file is what an SDK
    client loads with ``create_standard_sdk(..., cert_resource_glob=str(ca_cert_path))``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = generate(extra_hosts)
    ca_path = directory / CA_FILE
    ca_path.write_bytes(ca_pem)
    (directory / SERVER_CERT_FILE).write_bytes(cert_pem)
    key_path = directory / SERVER_KEY_FILE
    key_path.write_bytes(key_pem)
    key_path.chmod(0o600)
    return ca_path, cert_pem, key_pem
