"""The parts of a ``multipart/x-mixed-replace`` stream (MJPEG), read into one reused buffer.

``MultipartReader(receive, boundary, ...)`` reads bytes with ``receive(view) -> count``
(at most one socket read into ``view``, at most ``len(view)`` bytes, 0 at the end of the
stream) into a buffer it keeps across parts, and returns each part's body as ``bytes``: one
copy of the camera's bytes, the buffer otherwise reused. Delimiters, header ends and
lengths are found with ``bytearray.find`` (C), never by Python loops over bytes; a part with
``Content-Length`` is not scanned at all.

Every limit comes from ``camera_limits.CameraLimits`` and is applied before anything
proportional to the input is kept (header lines, header bytes, part size, bytes skipped
between parts, the byte-rate floor); a stream that breaks one raises ``StreamError`` with
one line naming the problem.

``arrival`` is when the first byte of the last returned part's body arrived, in wall-clock
seconds (``time.time()``'s clock): the time of the read that delivered that byte - the
kernel's receive time of that read's newest segment when ``read_time()`` (called after each
``receive``) tells it, else the wall clock as the read returned. So that a read's newest
segment is the part's first one, every read that can deliver a part's first body byte is
short: while looking for a delimiter and reading a part header at most ``HEAD_READ`` bytes
(the low-water mark then 1, so the read returns as soon as the first segment is there); the
last read of a body of known length at most ``HEAD_READ`` bytes past its end; a body
without ``Content-Length`` in reads of at most ``limits.wait_bytes`` (the one that finds its
end may bring the next part's first bytes with up to that many more). With
``low_water(n)`` (the socket's ``SO_RCVLOWAT``), a body of known length is waited for in
reads of up to ``limits.wait_bytes`` bytes.
"""

from __future__ import annotations

import collections
import time
from typing import Callable, Deque, Optional, Tuple

from camera_service.sources.camera_limits import DEFAULT_LIMITS, CameraLimits

Receive = Callable[[memoryview], int]
ReadTime = Callable[[], Optional[float]]  # the last read's kernel receive time, or None
LowWater = Callable[[int], None]
_INITIAL_BUFFER = 512 * 1024
HEAD_READ = 512  # bytes: a read that may bring a part's first body byte (see module doc)


class StreamError(Exception):
    """The connection could not be made or stopped delivering; message is one line, no
    credentials. ``while_connecting`` tells the two apart; ``refused`` marks a camera that
    refused the credentials (HTTP 401/403), which is retried slowly."""

    def __init__(self, message: str, while_connecting: bool = False,
                 refused: bool = False) -> None:
        super().__init__(message)
        self.while_connecting = while_connecting
        self.refused = refused


class MultipartReader:
    """Parts of one multipart stream (see module doc). ``camera`` names the camera in
    errors (credentials already removed); ``window`` is the byte-rate floor's window in
    seconds (the stream's timeout). One thread."""

    def __init__(self, receive: Receive, boundary: bytes, camera: str,
                 limits: CameraLimits = DEFAULT_LIMITS, window: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 low_water: Optional[LowWater] = None,
                 read_time: Optional[ReadTime] = None) -> None:
        self._receive = receive
        self._read_time = read_time
        self._low_water = low_water
        self._low = 1  # the low-water mark set now
        self._core = boundary.strip(b'"').lstrip(b"-")
        self._delimiter = b"--" + self._core
        self.camera = camera
        self.limits = limits
        self._window = window
        self._clock = clock
        self._wall_clock = wall_clock
        self._buf = bytearray(_INITIAL_BUFFER)
        self._view = memoryview(self._buf)
        self._lo = self._hi = 0  # unread bytes are _buf[_lo:_hi]
        self._base = 0  # stream offset of _buf[0]
        self._arrivals: Deque[Tuple[int, float]] = collections.deque()  # (end offset, time)
        self._at_part_start = False  # the last part's body ended at the next delimiter line
        self._ended = False
        self._window_start = clock()
        self._window_bytes = 0
        self._window_parts = 0
        self.arrival = 0.0

    # -- reading bytes --------------------------------------------------------------------
    def _fill(self, most: int = HEAD_READ) -> None:
        """Read once more, at most ``most`` bytes (making room first); raises at the end of
        the stream or when the camera is under the byte-rate floor."""
        if self._hi == len(self._buf):
            self._make_room(len(self._buf) + 1)
        count = self._receive(self._view[self._hi:self._hi + most])
        if not count:
            raise StreamError(f"stream from {self.camera} ended")
        self._hi += count
        when = self._read_time() if self._read_time is not None else None
        self._arrivals.append((self._base + self._hi,
                               self._wall_clock() if when is None else when))
        self._check_rate(count)

    def _make_room(self, wanted: int) -> None:
        """Make the buffer able to hold ``wanted`` unread bytes: move them to the front,
        grow (up to the limits' ``buffer_bytes``) when that is not enough."""
        unread = self._hi - self._lo
        if self._lo:
            self._view[:unread] = self._view[self._lo:self._hi]
            self._base += self._lo
            self._lo, self._hi = 0, unread
        if wanted > len(self._buf):
            if wanted > self.limits.buffer_bytes:
                raise StreamError(f"camera at {self.camera} sent a part over the "
                                  f"{self.limits.part_bytes}-byte limit")
            size = min(max(wanted, 2 * len(self._buf)), self.limits.buffer_bytes)
            grown = bytearray(size)
            grown[:unread] = self._view[:unread]
            self._view.release()
            self._buf, self._view = grown, memoryview(grown)

    def _check_rate(self, count: int) -> None:
        self._window_bytes += count
        now = self._clock()
        span = now - self._window_start
        if span < self._window:
            return
        floor = self.limits.min_bytes_per_second
        if not self._window_parts and self._window_bytes < floor * span:
            raise StreamError(
                f"camera at {self.camera} sent {self._window_bytes} bytes in {span:.1f} s "
                f"and no complete frame (under {floor:.0f} bytes/s): check its network link")
        self._window_start, self._window_bytes, self._window_parts = now, 0, 0

    def _arrival_of(self, offset: int) -> float:
        """The time of the read that delivered stream offset ``offset``."""
        arrivals = self._arrivals
        while len(arrivals) > 1 and arrivals[0][0] <= offset:
            arrivals.popleft()
        return arrivals[0][1] if arrivals else self._wall_clock()

    # -- parts ----------------------------------------------------------------------------
    def next_part(self) -> bytes:
        """The next part's body, as sent. Raises ``StreamError`` when the stream ends or
        breaks a limit."""
        if self._ended:
            raise StreamError(f"camera at {self.camera} ended the stream")
        if not self._at_part_start:
            self._skip_to_delimiter()
        self._at_part_start = False
        length = self._part_header()
        first = self._base + self._lo
        body = self._body(length) if length is not None else self._body_to_delimiter()
        self.arrival = self._arrival_of(first)
        self._window_parts += 1
        return body

    def _line_end(self, start: int, limit: int) -> int:
        """Offset of the ``\\n`` ending the line at ``_buf[start]`` (reading more as
        needed), or -1 when the line is longer than ``limit`` bytes. ``start`` is relative
        to ``_lo`` on return as on entry (the buffer may move)."""
        while True:
            at = self._lo + start
            end = self._buf.find(b"\n", at, min(self._hi, at + limit + 1))
            if end >= 0:
                return end - self._lo
            if self._hi - at > limit:
                return -1
            self._fill()

    def _skip_to_delimiter(self) -> None:
        """Consume bytes up to and including the next delimiter line (at most
        ``skip_bytes`` of other bytes)."""
        pattern, skipped = self._delimiter, 0
        while True:
            found = self._buf.find(pattern, self._lo, self._hi)
            if found < 0:
                keep = min(self._hi - self._lo, len(pattern) - 1)
                skipped += self._hi - self._lo - keep
                self._lo = self._hi - keep
                if skipped > self.limits.skip_bytes:
                    raise StreamError(f"camera at {self.camera} sent {skipped} bytes without "
                                      "a multipart delimiter: check the stream path in 'url'")
                self._fill()
                continue
            skipped += found - self._lo
            self._lo = found
            line = self._delimiter_line(0)
            if line is not None:
                self._lo += line[0]
                if line[1]:
                    self._ended = True
                    raise StreamError(f"camera at {self.camera} ended the stream")
                return
            self._lo += 1

    def _delimiter_line(self, start: int) -> Optional[Tuple[int, bool]]:
        """At ``_buf[_lo + start]`` starts ``--boundary``: when its line is a delimiter,
        ``(offset just past the line, whether it is the closing one)``, relative to
        ``_lo``; ``None`` when the line goes on with other bytes."""
        after = start + len(self._delimiter)
        end = self._line_end(after, self.limits.delimiter_line)
        if end < 0:
            return None
        rest = bytes(self._view[self._lo + after:self._lo + end]).strip()
        if rest not in (b"", b"--"):
            return None
        return end + 1, rest == b"--"

    def _part_header(self) -> Optional[int]:
        """Consume a part's header lines; the declared Content-Length or ``None``."""
        limits, length, lines, start = self.limits, None, 0, 0
        while True:
            end = self._line_end(start, limits.part_header_line)
            if end < 0:
                raise StreamError(f"camera at {self.camera} sent a part header line over "
                                  f"{limits.part_header_line} bytes")
            line = bytes(self._view[self._lo + start:self._lo + end]).strip()
            start = end + 1
            if not line:
                self._lo += start
                return length
            lines += 1
            if lines > limits.part_header_lines or start > limits.part_header_bytes:
                raise StreamError(f"camera at {self.camera} sent a part header over "
                                  f"{limits.part_header_lines} lines or "
                                  f"{limits.part_header_bytes} bytes")
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value)
                if length > limits.part_bytes:
                    raise StreamError(f"camera at {self.camera} declared a {length}-byte "
                                      f"part, over the {limits.part_bytes}-byte limit")

    def _body(self, length: int) -> bytes:
        if self._lo + length > len(self._buf):
            self._make_room(length)
        missing = length - (self._hi - self._lo)
        while missing > 0:
            self._wait_for(missing)
            self._fill(missing + HEAD_READ)
            missing = length - (self._hi - self._lo)
        self._wait_for(1)
        body = bytes(self._view[self._lo:self._lo + length])
        self._lo += length
        return body

    def _wait_for(self, count: int) -> None:
        """Have the next read wait for ``count`` bytes (capped), when the socket can."""
        low = min(count, self.limits.wait_bytes, len(self._buf) - self._hi)
        if self._low_water is not None and low != self._low and low > 0:
            self._low_water(low)
            self._low = low

    def _body_to_delimiter(self) -> bytes:
        """A part without Content-Length: its bytes up to the line break before the next
        delimiter line (which is consumed)."""
        pattern, scanned = self._delimiter, 0
        while True:
            found = self._buf.find(pattern, self._lo + scanned, self._hi)
            if found < 0:
                if self._hi - self._lo > self.limits.part_bytes:
                    raise StreamError(f"camera at {self.camera} sent a part without length "
                                      f"over the {self.limits.part_bytes}-byte limit")
                scanned = max(0, self._hi - self._lo - len(pattern))
                self._fill(self.limits.wait_bytes)
                continue
            start = found - self._lo
            line = start
            while line > 0 and self._buf[self._lo + line - 1] == 0x2D:  # more leading '-'
                line -= 1
            if line == 0 or self._buf[self._lo + line - 1] == 0x0A:
                delimiter = self._delimiter_line(start)
                if delimiter is not None:
                    body = self._body_before(line)
                    self._lo += delimiter[0]
                    self._ended = delimiter[1]
                    self._at_part_start = True
                    return body
            scanned = start + 1

    def _body_before(self, line: int) -> bytes:
        """The bytes before the delimiter line at ``_lo + line`` less its line break."""
        end = line
        if end and self._buf[self._lo + end - 1] == 0x0A:
            end -= 1
            if end and self._buf[self._lo + end - 1] == 0x0D:
                end -= 1
        return bytes(self._view[self._lo:self._lo + end])
