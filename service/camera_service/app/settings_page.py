"""Starting the settings page next to the service (``start_settings_page``).

The page is on by default (``settings.enabled``) when the service runs from a config file
(``--config``): that file is what it edits, and its folder (the extension's saved folder on
a CORE I/O) keeps the page's certificate unless ``settings.data_dir`` says otherwise. A page
that cannot start (port taken, folder not writable, bad certificate) is logged in one line
and left off: the cameras keep serving.
"""

from __future__ import annotations

import logging
from pathlib import Path

from camera_service.app.calibrate_backend import Calibrator
from camera_service.app.settings_backend import RunningService, ServiceView
from camera_service.core.errors import ConfigError
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.http_api import SettingsServer
from camera_service.settings_page.robot_auth import RobotAuthenticator
from camera_service.settings_page.tls import CertificatePair, ensure_certificate

_LOG = logging.getLogger("camera_service.settings_page")


def start_settings_page(service: RunningService) -> SettingsServer | None:
    """The started page for ``service``, or None (off, or it could not start)."""
    config = service.config
    page = config.settings
    if not page.enabled:
        return None
    if config.path is None:
        _LOG.info("settings page off: the service runs without a config file to edit "
                  "(start it with --config FILE)")
        return None
    try:
        if page.cert_file is not None and page.key_file is not None:
            pair = CertificatePair(Path(page.cert_file), Path(page.key_file))
        else:
            pair = ensure_certificate(Path(page.data_dir or Path(config.path).parent))
        context = pair.server_context()
        fingerprint = pair.fingerprint()
    except (ConfigError, OSError, ValueError) as err:
        _LOG.warning("settings page off: %s", err)
        return None
    robot = config.robot
    authenticator = RobotAuthenticator(RobotTarget(robot.hostname, robot.port, robot.ca_cert))
    try:
        view, store = ServiceView(service), ConfigStore(Path(config.path))
        server = SettingsServer((page.bind, page.port), context, view, store, authenticator,
                                page.session_minutes * 60,
                                calibrator=Calibrator(view, store))
    except OSError as err:
        _LOG.warning("settings page off: cannot listen on %s:%d (%s); choose another "
                     "settings.port", page.bind, page.port, err.strerror or err)
        return None
    server.start()
    made = f", generated now in {pair.cert_file.parent}" if pair.generated else ""
    _LOG.info("settings page on https://%s:%d/ (certificate SHA-256 %s%s)",
              page.bind, server.port, fingerprint, made)
    return server
