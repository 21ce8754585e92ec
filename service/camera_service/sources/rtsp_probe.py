"""Why an RTSP camera could not be opened, in one line: FFmpeg (through OpenCV) only says
that it failed, so after a failed open the source asks the camera itself, the way FFmpeg
would: connect, then ``DESCRIBE`` (with Digest or Basic authentication when the URL holds
credentials), and names the step that failed - connect, authenticate, stream path, or the
codec/transport when the camera describes a stream FFmpeg still could not open.

Every read is bounded (``MAX_ANSWER`` bytes, ``timeout`` seconds); no message holds the
password (the caller passes the URL as shown, credentials masked, for messages).
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from camera_service.core.redaction import split_url

MAX_ANSWER = 64 * 1024
DEFAULT_PORT = 554


@dataclass(frozen=True)
class Diagnosis:
    """The failed step (``connect``, ``authenticate``, ``path``, ``codec``, ``server``) and
    one line for the operator."""

    step: str
    message: str


def diagnose(url: str, shown_url: str, timeout: float) -> Diagnosis:
    """Ask the RTSP camera at ``url`` what FFmpeg could not tell (see module doc)."""
    parts = split_url(url)
    match = re.match(r"^rtsps?://([^/:?#]+|\[[^\]]+\])(?::(\d+))?", parts.bare)
    if match is None:
        return Diagnosis("server", f"{shown_url} is not an rtsp://host[:port]/path URL")
    host, port = match.group(1).strip("[]"), int(match.group(2) or DEFAULT_PORT)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            status, headers, body = _describe(conn, parts.bare, None, 1)
            if status == 401 and parts.user is not None:
                status, headers, body = _describe(
                    conn, parts.bare, _authorization(headers, parts.bare, parts.user,
                                                     parts.password or ""), 2)
    except OSError as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        return Diagnosis("connect", f"cannot connect to {host}:{port} ({reason}): check the "
                         "camera's address and RTSP port, and that it is on the network")
    except ValueError as err:
        return Diagnosis("server", f"{host}:{port} does not answer as an RTSP server ({err})")
    return _verdict(status, body, shown_url)


def _verdict(status: int, body: bytes, shown_url: str) -> Diagnosis:
    if status == 401:
        return Diagnosis("authenticate", f"the camera refused the user name or password of "
                         f"{shown_url}: fix user:password in 'url'")
    if status == 403:
        return Diagnosis("authenticate", "the camera's account may not view this stream")
    if status == 404:
        return Diagnosis("path", f"the camera has no stream at {shown_url}: check the stream "
                         "path in 'url' (the camera's manual names it)")
    if status == 200:
        codecs = sorted(set(re.findall(rb"a=rtpmap:\d+ ([A-Za-z0-9-]+)/", body)))
        named = ", ".join(c.decode() for c in codecs) or "an unnamed codec"
        return Diagnosis("codec", f"the camera describes a stream ({named}) that FFmpeg could "
                         "not open: check the codec, or try rtsp_transport: udp/tcp")
    return Diagnosis("server", f"the camera answered RTSP {status} to DESCRIBE")


def _describe(conn: socket.socket, url: str, authorization: Optional[str],
              cseq: int) -> Tuple[int, Dict[str, str], bytes]:
    lines = [f"DESCRIBE {url} RTSP/1.0", f"CSeq: {cseq}", "Accept: application/sdp",
             "User-Agent: camera-service"]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = conn.recv(4096)
        if not chunk:
            break
        answer += chunk
        if len(answer) > MAX_ANSWER:
            raise ValueError(f"an answer head over {MAX_ANSWER // 1024} KiB")
    head, _, body = answer.partition(b"\r\n\r\n")
    first, *rest = head.decode("latin-1").split("\r\n")
    status = re.match(r"^RTSP/1\.\d (\d{3})", first)
    if status is None:
        raise ValueError(f"its answer starts {first[:40]!r}")
    headers = {}
    for line in rest:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), MAX_ANSWER)
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return int(status.group(1)), headers, body


def _authorization(headers: Dict[str, str], url: str, user: str, password: str) -> str:
    """Digest (RFC 2617, MD5, as RTSP cameras ask) when the camera asks for it, else Basic."""
    challenge = headers.get("www-authenticate", "")
    if challenge.lower().startswith("digest"):
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
        realm, nonce = fields.get("realm", ""), fields.get("nonce", "")

        def md5(text: str) -> str:
            return hashlib.md5(text.encode("utf-8")).hexdigest()

        response = md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:"
                       f"{md5(f'DESCRIBE:{url}')}")
        return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{url}", '
                f'response="{response}"')
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
