"""The bosdyn.api.ImageService: request validation, custom parameters, response building."""

from __future__ import annotations
