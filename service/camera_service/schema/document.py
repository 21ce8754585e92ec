"""The whole config file as one model (``ConfigFile``) and its JSON Schema.

The loader (``camera_service.config.model``) validates the sections with ``Sections`` and
each source entry's common keys with ``SourceCommon`` (a kind's own options are checked by
the kind when the source is built); ``ConfigFile`` states all of it, kinds included, for the
settings page's forms and the configuration reference.
"""

from __future__ import annotations

from typing import Any, Dict

from pydantic import Field

from camera_service.schema.sections import Sections
from camera_service.schema.sources import MAX_SOURCES, source_entries_list

TOP_LEVEL_KEYS = ("robot", "service", "settings", "sources", "log_level")


class ConfigFile(Sections):
    """A camera service config file (YAML). Every key is optional; the defaults fit a
    CORE I/O."""

    sources: source_entries_list() = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=MAX_SOURCES,
        description="the cameras served; default: every V4L2 camera present "
        "(one v4l2 entry with device: all)")


def json_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a config file."""
    schema = ConfigFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Camera image service configuration"
    return schema
