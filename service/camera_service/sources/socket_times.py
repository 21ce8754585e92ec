"""Reads from a TCP socket that say when the kernel received their bytes.

``TimedReceive.for_socket(sock)`` turns on the kernel's receive timestamps
(``SO_TIMESTAMPNS``) for ``sock`` and returns a ``TimedReceive``, or ``None`` where they
cannot be had: not Linux, a TLS socket (``ssl.SSLSocket`` has no ``recvmsg``), or the option
refused. Each call ``receive(view)`` is one ``recvmsg_into`` into ``view`` (the socket's
timeout applies as to any read: a silent peer raises ``socket.timeout``); afterwards
``receive.time`` is the wall-clock time (``CLOCK_REALTIME``, seconds, the clock of
``time.time()``) at which the kernel received the NEWEST network segment among those the
read consumed - for TCP that is the last segment the read took bytes from, so a short read
tells the arrival of the bytes it returned. ``None`` when the read carried no timestamp
(bytes received before the option was on, or just after it when this socket is the first of
the machine to ask: the kernel turns its timestamping on with deferred work) or an
implausible one (later than the read itself or ``MAX_AGE`` older: a kernel stamping another
clock).

The kernel merges segments that wait unread into one buffer (up to ``MAX_SKB_FRAGS``, 17
pieces by default) and keeps the newest one's time: a reader that runs late is told the time
of the newest segment merged with the ones it reads, which is still no later than that.
"""

from __future__ import annotations

import socket
import ssl
import struct
import sys
import time
from typing import Callable, Optional

# <asm-generic/socket.h> (x86, arm, arm64, riscv...): Python's socket module lacks them.
# The *_OLD layout: struct timespec of two native longs (64-bit time_t on 64-bit Linux).
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
MAX_AGE = 60.0  # seconds: bytes cannot wait unread longer (a camera's timeout is far less)


def _kernel_time(ancillary: list) -> Optional[float]:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and \
                len(data) >= _TIMESPEC.size:
            seconds, nanos = _TIMESPEC.unpack_from(data)
            return seconds + nanos / 1e9
    return None


class TimedReceive:
    """``receive(view) -> count`` on a socket with kernel receive times (see module doc).
    One thread at a time; ``wall_clock`` (injectable) bounds what is plausible."""

    def __init__(self, sock: socket.socket,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._recvmsg_into = sock.recvmsg_into
        self._wall_clock = wall_clock
        self.time: Optional[float] = None

    @classmethod
    def for_socket(cls, sock: object) -> Optional[TimedReceive]:
        """A ``TimedReceive`` for ``sock`` with timestamps turned on, or ``None`` where the
        kernel cannot tell (the caller keeps its own reads and the wall clock)."""
        if not sys.platform.startswith("linux") or not _ANCILLARY or \
                not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket) or \
                sock.type != socket.SOCK_STREAM:
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            if not sock.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS):
                return None
        except OSError:
            return None
        return cls(sock)

    def __call__(self, view: memoryview) -> int:
        count, ancillary, _flags, _address = self._recvmsg_into([view], _ANCILLARY)
        stamp = _kernel_time(ancillary) if count else None
        if stamp is not None:
            now = self._wall_clock()
            if not now - MAX_AGE < stamp <= now:
                stamp = None
        self.time = stamp
        return count
