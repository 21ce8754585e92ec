"""The camera service configuration a benchmark runs, and how its baseline is made."""

from __future__ import annotations

from typing import Dict

# What ``python -m`` runs: the service as shipped, and the re-encode-every-request baseline
# (the SDK example's way; ``bench.baseline``: the service's wiring with its output cache
# replaced - the shipped service has no such mode).
SERVICE_MODULE = "camera_service"
BASELINE_MODULE = "bench.baseline"


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
