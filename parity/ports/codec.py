"""Python values ↔ JSON, for the arguments and results of port calls.

A port call becomes a trace step, and a trace is JSON that ``parity replay`` turns back
into calls; so arguments are encoded *exactly* (tagged with their type, decodable into an
equal value) and results *readably* (plain JSON, with a dataclass's type name kept so a
dict where the reference returned a ``Card`` is a difference).

Encodable: JSON scalars, lists, tuples, sets, dicts, dataclasses, pydantic models, enums,
``datetime``/``date``/``time``/``timedelta``, ``Decimal``, ``UUID`` and ``bytes``. An
argument of any other type is a :class:`PortCodecError` (a scenario mistake); a result of
another type is compared by its type name only.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

#: the key a tagged JSON object carries: "module:QualName" or one of the builtin tags
TYPE_KEY = "__type__"
_SCALARS = (str, int, float, bool, type(None))


class PortCodecError(TypeError):
    """A port argument cannot be written into a trace (or read back from one)."""


def type_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _import(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise PortCodecError(f"cannot import {path!r} to decode a port argument: {exc}") from exc
    return obj


def encode_arg(value: Any) -> Any:
    """``value`` as JSON that :func:`decode_arg` turns back into an equal value."""
    if isinstance(value, bool | int | float | str) or value is None:
        if isinstance(value, enum.Enum):
            return {TYPE_KEY: type_path(type(value)), "value": encode_arg(value.value)}
        return value
    if isinstance(value, enum.Enum):
        return {TYPE_KEY: type_path(type(value)), "value": encode_arg(value.value)}
    if isinstance(value, list):
        return [encode_arg(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {TYPE_KEY: "tuple", "items": [encode_arg(v) for v in value]}
    if isinstance(value, set | frozenset):
        items = sorted((encode_arg(v) for v in value), key=repr)
        return {TYPE_KEY: type(value).__name__, "items": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) and k != TYPE_KEY for k in value):
            return {k: encode_arg(v) for k, v in value.items()}
        return {
            TYPE_KEY: "dict",
            "items": [[encode_arg(k), encode_arg(v)] for k, v in value.items()],
        }
    scalar = _encode_scalar(value, exact=True)
    if scalar is not _NOT_SCALAR:
        return scalar
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode_arg(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {TYPE_KEY: type_path(type(value)), **fields}
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        return {TYPE_KEY: type_path(type(value)), **dump(mode="json")}
    raise PortCodecError(
        f"a port argument of type {type(value).__qualname__} cannot go into a trace: pass "
        "JSON values, dataclasses, pydantic models, enums, datetimes, Decimals, UUIDs or bytes"
    )


_NOT_SCALAR = object()


def _encode_scalar(value: Any, exact: bool) -> Any:
    """datetime & co.: tagged when ``exact``, else their plain text form."""
    # datetime before date: a datetime is a date too
    for cls, tag in (
        (datetime, "datetime"),
        (date, "date"),
        (time, "time"),
        (Decimal, "decimal"),
        (uuid.UUID, "uuid"),
    ):
        if isinstance(value, cls):
            text = value.isoformat() if isinstance(value, date | time) else str(value)
            return {TYPE_KEY: tag, "value": text} if exact else text
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return {TYPE_KEY: "timedelta", "seconds": seconds} if exact else seconds
    if isinstance(value, bytes | bytearray):
        data = base64.b64encode(bytes(value)).decode("ascii")
        return {TYPE_KEY: "bytes", "base64": data}
    return _NOT_SCALAR


_DECODERS: dict[str, Any] = {
    "tuple": lambda d: tuple(decode_arg(v) for v in d["items"]),
    "set": lambda d: {decode_arg(v) for v in d["items"]},
    "frozenset": lambda d: frozenset(decode_arg(v) for v in d["items"]),
    "dict": lambda d: {decode_arg(k): decode_arg(v) for k, v in d["items"]},
    "datetime": lambda d: datetime.fromisoformat(d["value"]),
    "date": lambda d: date.fromisoformat(d["value"]),
    "time": lambda d: time.fromisoformat(d["value"]),
    "decimal": lambda d: Decimal(d["value"]),
    "uuid": lambda d: uuid.UUID(d["value"]),
    "timedelta": lambda d: timedelta(seconds=d["seconds"]),
    "bytes": lambda d: base64.b64decode(d["base64"]),
}


def decode_arg(data: Any) -> Any:
    """The value :func:`encode_arg` encoded (in a fresh copy: no two implementations
    ever share a mutable argument)."""
    if isinstance(data, list):
        return [decode_arg(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TYPE_KEY)
    if tag is None:
        return {k: decode_arg(v) for k, v in data.items()}
    try:
        if tag in _DECODERS:
            return _DECODERS[tag](data)
        cls = _import(str(tag))
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            return cls(decode_arg(data["value"]))
        fields = {k: v for k, v in data.items() if k != TYPE_KEY}
        validate = getattr(cls, "model_validate", None)
        if callable(validate):
            return validate(fields)
        if dataclasses.is_dataclass(cls):
            return _dataclass(cls, {k: decode_arg(v) for k, v in fields.items()})
    except PortCodecError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PortCodecError(f"cannot decode a {tag!r} port argument: {exc}") from exc
    raise PortCodecError(f"cannot decode a {tag!r} port argument: not a dataclass, model or enum")


def _dataclass(cls: Any, values: dict[str, Any]) -> Any:
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    obj = cls(**{k: v for k, v in values.items() if k in init})
    for key, value in values.items():
        if key not in init:
            object.__setattr__(obj, key, value)
    return obj


def encode_result(value: Any) -> Any:
    """``value`` as plain JSON to compare and show (not meant to be decoded)."""
    if isinstance(value, enum.Enum):
        return encode_result(value.value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [encode_result(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((encode_result(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(encode_result(k)): encode_result(v) for k, v in value.items()}
    scalar = _encode_scalar(value, exact=False)
    if scalar is not _NOT_SCALAR:
        return scalar
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode_result(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {TYPE_KEY: type(value).__qualname__, **fields}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return {TYPE_KEY: type(value).__qualname__, **dump(mode="json")}
    return {TYPE_KEY: type(value).__qualname__}
