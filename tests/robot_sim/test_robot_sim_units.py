"""Unit checks of the simulator's parts: tokens, certificates, authority names, time sync math."""

from __future__ import annotations

import time

import jwt
from bosdyn.api import time_sync_pb2
from cryptography import x509

from robot_sim import certs
from robot_sim.clock import nsec_to_timestamp
from robot_sim.services.time_sync import estimate
from robot_sim.state import normalize_authority
from robot_sim.tokens import TokenAuthority, bearer_token


def test_tokens_verify_until_key_rotates():
    tokens = TokenAuthority("serial-1")
    token = tokens.issue("guid-1", "payload")
    claims = tokens.verify(token)
    assert (claims.subject, claims.kind) == ("guid-1", "payload")
    tokens.rotate_key()
    assert tokens.verify(token) is None


def test_expired_or_foreign_tokens_are_refused():
    tokens = TokenAuthority("serial-1", lifetime_seconds=-10)
    assert tokens.verify(tokens.issue("user", "user")) is None
    other_robot = TokenAuthority("serial-2")
    assert TokenAuthority("serial-1").verify(other_robot.issue("user", "user")) is None
    assert tokens.verify("garbage") is None
    claims = {"sub": "user", "aud": "serial-1", "iss": "robot_sim", "exp": int(time.time()) + 60}
    forged = jwt.encode(claims, "a-guessed-key-of-32-bytes-or-more", algorithm="HS256")
    assert TokenAuthority("serial-1").verify(forged) is None


def test_bearer_token_from_metadata():
    assert bearer_token([("user-agent", "x"), ("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("authorization", "Basic abc")]) is None
    assert bearer_token(None) is None


def test_server_certificate_names_and_issuer():
    ca_pem, cert_pem, _ = certs.generate(["10.0.2.2", "sim.example"])
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(names.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    assert {"*.spot.robot", "auth.spot.robot", "api.spot.robot", "id.spot.robot",
            "payload-registration.spot.robot", "localhost", "sim.example"} <= dns
    assert ips == {"127.0.0.1", "10.0.2.2"}


def test_authorities_are_normalized():
    assert normalize_authority("Camera-Image-Service") == "camera-image-service.spot.robot"
    assert normalize_authority("cam.spot.robot") == "cam.spot.robot"
    assert normalize_authority("") == ""


def test_time_sync_estimate_of_one_round_trip():
    skew = 3_000_000_000  # robot 3 s ahead
    client_tx = 1_000_000_000_000
    round_trip = time_sync_pb2.TimeSyncRoundTrip(
        client_tx=nsec_to_timestamp(client_tx),
        server_rx=nsec_to_timestamp(client_tx + 1_000_000 + skew),
        server_tx=nsec_to_timestamp(client_tx + 1_500_000 + skew),
        client_rx=nsec_to_timestamp(client_tx + 2_500_000),
    )
    assert estimate(round_trip) == (2_000_000, skew)
