"""An HTTP MJPEG camera on loopback that sends what a test tells it, when it tells it.

``BurstCamera(first_part)`` listens on 127.0.0.1; its one client gets the HTTP head
(``multipart/x-mixed-replace``, or with ``chunked=True`` the same in chunked transfer
encoding, which clients read through ``http.client``) and ``first_part`` at once. After
that nothing is sent unless the test calls ``send(data)`` or
``send_in_bursts(data, split, gap)``: the bytes before ``split`` at once, the rest ``gap``
seconds later, from a thread, with the wall-clock times each burst was handed to the kernel
(``Bursts``). ``part(body)`` frames a body as one multipart part with ``Content-Length``.

Receive-time tests use it: a frame whose bytes arrive in two bursts a known time apart,
read by a client that is deliberately late.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

BOUNDARY = b"burstframe"


def part(body: bytes) -> bytes:
    """``body`` as one multipart part with ``Content-Length``, its trailing line break
    included."""
    return (b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
            % len(body) + body + b"\r\n")


@dataclass
class Bursts:
    """When each burst was handed to the kernel: ``started[i]`` just before its send call,
    ``returned[i]`` just after (wall clock, s). ``done`` is set after the last one."""

    started: List[float] = field(default_factory=list)
    returned: List[float] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


class BurstCamera:
    """See module doc. Context manager; one client connection."""

    def __init__(self, first_part: bytes, chunked: bool = False) -> None:
        self._first, self.chunked = first_part, chunked
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/video"
        self._client: Optional[socket.socket] = None
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="burst-camera")

    def __enter__(self) -> BurstCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.shutdown(socket.SHUT_RDWR)
            self._client.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return  # closed before anyone came
        with client.makefile("rb") as request:  # the request head, to its blank line
            while request.readline() not in (b"\r\n", b"\n", b""):
                pass
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary="
                + BOUNDARY + b"\r\nConnection: close\r\n")
        head += b"Transfer-Encoding: chunked\r\n\r\n" if self.chunked else b"\r\n"
        client.sendall(head + self._framed(self._first))
        self._client = client
        self._connected.set()

    def _framed(self, data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data

    def _wait_connected(self) -> socket.socket:
        if not self._connected.wait(timeout=10) or self._client is None:
            raise RuntimeError("no client connected to the burst camera within 10 s")
        return self._client

    def send(self, data: bytes) -> None:
        """Send ``data`` now (blocking until the kernel has taken it)."""
        self._wait_connected().sendall(self._framed(data))

    def send_in_bursts(self, data: bytes, split: int, gap: float) -> Bursts:
        """Send ``data[:split]`` now and ``data[split:]`` ``gap`` seconds later, from a
        thread; returns at once with the record it fills."""
        client, bursts = self._wait_connected(), Bursts()

        def run() -> None:
            for index, piece in enumerate((data[:split], data[split:])):
                if index:
                    time.sleep(gap)  # the camera's pause between the bursts
                bursts.started.append(time.time())
                client.sendall(self._framed(piece))
                bursts.returned.append(time.time())
            bursts.done.set()
        threading.Thread(target=run, daemon=True, name="burst-camera-send").start()
        return bursts
