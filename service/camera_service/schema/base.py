"""The schema's building blocks: the model base, typed fields, and pydantic errors as one
``ConfigError`` line.

Every config model derives from ``ConfigModel``: unknown keys are refused (with the likely
key named: ``calibraton`` -> ``calibration``), values are checked strictly (``port: "80"`` is
not a number, ``true`` is not an integer) and numbers are accepted where text is expected
(``hostname: 10`` is the text ``"10"``), as the YAML loader always did.

``validate(model, data, key)`` returns the model or raises ``ConfigError`` whose key is the
dotted path of the first bad value (``sources[1].mount.xyz[2]``) and whose problem says what
the value must be (``must be between 1 and 100, got 101``). Validators inside the schema
raise ``problem(...)`` (or a ``ConfigError`` keyed relative to their model) to keep their own
wording.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, ClassVar, List, Optional, Sequence, Tuple, Type, TypeVar

import annotated_types
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema
from typing_extensions import Annotated

from camera_service.core.errors import ConfigError, excerpt

M = TypeVar("M", bound=BaseModel)

#: Values whose content never appears in an error (their type is named instead).
SECRET_KEYS = ("secret", "password")


def problem(message: str, sub: Optional[str] = None) -> PydanticCustomError:
    """An error with today's wording; ``sub`` names a key below the one being validated
    (``min`` under ``range``), or the field a model validator blames."""
    return PydanticCustomError("config", "{message}", {"message": message, "sub": sub})


def _numbers_to_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


#: Strict scalar types of the config (YAML gives the right type or the value is refused).
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]  # an integer is accepted (``fps: 30``)
Bool = Annotated[bool, Strict()]
Text = Annotated[str, BeforeValidator(_numbers_to_text), Strict()]


class Between:
    """``Annotated[Int, Between(1, 100)]``: limited to ``low..high`` (both included), refused
    with the whole range named; the JSON Schema states ``minimum`` and ``maximum``."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def _check(self, value: Any) -> Any:
        if value is not None and not self.low <= value <= self.high:
            raise problem(f"must be between {self.low:g} and {self.high:g}, got "
                          f"{excerpt(value)}")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        found = handler(schema)
        found.update({"minimum": self.low, "maximum": self.high})
        return found


def _choices(values: Sequence[Any]) -> str:
    shown = [str(v) for v in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def did_you_mean(name: Any, known: Sequence[str]) -> str:
    """``"did you mean 'x'? "`` for a key close to one of ``known``, else ``""``."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys refused (did-you-mean), strict values.

    ``unknown_key_problem`` words the refusal, naming the mapping as ``where`` (a subclass
    may change the wording: a source kind says "unknown option for a v4l2 source").
    """

    where: ClassVar[str] = "it"

    model_config = ConfigDict(extra="forbid", validate_default=False,
                              use_attribute_docstrings=False)

    @classmethod
    def unknown_key_problem(cls, name: str) -> str:
        known = list(cls.model_fields)
        return (f"unknown key; {did_you_mean(name, known)}{cls.where} accepts "
                f"{', '.join(known)}")

    @classmethod
    def passes_unknown_keys(cls) -> bool:
        """True for a model that leaves keys it does not know to another model."""
        return False

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict) or cls.passes_unknown_keys():
            return data
        for name in data:
            if name not in cls.model_fields:
                raise problem(cls.unknown_key_problem(name), sub=str(name))
        return data


# -- pydantic errors -> ConfigError --------------------------------------------------------
def dotted(parts: Sequence[Any]) -> str:
    """``("sources", 1, "mount", "xyz", 2)`` -> ``sources[1].mount.xyz[2]``."""
    key = ""
    for part in parts:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def _unwrap(annotation: Any) -> Any:
    """The model class (or None) inside ``Optional[...]`` / ``List[...]`` / ``Annotated``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, list, List):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return None
            annotation = args[0]
        else:
            return annotation if isinstance(annotation, type) else None


def field_at(model: type, loc: Sequence[Any]) -> Any:
    """The ``FieldInfo`` at ``loc`` below ``model`` (None when the path leaves the models)."""
    info = None
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return info


def _bounds(info: Any) -> Tuple[Optional[float], Optional[float]]:
    low = high = None
    for item in getattr(info, "metadata", ()):
        if isinstance(item, (annotated_types.Ge, annotated_types.Gt)):
            low = getattr(item, "ge", getattr(item, "gt", None))
        if isinstance(item, (annotated_types.Le, annotated_types.Lt)):
            high = getattr(item, "le", getattr(item, "lt", None))
    return low, high


_TYPE_WORDS = {"int_type": "an integer", "int_from_float": "an integer",
               "float_type": "a number", "string_type": "a string", "bool_type": "true or false",
               "finite_number": "a finite number"}


def _shown(loc: Sequence[Any], value: Any) -> str:
    if any(str(part) in SECRET_KEYS for part in loc):
        return type(value).__name__
    return excerpt(value)


def _wording(error: Any, loc: List[Any], model: type) -> Tuple[List[Any], str]:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "config":
        sub = ctx.get("sub")
        return ([*loc, sub] if sub else loc), str(ctx.get("message"))
    if kind in ("value_error", "assertion_error") and isinstance(ctx.get("error"), ConfigError):
        inner = ctx["error"]
        base = loc[:-1] if loc and inner.key.split(".")[0].split("[")[0] == loc[-1] else loc
        return [*base, inner.key], inner.problem
    if kind == "missing":
        info = field_at(model, loc)
        hint = f": {info.description}" if info is not None and info.description else ""
        return loc, f"is required{hint}"
    if kind in _TYPE_WORDS:
        return loc, f"must be {_TYPE_WORDS[kind]}, got {_shown(loc, value)}"
    if kind == "literal_error":
        info = field_at(model, loc)
        choices = typing.get_args(_literal(info)) if info is not None else ()
        wanted = _choices(choices) if choices else ctx.get("expected", "?")
        return loc, f"must be {wanted}, got {_shown(loc, value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        low, high = _bounds(field_at(model, loc))
        if low is not None and high is not None:
            return loc, f"must be between {low:g} and {high:g}, got {_shown(loc, value)}"
        limit = {"greater_than": "> {gt:g}", "greater_than_equal": ">= {ge:g}",
                 "less_than": "< {lt:g}", "less_than_equal": "<= {le:g}"}[kind].format(**ctx)
        return loc, f"must be a number {limit}, got {_shown(loc, value)}"
    if kind in ("too_short", "too_long"):
        count = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return loc, f"must be a list of {count} numbers, got {_shown(loc, value)}"
    if kind == "string_too_short":
        return loc, "must not be empty"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be a mapping (key: value lines), got {type(value).__name__}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"must be a list, got {_shown(loc, value)}"
    return loc, f"is not valid ({error.get('msg', kind)})"


def _literal(info: Any) -> Any:
    annotation = info.annotation
    for _ in range(4):
        if typing.get_origin(annotation) is typing.Literal:
            return annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            break
        annotation = args[0]
    return annotation


def config_error(err: ValidationError, model: type, prefix: str = "") -> ConfigError:
    """The first of pydantic's errors as one ``ConfigError`` line keyed ``prefix.path``."""
    first = err.errors(include_url=False)[0]
    loc, text = _wording(first, list(first["loc"]), model)
    key = dotted(([prefix] if prefix else []) + [part for part in loc if part != ""])
    return ConfigError(key or "(top level)", text.replace("\n", " "))


def validate(model: Type[M], data: Any, prefix: str = "") -> M:
    """``data`` as ``model``; ``ConfigError`` keyed below ``prefix`` for the first bad value."""
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise config_error(err, model, prefix) from None
