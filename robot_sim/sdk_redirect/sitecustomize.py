"""Points unmodified bosdyn-client programs at the robot simulator.

``python -m robot_sim exec`` puts this folder first on PYTHONPATH and sets ROBOT_SIM_CA_CERT,
ROBOT_SIM_PORT and ROBOT_SIM_REST_PORT. When (and only when) the program imports
``bosdyn.client.sdk``, ``bosdyn.client.robot`` or ``bosdyn.client.data_acquisition_helpers``,
the SDK's default CA becomes the simulator's CA, the default secure port (443) the simulator's
port, and the REST download helpers' ``https://HOST/`` URLs (443) go to the simulator's REST
port. Programs that never import bosdyn are untouched.
"""

from __future__ import annotations

import importlib.abc
import os
import sys


def _patch_sdk(module) -> None:
    ca_cert = os.environ["ROBOT_SIM_CA_CERT"]
    original = module.Sdk.load_robot_cert

    def load_robot_cert(self, resource_path_glob=None):
        return original(self, resource_path_glob or ca_cert)

    module.Sdk.load_robot_cert = load_robot_cert


def _patch_robot(module) -> None:
    module._DEFAULT_SECURE_CHANNEL_PORT = int(os.environ["ROBOT_SIM_PORT"])


def _patch_daq_helpers(module) -> None:
    rest_port = os.environ.get("ROBOT_SIM_REST_PORT")
    if not rest_port:
        return
    original = module.Request

    def request_to_rest_port(url, *args, **kwargs):
        scheme, rest = url.split("://", 1) if "://" in url else ("", url)
        host, _, path = rest.partition("/")
        if scheme == "https" and ":" not in host:
            url = f"https://{host}:{rest_port}/{path}"
        return original(url, *args, **kwargs)

    module.Request = request_to_rest_port


_PATCHES = {"bosdyn.client.sdk": _patch_sdk, "bosdyn.client.robot": _patch_robot,
            "bosdyn.client.data_acquisition_helpers": _patch_daq_helpers}


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, patch) -> None:
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        self._patch(module)


class _SdkRedirectFinder(importlib.abc.MetaPathFinder):
    """Wraps the loaders of the SDK modules listed in ``_PATCHES``."""

    def find_spec(self, fullname, path, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None


if os.environ.get("ROBOT_SIM_CA_CERT") and os.environ.get("ROBOT_SIM_PORT"):
    sys.meta_path.insert(0, _SdkRedirectFinder())
