"""YAML mappings from CRM export files onto the landing entities.

A mapping describes one *export kind* (e.g. Maven's CRM CSVs, a Salesforce object export):
which files (glob patterns) feed which landing entity, how to read them (encoding,
delimiter, quoting, header row, sheet) and how each entity column is computed from the
source columns (rename, constant, template, value map, transform, date formats). One file
may feed several targets, e.g. ``sales_teams.csv`` -> agents, their managers (distinct)
and teams. The format is documented in ``docs/file_mappings.md``; shipped mappings live in
``salesperf/mappings/``.

Everything here is generic: no mapping has code of its own.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from salesperf.cli import UserError
from salesperf.landing.entities import Entity
from salesperf.landing.entities import get as get_entity

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"

ENCODINGS = {"auto", "utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "latin-1", "cp1252"}
QUOTING = {"minimal": 0, "all": 1, "none": 3}  # csv.QUOTE_* values
TRANSFORMS = {"slug", "lower", "upper", "title", "strip"}
UNMAPPED = {"keep", "null", "error"}
TRUE_WORDS = {"true", "t", "yes", "y", "1", "on", "是"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off", "否"}

_INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


class MappingError(UserError):
    """The mapping file itself is invalid (one line, names the mapping)."""


class ValueProblem(ValueError):
    """A source value cannot become the entity column's type (the row is quarantined)."""


@functools.lru_cache(maxsize=65536)
def slug(text: str) -> str:
    """A stable id from a name: lower case, runs of non-word characters -> '-'.

    Unicode letters (Chinese names) are kept, so '王 伟' -> '王-伟'.
    """
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\W_]+", "-", text).strip("-")


@dataclass
class ColumnSpec:
    """How one entity column is computed from a source record."""

    target: str  # entity column
    type: str  # PostgreSQL type of the entity column
    sources: list[str] = field(default_factory=list)  # source columns, first non-empty wins
    const: Any = None
    template: str | None = None
    transform: str | None = None
    value_map: dict[str, Any] | None = None
    unmapped: str = "keep"
    default: Any = None  # used when the value is empty (before or after the value map)
    formats: list[str] = field(default_factory=list)
    multiply: Decimal | None = None
    required: bool = False  # an empty result quarantines the row
    optional_source: bool = False  # the source column may be absent from the file
    when: dict[str, list[str]] | None = None  # compute only if these columns hold these values

    @property
    def template_fields(self) -> list[str]:
        if not self.template:
            return []
        return [f for _, f, _, _ in Formatter().parse(self.template) if f]

    @property
    def referenced(self) -> list[str]:
        return list(self.sources) + list(self.when or {}) + self.template_fields

    def prepare(self) -> None:
        """Pre-compute what every row needs (the importer calls this once per file)."""
        t = self.type.lower()
        self._fields = self.template_fields
        self._kind = (
            "text" if t == "text" else "bool" if t == "boolean" else
            "int" if t in _INT_RANGES else "numeric" if t.startswith("numeric") else
            "date" if t == "date" else
            "ts" if t in ("timestamptz", "timestamp with time zone") else "other"
        )  # fmt: skip
        self._limit = None
        m = re.fullmatch(r"numeric\((\d+),\s*(\d+)\)", t)
        if m:
            self._limit = Decimal(10) ** (int(m[1]) - int(m[2]))
        self._formats = tuple(self.formats)


@dataclass
class Target:
    entity: Entity
    columns: list[ColumnSpec]
    distinct: bool = False  # one row per id (e.g. managers derived from agent rows)
    keep_extra: bool = True


@dataclass
class FileSpec:
    pattern: str
    targets: list[Target]
    ignore: bool = False
    note: str = ""
    encoding: str = "auto"
    delimiter: str = ","
    quotechar: str = '"'
    quoting: str = "minimal"
    escapechar: str | None = None
    header_row: int = 1
    sheet: str | None = None
    null_values: tuple[str, ...] = ("",)
    timezone: str = ""  # for date-only and naive timestamps; default: company timezone
    max_field_chars: int = 1_000_000

    @property
    def referenced_columns(self) -> set[str]:
        return {c for t in self.targets for s in t.columns for c in s.referenced}

    def required_columns(self) -> list[tuple[str, str]]:
        """(source column, why) pairs that must exist in the file's header."""
        out = []
        for t in self.targets:
            for s in t.columns:
                if s.optional_source:
                    continue
                for c in s.referenced:
                    out.append((c, f"{t.entity.name}.{s.target}"))
        return out


@dataclass
class Mapping:
    name: str  # the landing _source
    path: Path
    files: list[FileSpec]
    description: str = ""

    def spec_for(self, file_name: str) -> FileSpec | None:
        import fnmatch

        low = file_name.lower()
        for spec in self.files:
            if fnmatch.fnmatchcase(low, spec.pattern.lower()):
                return spec
        return None


# ---------------------------------------------------------------- loading


def resolve_mapping_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_file():
        return p
    for candidate in (MAPPINGS_DIR / f"{name_or_path}.yaml", MAPPINGS_DIR / f"{name_or_path}.yml"):
        if candidate.is_file():
            return candidate
    shipped = sorted(x.stem for x in MAPPINGS_DIR.glob("*.yaml") if not x.stem.startswith("_"))
    raise MappingError(
        f"mapping {str(name_or_path)!r} not found (a YAML file, or one of: {', '.join(shipped)})"
    )


def load_mapping(name_or_path: str | Path | Mapping) -> Mapping:
    if isinstance(name_or_path, Mapping):
        return name_or_path
    path = resolve_mapping_path(name_or_path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MappingError(f"mapping {path}: not valid YAML{where}: {problem}") from None
    return parse_mapping(doc, path)


def parse_mapping(doc: Any, path: Path) -> Mapping:
    where = f"mapping {path.name}"
    if not isinstance(doc, dict):
        raise MappingError(f"{where}: expected a YAML mapping at the top level")
    name = doc.get("source")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise MappingError(f"{where}: 'source' must be a lower-case name like maven_crm")
    defaults = doc.get("defaults") or {}
    files = doc.get("files")
    if not isinstance(files, list) or not files:
        raise MappingError(f"{where}: 'files' must be a non-empty list")
    specs = [_parse_file(f, defaults, f"{where}, files[{i}]") for i, f in enumerate(files)]
    return Mapping(name=name, path=path, files=specs, description=doc.get("description", ""))


_FILE_KEYS = {
    "pattern", "entity", "columns", "rename", "targets", "distinct", "keep_extra", "ignore",
    "note", "encoding", "delimiter", "quotechar", "quoting", "escapechar", "header_row",
    "sheet", "null_values", "timezone", "max_field_chars",
}  # fmt: skip
_READ_KEYS = _FILE_KEYS - {"pattern", "entity", "columns", "rename", "targets", "distinct",
                           "keep_extra", "ignore", "note"}  # fmt: skip


def _parse_file(raw: Any, defaults: dict, where: str) -> FileSpec:
    if not isinstance(raw, dict) or "pattern" not in raw:
        raise MappingError(f"{where}: each file needs a 'pattern'")
    where = f"{where} ({raw['pattern']})"
    unknown = set(raw) - _FILE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    opts = {k: v for k, v in {**defaults, **raw}.items() if k in _READ_KEYS}
    spec = FileSpec(pattern=str(raw["pattern"]), targets=[], ignore=bool(raw.get("ignore")))
    spec.note = str(raw.get("note", ""))
    for key, value in opts.items():
        if key == "null_values":
            value = tuple(str(v) for v in value)
        setattr(spec, key, value)
    if spec.encoding.lower() not in ENCODINGS:
        raise MappingError(f"{where}: encoding {spec.encoding!r} not one of {sorted(ENCODINGS)}")
    spec.encoding = spec.encoding.lower()
    if spec.quoting not in QUOTING:
        raise MappingError(f"{where}: quoting must be one of {sorted(QUOTING)}")
    if spec.delimiter in ("\\t", "tab"):
        spec.delimiter = "\t"
    if len(spec.delimiter) != 1:
        raise MappingError(f"{where}: delimiter must be one character")
    if not isinstance(spec.header_row, int) or spec.header_row < 1:
        raise MappingError(f"{where}: header_row must be a positive line number")
    try:
        if spec.timezone:
            ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: unknown timezone {spec.timezone!r}") from None
    if spec.ignore:
        return spec
    if "targets" in raw:
        if "entity" in raw or "columns" in raw:
            raise MappingError(f"{where}: use either 'targets' or 'entity'+'columns'")
        raw_targets = raw["targets"]
    else:
        raw_targets = [{k: raw[k] for k in ("entity", "columns", "rename", "distinct",
                                             "keep_extra") if k in raw}]  # fmt: skip
    if not isinstance(raw_targets, list) or not raw_targets:
        raise MappingError(f"{where}: 'targets' must be a non-empty list")
    spec.targets = [_parse_target(t, f"{where}, target {i}") for i, t in enumerate(raw_targets)]
    return spec


def _parse_target(raw: dict, where: str) -> Target:
    if not isinstance(raw, dict) or "entity" not in raw:
        raise MappingError(f"{where}: needs an 'entity' (one of the landing entities)")
    try:
        entity = get_entity(str(raw["entity"]))
    except KeyError as exc:
        raise MappingError(f"{where}: {exc.args[0]}") from None
    where = f"{where} -> {entity.name}"
    unknown = set(raw) - {"entity", "columns", "rename", "distinct", "keep_extra"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    columns: dict[str, Any] = {}
    # rename: {source column: entity column}, the simple case
    for src, dst in (raw.get("rename") or {}).items():
        columns[str(dst)] = {"from": str(src)}
    for dst, spec in (raw.get("columns") or {}).items():
        columns[str(dst)] = spec
    if "id" not in columns:
        raise MappingError(f"{where}: the mapping must say where 'id' comes from")
    specs = []
    for dst, spec in columns.items():
        if dst not in entity.column_names:
            raise MappingError(
                f"{where}: {entity.name} has no column {dst!r} "
                f"(columns: {', '.join(entity.column_names)})"
            )
        specs.append(_parse_column(dst, spec, entity, f"{where}.{dst}"))
    missing_required = [c for c in entity.required if c not in columns]
    if missing_required:
        raise MappingError(f"{where}: required entity columns not mapped: {missing_required}")
    distinct = bool(raw.get("distinct", False))
    return Target(entity, specs, distinct, bool(raw.get("keep_extra", not distinct)))


_COL_KEYS = {"from", "const", "template", "transform", "map", "unmapped", "default", "format",
             "multiply", "required", "optional", "when"}  # fmt: skip


def _parse_column(dst: str, raw: Any, entity: Entity, where: str) -> ColumnSpec:
    col = entity.column(dst)
    if isinstance(raw, str):
        raw = {"from": raw}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected a source column name or a mapping of options")
    unknown = set(raw) - _COL_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_COL_KEYS)})")
    kinds = [k for k in ("from", "const", "template") if k in raw]
    if len(kinds) != 1:
        raise MappingError(f"{where}: give exactly one of 'from', 'const' or 'template'")
    sources = raw.get("from")
    if isinstance(sources, str):
        sources = [sources]
    spec = ColumnSpec(
        target=dst,
        type=col.type,
        sources=[str(s) for s in (sources or [])],
        const=raw.get("const"),
        template=raw.get("template"),
        transform=raw.get("transform"),
        unmapped="null" if raw.get("unmapped", "keep") is None else raw.get("unmapped", "keep"),
        default=raw.get("default"),
        required=bool(raw.get("required", col.required)),
        optional_source=bool(raw.get("optional", False)),
    )
    if spec.transform is not None and spec.transform not in TRANSFORMS:
        raise MappingError(f"{where}: transform must be one of {sorted(TRANSFORMS)}")
    if spec.unmapped not in UNMAPPED:
        raise MappingError(f"{where}: unmapped must be one of {sorted(UNMAPPED)}")
    if "map" in raw:
        if not isinstance(raw["map"], dict):
            raise MappingError(f"{where}: 'map' must be a mapping of source value -> value")
        spec.value_map = {_map_key(k): v for k, v in raw["map"].items()}
    if "when" in raw:
        if not isinstance(raw["when"], dict) or not raw["when"]:
            raise MappingError(f"{where}: 'when' must map source columns to allowed values")
        spec.when = {
            str(k): [_map_key(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in raw["when"].items()
        }
    fmts = raw.get("format")
    spec.formats = [fmts] if isinstance(fmts, str) else list(fmts or [])
    if "multiply" in raw:
        try:
            spec.multiply = Decimal(str(raw["multiply"]))
        except InvalidOperation:
            raise MappingError(f"{where}: multiply must be a number") from None
    return spec


def _map_key(k: Any) -> str:
    # YAML turns bare true/false keys into booleans; compare against the text in the file.
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


# ---------------------------------------------------------------- evaluation


def compute(spec: ColumnSpec, record: dict[str, Any], tz: ZoneInfo) -> Any:
    """The typed value of one entity column for one source record (may raise ValueProblem).

    ``spec.prepare()`` must have been called once before.
    """
    value: Any = None
    if spec.when and not all(
        ("" if record.get(c) is None else _text(record.get(c))).strip() in allowed
        for c, allowed in spec.when.items()
    ):
        value = None  # the condition does not hold: the value is empty
    elif spec.const is not None:
        value = spec.const
    elif spec.template is not None:
        parts = {f: record.get(f) for f in spec._fields}
        if not any(_empty(v) for v in parts.values()):
            value = spec.template.format_map({f: _text(v) for f, v in parts.items()})
    else:
        for src in spec.sources:
            v = record.get(src)
            if v is not None:
                if isinstance(v, str):
                    v = v.strip()
                    if not v:
                        continue
                value = v
                break
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        value = spec.default
        if value is None or value == "":
            if spec.required:
                raise ValueProblem("required value is empty")
            return None
    if spec.transform and isinstance(value, str):
        value = _apply_transform(spec.transform, value)
    if spec.value_map is not None:
        key = value if isinstance(value, str) else _map_key(value)
        if key in spec.value_map:
            value = spec.value_map[key]
        elif spec.unmapped == "null":
            value = None
        elif spec.unmapped == "error":
            raise ValueProblem(f"value {_short(value)!r} is not in the mapping's value map")
        if value is None:
            value = spec.default
        if value is None:
            if spec.required:
                raise ValueProblem("required value is empty after the value map")
            return None
    if spec._kind == "text" and isinstance(value, str):
        if "\x00" in value:
            raise ValueProblem("contains a NUL byte")
        return value
    return to_type(value, spec, tz)


def _apply_transform(name: str, value: str) -> str:
    if name == "slug":
        return slug(value)
    if name == "lower":
        return value.lower()
    if name == "upper":
        return value.upper()
    if name == "title":
        return value.title()
    return value.strip()


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def _short(v: Any, n: int = 80) -> str:
    s = _text(v)
    return s if len(s) <= n else s[:n] + "..."


def to_type(value: Any, spec: ColumnSpec, tz: ZoneInfo) -> Any:
    kind = spec._kind
    if kind == "text":
        s = value.isoformat() if isinstance(value, datetime | date) else _text(value)
        if "\x00" in s:
            raise ValueProblem("contains a NUL byte")
        return s
    if kind == "bool":
        return _to_bool(value)
    if kind == "int":
        d = _to_decimal(value, spec.multiply)
        if d != d.to_integral_value():
            raise ValueProblem(f"{_short(value)!r} is not a whole number")
        n = int(d)
        bound = _INT_RANGES[spec.type.lower()]
        if not -bound <= n < bound:
            raise ValueProblem(f"{n} is out of range for {spec.type}")
        return n
    if kind == "numeric":
        d = _to_decimal(value, spec.multiply)
        if spec._limit is not None and abs(d) >= spec._limit:
            raise ValueProblem(f"{_short(value)!r} is too large for {spec.type}")
        return d
    if kind == "date":
        return _to_datetime(value, spec._formats, tz, want_date=True)
    if kind == "ts":
        return _to_datetime(value, spec._formats, tz, want_date=False)
    # Other types are passed as text for PostgreSQL to cast.
    return _text(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        if value in (0, 1):
            return bool(value)
        raise ValueProblem(f"{value!r} is not a boolean")
    s = _text(value).strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueProblem(f"{_short(value)!r} is not a boolean (true/false, yes/no, 1/0)")


def _to_decimal(value: Any, multiply: Decimal | None) -> Decimal:
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, int | Decimal):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        s = _text(value).strip().replace(",", "").replace("_", "")
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueProblem(f"{_short(value)!r} is not a number") from None
    if not d.is_finite():
        raise ValueProblem(f"{_short(value)!r} is not a finite number")
    if multiply is not None:
        d = d * multiply
    return d


def _to_datetime(value: Any, formats: tuple[str, ...], tz: ZoneInfo, want_date: bool) -> Any:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    else:
        dt = _parse_datetime(_text(value).strip(), formats)
        if dt is None:
            expected = " or ".join(formats) if formats else "ISO 8601"
            raise ValueProblem(f"{_short(value)!r} does not match the date format {expected}")
    if want_date:
        return dt.date()
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


@functools.lru_cache(maxsize=65536)
def _parse_datetime(s: str, formats: tuple[str, ...]) -> datetime | None:
    """strptime is slow and exports repeat dates a lot: parse each distinct text once."""
    for fmt in formats:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    if not formats:
        try:
            return datetime.fromisoformat(s)
        except ValueError:
            return None
    return None
