"""The config file's schema, declared once (pydantic models): every key with its type,
default, range, unit, description and examples.

Layer: above ``core`` and ``geometry``, below ``sources`` (each source kind reads its typed
options from here) and ``config`` (which loads files with it).

- ``base``: the model base, strict types, pydantic errors as one ``ConfigError`` line.
- ``sections``: ``robot``, ``service``, ``settings``, ``log_level``.
- ``geometry``: ``calibration`` / ``intrinsics`` / ``mount`` of a source.
- ``sources``: the common source keys and each kind's options.
- ``document``: the whole file and its JSON Schema (``python -m camera_service.schema``).
"""
