"""Random YAML-ish mappings through the loader: a valid Config or one ConfigError line,
never another exception."""

from __future__ import annotations

import string

from camera_service.config.model import from_mapping
from camera_service.core.errors import ConfigError
from camera_service.schema.document import TOP_LEVEL_KEYS
from camera_service.schema.sources import SOURCE_ENTRIES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_KEYS = sorted({*TOP_LEVEL_KEYS, *(k for m in SOURCE_ENTRIES.values() for k in m.model_fields),
                "hostname", "port", "mode", "secret", "guid", "jpeg_quality", "workers",
                "parent", "xyz", "fx", "cx", "enabled", "cert_file", "bogus"})
_scalars = (st.none() | st.booleans() | st.integers(-2**40, 2**40)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(string.printable, max_size=12) | st.sampled_from(
                ["synthetic", "v4l2", "url", "file", "auto", "body", "MJPG", "info"]))
_keys = st.sampled_from(_KEYS) | st.text(max_size=8) | st.integers(0, 3)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(_keys, inner, max_size=5), max_leaves=20)
_source = st.fixed_dictionaries({"name": st.sampled_from(["a", "b c", 3, None]),
                                 "type": st.sampled_from(["synthetic", "v4l2", "url", "file",
                                                          "laser", 1])},
                                optional={k: _values for k in _KEYS[:12]})
_documents = (st.dictionaries(_keys, _values, max_size=6)
              | st.fixed_dictionaries({}, optional={
                  "robot": st.dictionaries(_keys, _values, max_size=4),
                  "service": st.dictionaries(_keys, _values, max_size=4),
                  "settings": st.dictionaries(_keys, _values, max_size=4),
                  "sources": st.lists(_source, max_size=3) | _values,
                  "log_level": _values})
              | _values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_the_loader_answers_a_config_or_one_line(document):
    try:
        config = from_mapping(document)
    except ConfigError as err:
        assert "\n" not in str(err) and err.problem
        assert len(str(err)) < 500
        return
    try:
        config.build_sources()
    except ConfigError as err:
        assert "\n" not in str(err) and err.key
