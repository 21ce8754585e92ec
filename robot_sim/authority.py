"""The ``:authority`` of each incoming call, which grpcio does not hand to Python handlers.

The SDK picks the target service by the TLS/HTTP2 authority (``ssl_target_name_override``),
exactly what the robot's proxy routes on. grpcio's server knows it (``call_details.host``)
but its handler API only exposes the method and metadata, so ``install`` wraps grpcio's private
``_find_method_handler`` to put the host into a context variable that ``current_authority``
reads while a generic handler's ``service()`` runs. If grpcio's internals change, routing
falls back to "no authority" (only the robot's own services answer) and a warning is logged.
"""

from __future__ import annotations

import contextvars
import logging
import threading

LOG = logging.getLogger("robot_sim")
_AUTHORITY: contextvars.ContextVar[str] = contextvars.ContextVar("robot_sim_authority", default="")
_install_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Patch grpcio (once per process). Returns False when the patch is not possible."""
    global _installed
    with _install_lock:
        if _installed:
            return True
        try:
            from grpc import _server
        except ImportError:  # pragma: no cover - grpcio always ships it today
            _server = None
        original = getattr(_server, "_find_method_handler", None)
        if original is None:
            LOG.warning("grpcio internals changed: routing by authority is disabled")
            return False

        def find_method_handler(rpc_event, state, *args, **kwargs):
            host = getattr(getattr(rpc_event, "call_details", None), "host", b"") or b""
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            state.context.run(_AUTHORITY.set, host)
            return original(rpc_event, state, *args, **kwargs)

        _server._find_method_handler = find_method_handler
        _installed = True
        return True


def current_authority() -> str:
    """The authority of the call being dispatched, lower-case, without a port ("" if unknown)."""
    host = _AUTHORITY.get().strip().lower()
    if host.startswith("["):  # [ipv6]:port
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
