"""Which service ports work on a CORE I/O.

The CORE I/O firewall lets in TCP/UDP 21000-22000 only, and 21443 in that range is the CORE
I/O portal's (HTTPS). The service serves on any port it is given (a laptop has no such
firewall), but says in one line when a port would not work on a CORE I/O.
"""

from __future__ import annotations

from typing import Optional

ALLOWED_RANGE = (21000, 22000)
PORTAL_PORT = 21443
SUGGESTED_PORT = 21230


def port_advice(port: int) -> Optional[str]:
    """One warning line for ``port``, or None when it suits a CORE I/O (0, a random port
    chosen by the system, gets none: it is for tests and laptops)."""
    low, high = ALLOWED_RANGE
    if port == 0:
        return None
    if port == PORTAL_PORT:
        return (f"port {port} is the CORE I/O portal's (HTTPS): serving on it anyway, but on a "
                f"CORE I/O choose another port in {low}-{high}, e.g. --port {SUGGESTED_PORT}")
    if not low <= port <= high:
        return (f"port {port} is outside {low}-{high}, the ports the CORE I/O firewall lets "
                f"in: serving on it anyway, but on a CORE I/O the robot cannot reach it; use "
                f"e.g. --port {SUGGESTED_PORT}")
    return None
