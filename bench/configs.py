"""The camera service configuration a benchmark runs, and how its baseline is made."""

from __future__ import annotations

from typing import Dict, List

# The re-encode-every-request baseline (the SDK example's way): the service's command-line
# switch that turns its encode-once pipeline off.
BASELINE_ARGS: List[str] = ["--no-encode-cache"]


def service_config(sim, name: str, source: Dict) -> Dict:
    """A service named ``name`` with one ``source``, registered with the simulator ``sim``."""
    return {
        "robot": {"hostname": sim.address, "port": sim.port, "ca_cert": str(sim.ca_cert),
                  "payload_credentials_file": str(sim.payload_credentials_file),
                  "host_ip": "127.0.0.1", "keepalive_seconds": 2},
        "service": {"name": name, "authority": name},
        "sources": [source],
        "log_level": "info",
    }
