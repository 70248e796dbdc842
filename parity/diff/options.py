"""What counts as a difference: :class:`DiffOptions`, read from ``[tool.parity.diff]``.

Every key is optional and *replaces* its default (to add integer ids to today's, write
``ids = ["prefixed-ulid", "uuid", "integer"]``)::

    [tool.parity.diff]
    ids = ["prefixed-ulid", "uuid"]   # presets, or "re:<regex>" for your own
    id_keys = ["id", "*_id"]           # JSON keys (globs) whose integers are ids
    ignore = []                        # paths never compared, e.g. "body.items[*].updated_at"
    unordered = []                     # lists compared as multisets, e.g. "body.tags"
    headers = ["content-type", "etag", "idempotent-replayed", "location"]
    cursor_keys = ["next_cursor", "cursor", "prev_cursor"]
    token_keys = ["access_token", "token", "refresh_token"]
    timestamps = "ref"                 # or "canonical"

**Id presets** (``ids``) say which values are ids, i.e. differ between backends by
construction and are mapped to references ``<id:N>`` by order of first appearance:

- ``prefixed-ulid``: ``card_01H…`` (a lower-case prefix, ``_``, 26 Crockford characters);
- ``uuid``: ``8-4-4-4-12`` hexadecimal, either case;
- ``ulid``: a bare 26-character Crockford ULID (``01ARZ3NDEKTSV4RRFFQ69G5FAV``);
- ``integer``: database row numbers. A bare integer cannot be an id everywhere (amounts
  and counts are integers too), so only (a) JSON integers under an ``id_keys`` key and
  (b) whole path segments of a URL or path (``/notes/3``) that this backend has already
  shown as such an id value are mapped. A reference goes back as the backend's own raw
  value with its JSON type: ``{"note_id": "<id:1>"}`` becomes ``{"note_id": 1000}``.
  Because SQLite re-uses the highest row number after a delete, a ``DELETE`` whose path
  ends in an integer id retires that value: when it shows up again it is a new object
  and gets a new reference. (Re-use after any other kind of delete cannot be seen.)
  Query parameters named like an id key (``?note_id=3``) are mapped too. Digit *strings*
  under an id key (``"id": "3"``, as JSON:API writes them) are ids and stay strings.
- ``re:<regex>``: any value matching the regex in any string. Anchor it (``\\b…\\b``)
  and make sure it cannot match inside ordinary words or numbers; a regex that matches
  the empty string is refused. Global flags must be scoped: ``(?i:…)``, not ``(?i)…``.

**Paths** (``ignore`` and ``unordered``) name places in the compared answer, which is
``{"status": …, "headers": {…}, "body": …}``. Syntax: a root (``status``, ``headers``
or ``body``), then any of ``.key`` (a JSON key; header names are lower-case), ``.*``
(any key), ``[n]`` (list element ``n``, from 0) and ``[*]`` (any list element)::

    body.detail   body.items[*].updated_at   body.*.etag   headers.date   body[0]

Keys containing ``.``, ``[`` or ``]`` cannot be named. An ignored value shows as
``"<ignored>"`` in the normalised answer and is never compared, not even whether it is
present; it is not normalised either, so a volatile value there cannot shift the
numbering of the references after it. ``unordered`` paths (under ``body`` only) are
lists compared as multisets: their normalised elements are sorted by a canonical JSON
dump. So that a reference first seen inside such a list does not depend on the order a
backend listed it in, new references are handed out in the order of the elements'
content (new ids masked). Elements that differ *only* in not-yet-seen ids are still
numbered in the backend's order: the normalised lists compare equal, but each backend
may bind ``<id:N>`` to a different one of these look-alikes.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the marker an ignored value is replaced by in a normalised answer
IGNORED = "<ignored>"
#: what id presets match in text; "integer" has no text pattern (see the module docs)
ID_PRESETS: dict[str, str] = {
    "prefixed-ulid": r"\b[a-z][a-z0-9]*_[0-9A-HJKMNP-TV-Z]{26}\b",
    "uuid": r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
    "ulid": r"\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b",
    "integer": "",
}
CUSTOM_ID_PREFIX = "re:"
TIMESTAMP_MODES = ("ref", "canonical")
PATH_ROOTS = ("status", "headers", "body")
#: a reference such as ``<id:3>``; custom id regexes must never rewrite one
REF_PATTERN = r"<(?:id|cursor|token|ts|etag):\d+>"

#: ``[tool.parity.diff]`` key -> DiffOptions field
CONFIG_KEYS: dict[str, str] = {
    "ids": "ids",
    "id_keys": "id_keys",
    "ignore": "ignore_paths",
    "unordered": "unordered_paths",
    "headers": "headers",
    "cursor_keys": "cursor_keys",
    "token_keys": "token_keys",
    "timestamps": "timestamps",
}
_FIELD_KEYS = {fld: key for key, fld in CONFIG_KEYS.items()}


class DiffConfigError(ValueError):
    """A ``[tool.parity.diff]`` table (or DiffOptions argument) that cannot be used.
    The message is one line naming the file and key, fit for a CLI's exit-2 report."""


class _FieldError(DiffConfigError):
    """A bad value of one field; :meth:`DiffOptions.from_table` renames it to its key.
    ``index`` is the list position, -1 for a scalar (shown as ``key = value``), None to
    leave the value out (the detail quotes it)."""

    def __init__(self, fld: str, index: int | None, value: Any, detail: str) -> None:
        self.field, self.index, self.value, self.detail = fld, index, value, detail
        super().__init__(self.render(f"DiffOptions.{fld}"))

    def render(self, name: str) -> str:
        if self.index is None:
            return f"{name}: {self.detail}"
        at = "" if self.index < 0 else f"[{self.index}]"
        return f"{name}{at} = {self.value!r}: {self.detail}"


def _or(choices: Sequence[str]) -> str:
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"expected {_or(choices)}"


def _scalar_error(fld: str, value: Any, choices: Sequence[str]) -> _FieldError:
    return _FieldError(fld, -1, value, _did_you_mean(str(value), choices))


# paths ------------------------------------------------------------------------------

#: one path step: ("key", name) | ("*key", "") | ("index", "3") | ("*index", "")
Segment = tuple[str, str]
_ROOT_RE = re.compile(r"[^.\[\]]+")
_STEP_RE = re.compile(r"\.([^.\[\]]+)|\[(\*|\d+)\]")


def parse_path(text: str) -> tuple[Segment, ...]:
    """``body.items[*].id`` → its steps; :class:`ValueError` saying what is wrong."""
    root = _ROOT_RE.match(text)
    if root is None:
        raise ValueError("a path starts with a key, e.g. 'body.items[*].updated_at'")
    steps: list[Segment] = [("*key", "") if root.group(0) == "*" else ("key", root.group(0))]
    pos = root.end()
    while pos < len(text):
        m = _STEP_RE.match(text, pos)
        if m is None:
            raise ValueError(f"expected .key, .*, [n] or [*] at {text[pos:]!r}")
        key, index = m.group(1), m.group(2)
        if key is not None:
            steps.append(("*key", "") if key == "*" else ("key", key))
        else:
            steps.append(("*index", "") if index == "*" else ("index", str(int(index))))
        pos = m.end()
    return tuple(steps)


def _step_regex(step: Segment) -> str:
    kind, name = step
    if kind == "key":
        return re.escape(name)
    if kind == "*key":
        return r"[^.\[]+"
    return r"\[\d+\]" if kind == "*index" else rf"\[{name}\]"


@functools.lru_cache(maxsize=64)
def path_matcher(paths: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching every rendered path (``body.items[2].x``, as
    :func:`parity.diff.compare.compare` spells them) that one of ``paths`` names.
    Cached: compare runs per step and must not rebuild it. A string that is not a path
    matches only itself (so an odd old exact path keeps working)."""
    alternatives = []
    for text in paths:
        try:
            steps = parse_path(text)
        except ValueError:
            alternatives.append(re.escape(text))
            continue
        parts = [_step_regex(steps[0])]
        for step in steps[1:]:
            dot = r"\." if step[0] in ("key", "*key") else ""
            parts.append(dot + _step_regex(step))
        alternatives.append("".join(parts))
    return re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None


class PathNode:
    """A trie of parsed paths, walked alongside a response so that only the parts of a
    body that some path names pay for path matching (the rest runs the fast path)."""

    __slots__ = ("any_index", "any_key", "ignore", "indexes", "keys", "unordered")

    def __init__(self) -> None:
        self.keys: dict[str, PathNode] = {}
        self.indexes: dict[int, PathNode] = {}
        self.any_key: PathNode | None = None
        self.any_index: PathNode | None = None
        self.ignore = False
        self.unordered = False

    def add(self, steps: Sequence[Segment], flag: str) -> None:
        node = self
        for kind, name in steps:
            if kind == "key":
                node = node.keys.setdefault(name, PathNode())
            elif kind == "index":
                node = node.indexes.setdefault(int(name), PathNode())
            elif kind == "*key":
                node.any_key = node.any_key or PathNode()
                node = node.any_key
            else:
                node.any_index = node.any_index or PathNode()
                node = node.any_index
        setattr(node, flag, True)

    def for_key(self, key: str) -> tuple[PathNode, ...]:
        exact = self.keys.get(key)
        if exact is None:
            return () if self.any_key is None else (self.any_key,)
        return (exact,) if self.any_key is None else (exact, self.any_key)

    def for_index(self, index: int) -> tuple[PathNode, ...]:
        exact = self.indexes.get(index)
        if exact is None:
            return () if self.any_index is None else (self.any_index,)
        return (exact,) if self.any_index is None else (exact, self.any_index)


# compiled form ----------------------------------------------------------------------


class CompiledOptions:
    """Everything the normaliser's hot path needs, built once per DiffOptions: one
    combined id regex, key sets, the path trie. Normalizer.value/text run on every
    response of every step, so nothing here is rebuilt per call."""

    __slots__ = (
        "canonical_ts",
        "cursor_keys",
        "id_key_cache",
        "id_key_exact",
        "id_key_re",
        "id_re",
        "integer",
        "protect_refs",
        "root",
        "token_keys",
    )

    def __init__(self, options: DiffOptions) -> None:
        text_patterns: list[str] = []
        self.integer = False
        self.protect_refs = False
        for spec in options.ids:
            if spec.startswith(CUSTOM_ID_PREFIX):
                text_patterns.append(spec[len(CUSTOM_ID_PREFIX) :])
                self.protect_refs = True
            elif spec == "integer":
                self.integer = True
            else:
                text_patterns.append(ID_PRESETS[spec])
        if self.protect_refs:
            # refs first: a custom regex must not rewrite an already made reference
            text_patterns.insert(0, REF_PATTERN)
        self.id_re: re.Pattern[str] | None = (
            re.compile("|".join(f"(?:{p})" for p in text_patterns)) if text_patterns else None
        )
        self.id_key_exact = frozenset(k for k in options.id_keys if not _is_glob(k))
        globs = [fnmatch.translate(k) for k in options.id_keys if _is_glob(k)]
        self.id_key_re: re.Pattern[str] | None = re.compile("|".join(globs)) if globs else None
        #: key -> is it an id key; JSON has few distinct keys, so this stays small
        self.id_key_cache: dict[str, bool] = {}
        self.cursor_keys = frozenset(options.cursor_keys)
        self.token_keys = frozenset(options.token_keys)
        self.canonical_ts = options.timestamps == "canonical"
        root = PathNode()
        for text in options.ignore_paths:
            root.add(parse_path(text), "ignore")
        for text in options.unordered_paths:
            root.add(parse_path(text), "unordered")
        self.root: PathNode | None = root if root.keys else None

    def is_id_key(self, key: str) -> bool:
        found = self.id_key_cache.get(key)
        if found is None:
            found = key in self.id_key_exact or (
                self.id_key_re is not None and self.id_key_re.match(key) is not None
            )
            self.id_key_cache[key] = found
        return found


def _is_glob(key: str) -> bool:
    return any(c in key for c in "*?[")


# the options ------------------------------------------------------------------------


def _strings(fld: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        example = '["uuid"]' if fld == "ids" else '["..."]'
        raise _FieldError(
            fld, None, value, f"expected a list of strings, e.g. {example}, not {value!r}"
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise _FieldError(fld, i, item, "expected a non-empty string")
    return tuple(value)


def _check_id(index: int, spec: str) -> None:
    if spec.startswith(CUSTOM_ID_PREFIX):
        body = spec[len(CUSTOM_ID_PREFIX) :]
        try:
            compiled = re.compile(body)
        except re.error as exc:
            raise _FieldError("ids", index, spec, f"not a regex: {exc}") from None
        try:
            re.compile(f"(?:{body})|x")  # how it is combined with the other patterns
        except re.error as exc:
            raise _FieldError(
                "ids", index, spec, f"{exc}; scope flags to a group, e.g. (?i:...)"
            ) from None
        if compiled.fullmatch("") is not None:
            raise _FieldError("ids", index, spec, "the regex matches the empty string")
        if compiled.groups and re.search(r"\\[1-9]", body):
            raise _FieldError(
                "ids",
                index,
                spec,
                "numbered back-references break when patterns are combined"
                "; use (?P<name>…)(?P=name)",
            )
    elif spec not in ID_PRESETS:
        names = [*ID_PRESETS, "re:<regex>"]
        hint = _did_you_mean(spec, names)
        if spec.startswith(("regex:", "re/", "r:")):
            hint = "write custom patterns as 're:<regex>'"
        raise _FieldError("ids", index, spec, f"unknown id pattern; {hint}")


def _check_path(fld: str, index: int, text: str) -> str:
    """The path, validated; header paths lower-cased (header names are)."""
    try:
        steps = parse_path(text)
    except ValueError as exc:
        raise _FieldError(fld, index, text, str(exc)) from None
    kind, root = steps[0]
    roots = PATH_ROOTS if fld == "ignore_paths" else ("body",)
    if fld == "unordered_paths" and root in PATH_ROOTS and root != "body":
        raise _FieldError(fld, index, text, "only lists under 'body' can be unordered")
    if kind != "key" or root not in roots:
        close = difflib.get_close_matches(root, roots, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; did you mean 'body.{text}'?"
        raise _FieldError(fld, index, text, f"a path starts with {_or(roots)}{hint}")
    if root == "status" and len(steps) > 1:
        raise _FieldError(fld, index, text, "status has nothing inside it")
    return text.lower() if root == "headers" else text


@dataclass(frozen=True)
class DiffOptions:
    """What counts as a difference. Defaults suit JSON APIs like the reference app.

    Build one from ``[tool.parity.diff]`` with :meth:`from_table`; the module docstring
    of :mod:`parity.diff.options` documents every key. Constructing one validates it
    (raising :class:`DiffConfigError`) and compiles what the normaliser needs once.
    """

    #: response headers compared (lower-case); every other header is ignored.
    headers: tuple[str, ...] = ("content-type", "etag", "idempotent-replayed", "location")
    #: JSON keys whose whole value is an opaque cursor or token.
    cursor_keys: tuple[str, ...] = ("next_cursor", "cursor", "prev_cursor")
    token_keys: tuple[str, ...] = ("access_token", "token", "refresh_token")
    #: paths never compared (e.g. ``body.detail`` for free-text messages); config ``ignore``
    ignore_paths: tuple[str, ...] = ()
    #: "ref" maps timestamps to ``<ts:N>`` by first appearance (robust to real clocks);
    #: "canonical" keeps the instant, only its formatting is normalised.
    timestamps: str = "ref"
    #: which values are ids: presets (``ID_PRESETS``) or ``re:<regex>``
    ids: tuple[str, ...] = ("prefixed-ulid", "uuid")
    #: JSON keys (exact, or globs) whose integer values are ids (``integer`` preset only)
    id_keys: tuple[str, ...] = ("id", "*_id")
    #: lists compared as multisets; config ``unordered``
    unordered_paths: tuple[str, ...] = ()
    #: built in __post_init__; not part of equality, hashing or to_dict
    compiled: CompiledOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalising fields in place is ours alone
        for fld in ("headers", "cursor_keys", "token_keys", "ids", "id_keys"):
            set_(self, fld, _strings(fld, getattr(self, fld)))
        set_(self, "headers", tuple(h.lower() for h in self.headers))
        for i, spec in enumerate(self.ids):
            _check_id(i, spec)
        for fld in ("ignore_paths", "unordered_paths"):
            paths = _strings(fld, getattr(self, fld))
            set_(self, fld, tuple(_check_path(fld, i, p) for i, p in enumerate(paths)))
        if self.timestamps not in TIMESTAMP_MODES:
            raise _scalar_error("timestamps", self.timestamps, TIMESTAMP_MODES)
        try:
            compiled = CompiledOptions(self)
        except re.error as exc:  # each regex compiled alone; together they did not
            raise _FieldError(
                "ids", None, self.ids, f"the patterns cannot be combined: {exc}"
            ) from None
        set_(self, "compiled", compiled)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str) -> DiffOptions:
        """Validate a ``[tool.parity.diff]`` table; ``where`` names it in errors, e.g.
        ``"pyproject.toml [tool.parity.diff]"``. Missing keys keep their defaults."""
        if not isinstance(table, Mapping):
            raise DiffConfigError(f"{where}: expected a table, not {type(table).__name__}")
        kwargs: dict[str, Any] = {}
        for key, value in table.items():
            fld = CONFIG_KEYS.get(key)
            if fld is None:
                raise DiffConfigError(
                    f"{where}: unknown key {key!r}; {_did_you_mean(str(key), list(CONFIG_KEYS))}"
                )
            if fld == "timestamps":
                if not isinstance(value, str):
                    raise DiffConfigError(
                        f'{where}: timestamps = {value!r}: expected "ref" or "canonical"'
                    )
                kwargs[fld] = value
            elif isinstance(value, list | tuple):
                kwargs[fld] = tuple(value)
            else:
                kwargs[fld] = value  # __post_init__ reports it with the right words
        try:
            return cls(**kwargs)
        except _FieldError as exc:
            raise DiffConfigError(f"{where}: {exc.render(_FIELD_KEYS[exc.field])}") from None

    def to_dict(self) -> dict[str, Any]:
        """The options as a ``[tool.parity.diff]`` table (every key, lists as lists): what
        a trace records, and what :meth:`from_table` turns back into equal options."""
        return {
            key: list(v) if isinstance(v := getattr(self, fld), tuple) else v
            for key, fld in CONFIG_KEYS.items()
        }
