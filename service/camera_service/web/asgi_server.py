"""An ASGI application (Starlette) served over TLS by uvicorn in a background thread of the
service process, with every limit on what a client may hold in one place (``ServerLimits``).

``BackgroundAsgiServer(app, address, context, limits).start()`` binds ``address`` at once
(an ``OSError`` when the port is taken), then serves from its own thread and event loop
until ``stop()``. The limits are applied where input enters, before any work in proportion
to it:

- **connections**: the server accepts connections itself; past ``max_connections`` open
  (TLS handshakes in progress included), or ``max_per_client`` from one address, a new
  connection is closed at once. So 800 half-open sockets cost a bounded number of file
  descriptors and the rest of the process (the gRPC server) never runs short.
- **TLS handshake**: ``handshake_seconds`` to finish it, else closed.
- **request head**: the request line and headers must arrive within ``head_seconds`` of the
  connection (or of the previous answer) and fit in ``max_header_bytes`` (counted as bytes
  arrive, before h11 parses them); else the connection is closed (answered 431 when too
  long).
- **keep-alive**: an idle connection is closed after ``keep_alive_seconds``.
- **concurrency**: uvicorn answers 503 past ``max_connections`` requests in flight.
- **body**: the whole body must arrive within ``body_seconds`` of the application asking
  for it (a client declaring 100 bytes and sending 10 held its connection and a task for
  good): the application's ``receive`` then raises ``SlowBody`` (a ``WebError``, 408). The
  application reads at most its own limit (``read_body``), and a refusal of a request with
  a body says ``Connection: close`` (or the unread body is drained by h11's framing, never
  parsed as a next request).

Log volume is bounded: a client closing its connection (at any point, TLS EOF included) is
a debug line, not an error; refusals (connection limit, timeouts, bad requests) are counted
per kind and logged at most every ``QuietLog.interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Set, Tuple

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from camera_service.web.errors import SlowBody
from camera_service.web.quiet_log import QuietLog

LOGGER = logging.getLogger(__name__)
TICK_SECONDS = 1.0  # the server loop's tick: exit checks, the Date header refreshed

# uvicorn's own loggers: its warnings (bad requests, 503s) go through the quiet log.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@dataclass(frozen=True)
class ServerLimits:
    """What one client (and all of them) may hold; see the module doc."""

    max_connections: int = 128
    max_per_client: int = 32
    handshake_seconds: float = 10.0
    head_seconds: float = 10.0
    body_seconds: float = 10.0
    keep_alive_seconds: float = 5.0
    max_header_bytes: int = 16 * 1024
    graceful_stop_seconds: float = 3.0


class BodyDeadline:
    """ASGI wrapper: a request's body messages must all arrive within ``seconds`` of the
    first ``receive`` for them; past that ``receive`` raises ``SlowBody``. After the body
    (or for a request without one) ``receive`` is the server's own (disconnect waits)."""

    def __init__(self, app: Callable, seconds: float) -> None:
        self._app = app
        self._seconds = seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: Optional[float] = None
        body_done = False

        async def receive_in_time():
            nonlocal deadline, body_done
            if body_done:
                return await receive()
            if deadline is None:
                deadline = loop.time() + self._seconds
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise SlowBody(f"the request body did not arrive within {self._seconds:g} s"
                               ) from None
            body_done = message.get("type") != "http.request" or not message.get("more_body")
            return message

        await self._app(scope, receive_in_time, send)


class _UvicornWarnings(logging.Filter):
    """Routes uvicorn's warnings and errors through the quiet log (one line per kind per
    interval) and its info lines to debug."""

    def __init__(self, quiet: QuietLog) -> None:
        super().__init__()
        self._quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().splitlines()[0][:200] if record.msg else "?"
        if record.levelno >= logging.WARNING:  # about clients and connections: at most a
            # warning (the application's own failures are caught and logged by it)
            self._quiet.note(f"http:{message}", f"settings page: {message}", logging.WARNING)
        elif LOGGER.isEnabledFor(logging.DEBUG):
            LOGGER.debug("uvicorn: %s", message)
        return False


class _Connection:
    """One accepted socket's slot in the connection count; released exactly once."""

    def __init__(self, server: BackgroundAsgiServer, client: str) -> None:
        self._server = server
        self.client = client
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._server._released(self.client)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (``head_seconds``) and a
    hook releasing the connection's slot when it closes."""

    slot: Optional[_Connection] = None
    head_seconds: float = 10.0
    body_seconds: float = 10.0
    max_header_bytes: int = 16 * 1024
    quiet: Optional[QuietLog] = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer: Optional[asyncio.TimerHandle] = None
        self._expect_head()

    def _expect_head(self) -> None:
        """The next bytes start a request head: it has ``head_seconds`` to arrive whole and
        may be ``max_header_bytes`` long."""
        self._head_size: Optional[int] = 0  # None: the head arrived
        self._head_tail = b""
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._head_size is not None and not self._head_fits(data):
            if self.quiet is not None:
                self.quiet.note("header-size", f"settings page: refused requests with a head "
                                f"over {self.max_header_bytes} bytes", logging.INFO)
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return
        super().data_received(data)

    def _head_fits(self, data: bytes) -> bool:
        """Counts ``data`` into the awaited request head (up to its blank line)."""
        before = self._head_size or 0
        seen = self._head_tail + data
        end = seen.find(b"\r\n\r\n")
        if end >= 0:
            self._head_size = None
            return before + end + 4 - len(self._head_tail) <= self.max_header_bytes
        self._head_size = before + len(data)
        self._head_tail = seen[-3:]
        return self._head_size <= self.max_header_bytes

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_seconds, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            if self.quiet is not None:
                self.quiet.note("head-timeout", f"settings page: closed connections that sent "
                                f"no complete request within {self.head_seconds:g} s",
                                logging.INFO)
            self.transport.close()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request head arrived whole
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        self._expect_head()  # the next request's head has its own deadline and size
        super().on_response_complete()  # (a pipelined head cancels it at once)

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        try:
            super().connection_lost(exc)
        finally:
            if self.slot is not None:
                self.slot.release()


class BackgroundAsgiServer:
    """Serves ``app`` over TLS (``context``) on ``address`` from a background thread; see
    the module doc. ``port`` is the bound port (``address`` may ask for port 0)."""

    thread_name = "https"

    def __init__(self, app: Callable, address: Tuple[str, int], context: ssl.SSLContext,
                 limits: ServerLimits | None = None,
                 logger: logging.Logger = LOGGER) -> None:
        self.limits = limits or ServerLimits()
        self.quiet = QuietLog(logger)
        self._context = context
        self._listener = socket.create_server(address, reuse_port=False)
        self._listener.setblocking(False)
        self._open = 0
        self._per_client: Dict[str, int] = {}
        self._count_lock = threading.Lock()
        self._handshakes: Set[asyncio.Task] = set()  # connections in their TLS handshake
        limits_ = self.limits
        protocol = type("SettingsH11Protocol", (GuardedH11Protocol,),
                        {"head_seconds": limits_.head_seconds, "quiet": self.quiet,
                         "max_header_bytes": limits_.max_header_bytes})
        self._config = uvicorn.Config(
            BodyDeadline(app, limits_.body_seconds), lifespan="off", log_config=None,
            access_log=False, http=protocol,
            ws="none", loop="asyncio", interface="asgi3", proxy_headers=False,
            server_header=False, limit_concurrency=limits_.max_connections + 1,
            timeout_keep_alive=int(max(1, limits_.keep_alive_seconds)),
            timeout_graceful_shutdown=int(max(1, limits_.graceful_stop_seconds)),
            h11_max_incomplete_event_size=limits_.max_header_bytes)
        self._server = _GuardedUvicorn(self._config, self)
        self._thread: Optional[threading.Thread] = None
        for name in _UVICORN_LOGGERS:
            uvicorn_logger = logging.getLogger(name)
            if not any(isinstance(f, _UvicornWarnings) for f in uvicorn_logger.filters):
                uvicorn_logger.addFilter(_UvicornWarnings(self.quiet))

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    @property
    def open_connections(self) -> int:
        with self._count_lock:
            return self._open

    def start(self) -> None:
        """Serve in a background thread until ``stop``; returns once serving."""
        started = threading.Event()
        self._server.on_started = started.set
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        started.wait(10)

    def stop(self) -> None:
        """Stop serving (answers under way get ``graceful_stop_seconds``), close the socket.
        Idempotent."""
        if self._thread is not None:
            self._server.request_exit()
            self._thread.join(self.limits.graceful_stop_seconds + 5)
            self._thread = None
        self._listener.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.serve())
        except Exception as err:  # the page goes away, the service keeps serving cameras
            LOGGER.error("settings page stopped: %s: %s", type(err).__name__, err)
        finally:
            loop.close()

    def _loop_exception(self, loop, context: Dict[str, Any]) -> None:
        """asyncio's unhandled errors on this loop: a client's broken connection is
        expected (debug); anything else is one rate-limited line, never a traceback."""
        err = context.get("exception")
        if isinstance(err, (ConnectionError, ssl.SSLError, OSError, asyncio.TimeoutError)):
            LOGGER.debug("settings page: %s", context.get("message"), exc_info=err)
            return
        what = type(err).__name__ if err is not None else context.get("message", "?")
        self.quiet.note(f"loop:{what}", f"settings page: unexpected {what} in the server loop",
                        logging.ERROR)

    # -- accepting ---------------------------------------------------------------------------
    async def accept_loop(self, create_protocol: Callable[[], GuardedH11Protocol]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, peer = await loop.sock_accept(self._listener)
            except asyncio.CancelledError:
                raise
            except OSError as err:  # out of descriptors, ...: wait, then accept again
                self.quiet.note("accept", f"settings page: cannot accept a connection: "
                                f"{err.strerror or err}")
                await asyncio.sleep(0.5)
                continue
            client = str(peer[0])
            slot = self._take(client)
            if slot is None:
                conn.close()
                continue
            task = loop.create_task(self._open_connection(conn, slot, create_protocol))
            self._handshakes.add(task)
            task.add_done_callback(self._handshakes.discard)

    def _take(self, client: str) -> Optional[_Connection]:
        limits = self.limits
        with self._count_lock:
            if self._open >= limits.max_connections:
                refused = f"{self._open} connections open (at most {limits.max_connections})"
            elif self._per_client.get(client, 0) >= limits.max_per_client:
                refused = (f"{client} holds {self._per_client[client]} connections (at most "
                           f"{limits.max_per_client} per client)")
            else:
                self._open += 1
                self._per_client[client] = self._per_client.get(client, 0) + 1
                return _Connection(self, client)
        self.quiet.note("connections", f"settings page: refused new connections: {refused}")
        return None

    def _released(self, client: str) -> None:
        with self._count_lock:
            self._open -= 1
            left = self._per_client.get(client, 1) - 1
            if left > 0:
                self._per_client[client] = left
            else:
                self._per_client.pop(client, None)

    async def _open_connection(self, conn: socket.socket, slot: _Connection,
                               create_protocol: Callable[[], GuardedH11Protocol]) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> GuardedH11Protocol:
            made = create_protocol()
            made.slot = slot
            return made

        try:
            await loop.connect_accepted_socket(
                protocol, sock=conn, ssl=self._context,
                ssl_handshake_timeout=self.limits.handshake_seconds)
        except asyncio.CancelledError:
            slot.release()
            conn.close()
            raise
        except (OSError, ssl.SSLError, asyncio.TimeoutError, EOFError) as err:
            # plain http://, a scanner, a client gone or too slow: not the server's error
            slot.release()
            conn.close()
            LOGGER.debug("settings page: TLS with %s failed: %s", slot.client,
                         type(err).__name__)


class _GuardedUvicorn(uvicorn.Server):
    """uvicorn's server with the listening socket accepted by ``BackgroundAsgiServer``
    (connection limits, handshake deadline) instead of ``loop.create_server``, and a main
    loop that ticks once every ``TICK_SECONDS`` (uvicorn's own wakes ten times a second to
    look at ``should_exit``: CPU spent while nobody uses the page) and at once when
    ``request_exit`` is called, from any thread."""

    def __init__(self, config: uvicorn.Config, owner: BackgroundAsgiServer) -> None:
        super().__init__(config)
        self._owner = owner
        self.on_started: Callable[[], None] = lambda: None
        self._wake_lock = threading.Lock()
        self._wake: Optional[Tuple[asyncio.AbstractEventLoop, asyncio.Event]] = None

    def request_exit(self) -> None:
        """Stop serving: the main loop notices now, not at its next tick."""
        self.should_exit = True
        with self._wake_lock:
            wake = self._wake
        if wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                wake[0].call_soon_threadsafe(wake[1].set)

    async def main_loop(self) -> None:
        """uvicorn's ``main_loop`` contract (``on_tick`` until it says exit; its counter a
        multiple of 10 refreshes the Date header), one tick per ``TICK_SECONDS``."""
        wake = asyncio.Event()
        with self._wake_lock:
            self._wake = (asyncio.get_running_loop(), wake)
        counter = 0
        try:
            while not await self.on_tick(counter):
                counter = (counter + 10) % 864000
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), TICK_SECONDS)
        finally:
            with self._wake_lock:
                self._wake = None

    def install_signal_handlers(self) -> None:  # older uvicorn: the service owns signals
        pass

    async def startup(self, sockets: Any = None) -> None:  # uvicorn's sockets: unused here
        await self.lifespan.startup()
        config = self.config

        def create_protocol() -> GuardedH11Protocol:
            made = config.http_protocol_class(config=config,  # type: ignore[call-arg]
                                              server_state=self.server_state,
                                              app_state=self.lifespan.state)
            assert isinstance(made, GuardedH11Protocol)
            return made

        task = asyncio.get_running_loop().create_task(self._owner.accept_loop(create_protocol))
        self.servers = [_AcceptTask(task, self._owner._handshakes)]  # type: ignore[list-item]
        self.started = True
        self.on_started()


class _AcceptTask:
    """What uvicorn's shutdown calls on its servers: stop accepting."""

    def __init__(self, task: asyncio.Task, handshakes: Set[asyncio.Task]) -> None:
        self._task = task
        self._handshakes = handshakes

    def close(self) -> None:
        self._task.cancel()
        for handshake in list(self._handshakes):
            handshake.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
