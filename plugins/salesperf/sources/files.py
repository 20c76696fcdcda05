"""File-export source: CSV/XLSX files in a drop folder, mapped onto landing entities.

``import_dir(mapping, directory)`` imports every file of ``directory`` that a pattern of the
mapping (:mod:`salesperf.sources.file_mapping`) matches:

* each file is one transaction and one batch (``ops.load_batches``); rows are streamed
  (``csv`` module / openpyxl read-only), typed per entity column and loaded with
  :func:`salesperf.landing.load.merge_rows` (COPY + merge);
* a bad row (undecodable bytes, NUL, wrong field count, unparseable value, empty required
  value, value not in a strict value map) goes to ``ops.quarantine`` with file, line, column,
  value, reason and the raw record; the good rows of the same file still load;
* source columns the mapping does not use are kept in ``_extra`` and reported;
* a source column the mapping needs that is missing from the file stops that file with a
  one-line :class:`FileImportError` naming column, file and mapping; nothing of it loads;
* a file whose checksum was already imported is skipped (``ops.imported_files``); a file
  with the same name and new content replaces its earlier version: rows of the old version
  that are absent now get ``_deleted_at``;
* processed files are moved to an archive folder (default ``<dir>/archive``), never deleted.
  Files that failed stay where they are so they can be fixed and imported again.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import pickle
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from salesperf import config
from salesperf.cli import UserError
from salesperf.landing.load import merge_rows, new_batch_id
from salesperf.sources.file_mapping import (
    QUOTING,
    FileSpec,
    Mapping,
    ValueProblem,
    compute,
    load_mapping,
)

log = logging.getLogger(__name__)

# The importer enforces its own, per-mapping limit (max_field_chars) and quarantines longer
# fields; the csv module's limit only has to be above it.
csv.field_size_limit(1 << 30)

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx"}
_LOCK_NAMESPACE = "salesperf.sources.files:"
_RAW_FIELD_LIMIT = 10_000  # characters of one field kept in the quarantine's raw record


class FileImportError(UserError):
    """A file cannot be imported at all (nothing of it was loaded); one line."""


# ---------------------------------------------------------------- report


@dataclass
class FileResult:
    file_name: str
    status: str  # loaded | duplicate | ignored | unmatched | failed | gone
    sha256: str | None = None
    batch_id: str | None = None
    encoding: str | None = None
    rows_in: int = 0
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    archived_to: str | None = None
    message: str = ""

    @property
    def loaded(self) -> dict[str, int]:
        keys = set(self.inserted) | set(self.updated)
        return {k: self.inserted.get(k, 0) + self.updated.get(k, 0) for k in sorted(keys)}

    def line(self) -> str:
        if self.status == "loaded":
            parts = [
                f"{e}: {self.inserted.get(e, 0)} new, {self.updated.get(e, 0)} changed"
                + (f", {self.deleted[e]} removed" if self.deleted.get(e) else "")
                for e in sorted(set(self.inserted) | set(self.updated) | set(self.deleted))
            ]
            text = f"{self.rows_in} rows ({'; '.join(parts) or 'nothing'})"
            if self.quarantined:
                text += f", {self.quarantined} quarantined"
            if self.unknown_columns:
                shown = self.unknown_columns[:8]
                more = len(self.unknown_columns) - len(shown)
                text += f", unknown columns kept in _extra: {', '.join(shown)}"
                text += f" (+{more} more)" if more else ""
            return f"{self.file_name}: loaded {text}"
        return f"{self.file_name}: {self.status}" + (f" ({self.message})" if self.message else "")


@dataclass
class ImportReport:
    source: str
    directory: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def skipped_duplicates(self) -> int:
        return sum(f.status == "duplicate" for f in self.files)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def loaded_by_entity(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for e, n in f.loaded.items():
                out[e] = out.get(e, 0) + n
        return out

    @property
    def unknown_columns(self) -> dict[str, list[str]]:
        return {f.file_name: f.unknown_columns for f in self.files if f.unknown_columns}

    def file(self, name: str) -> FileResult:
        for f in self.files:
            if f.file_name == name:
                return f
        raise KeyError(name)

    def summary(self) -> str:
        lines = [f"import {self.source} from {self.directory}:"]
        lines += [f"  {f.line()}" for f in self.files] or ["  no files"]
        lines.append(
            f"  total: {sum(f.status == 'loaded' for f in self.files)} files loaded, "
            f"{self.skipped_duplicates} already imported, {self.quarantined} rows quarantined, "
            f"{len(self.errors)} failed"
        )
        return "\n".join(lines)


# ---------------------------------------------------------------- reading


@dataclass
class Record:
    line: int
    values: list[Any] | None  # None when the record could not be split into fields
    problem: str | None = None  # a line-level problem (wrong field count, csv error)
    raw: Any = None


_UNDECODABLE = re.compile("[\udc80-\udcff]")
_BAD_CHARS = re.compile("[\x00\udc80-\udcff]")


def file_digest(path: Path) -> tuple[str, bool]:
    """(sha256, whether the bytes look like UTF-8) in one streaming pass.

    "Look like": no invalid sequence, or at least as many valid non-ASCII characters as
    invalid bytes, so a UTF-8 file with a few broken bytes stays UTF-8 (those lines are
    quarantined) instead of being read as GB18030 mojibake. GBK text is rarely valid UTF-8,
    but a very short GBK file can be: GBK exports should say ``encoding: gbk``.
    """
    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    bad = good = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            text = dec.decode(chunk)
            n_bad = len(_UNDECODABLE.findall(text))
            bad += n_bad
            good += len(text) - len(text.encode("ascii", "ignore")) - n_bad
    bad += len(_UNDECODABLE.findall(dec.decode(b"", final=True)))
    return h.hexdigest(), bad == 0 or good >= bad


def choose_encoding(path: Path, configured: str, looks_utf8: bool) -> str:
    """The mapping's encoding; a BOM always wins; ``auto``: UTF-8 if it looks like it, else
    GB18030 (a superset of GBK)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if configured == "auto":
        return "utf-8" if looks_utf8 else "gb18030"
    return configured


class Records:
    """The records of an open file; ``close()`` releases the file even if never iterated."""

    def __init__(self, records: Iterator[Record], close):
        self._records = records
        self.close = close

    def __iter__(self) -> Iterator[Record]:
        return self._records


def read_csv(path: Path, spec: FileSpec, encoding: str) -> tuple[list[str], Records]:
    fh = path.open(encoding=encoding, errors="surrogateescape", newline="")
    reader = csv.reader(
        fh,
        delimiter=spec.delimiter,
        quotechar=spec.quotechar,
        quoting=QUOTING[spec.quoting],
        escapechar=spec.escapechar,
        strict=False,
    )
    state = {"end": 0}

    def next_record() -> Record | None:
        start = state["end"] + 1
        try:
            fields = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            state["end"] = reader.line_num
            return Record(start, None, f"unreadable CSV: {exc}")
        state["end"] = reader.line_num
        return Record(start, fields)

    header: list[str] | None = None
    for _ in range(spec.header_row):
        rec = next_record()
        if rec is None:
            fh.close()
            raise FileImportError(f"{path.name}: no header row (line {spec.header_row})")
        header = rec.values
    if header is None:
        fh.close()
        raise FileImportError(f"{path.name}: header line {spec.header_row} is not readable CSV")

    def records() -> Iterator[Record]:
        while (rec := next_record()) is not None:
            if rec.values is not None and not rec.values:
                continue  # a blank line
            yield rec

    return header, Records(records(), fh.close)


def read_xlsx(path: Path, spec: FileSpec) -> tuple[list[str], Records]:
    import openpyxl  # only when an XLSX file arrives

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - zip/XML errors of many kinds
        raise FileImportError(f"{path.name}: not a readable XLSX file ({exc})") from None
    try:
        ws = wb[spec.sheet] if spec.sheet else wb.worksheets[0]
    except KeyError:
        wb.close()
        raise FileImportError(f"{path.name}: no sheet named {spec.sheet!r}") from None
    rows = ws.iter_rows(values_only=True)
    header = None
    for _ in range(spec.header_row):
        header = next(rows, None)
    if header is None:
        wb.close()
        raise FileImportError(f"{path.name}: no header row (row {spec.header_row})")
    header_list = ["" if v is None else str(v) for v in header]
    while header_list and header_list[-1] == "":
        header_list.pop()  # read-only sheets report trailing empty cells

    def records() -> Iterator[Record]:
        for i, row in enumerate(rows, start=spec.header_row + 1):
            values = list(row)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            while len(values) > len(header_list) and values[-1] is None:
                values.pop()
            values += [None] * (len(header_list) - len(values))
            yield Record(i, values)

    return header_list, Records(records(), wb.close)


def open_records(
    path: Path, spec: FileSpec, valid_utf8: bool
) -> tuple[str | None, list[str], Records]:
    if path.suffix.lower() == ".xlsx":
        header, recs = read_xlsx(path, spec)
        return None, header, recs
    encoding = choose_encoding(path, spec.encoding, valid_utf8)
    try:
        header, recs = read_csv(path, spec, encoding)
    except UnicodeError as exc:
        raise FileImportError(f"{path.name}: cannot decode as {encoding}: {exc}") from None
    return encoding, header, recs


# ---------------------------------------------------------------- sanitising for ops tables


def _clean(value: Any, limit: int | None = None) -> Any:
    """Text safe for PostgreSQL text/jsonb: undecodable bytes and NULs shown escaped."""
    if value is None or isinstance(value, bool | int | float):
        return value
    s = value if isinstance(value, str) else str(value)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"... [{len(s)} characters]"
    s = s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return s.replace("\x00", "\\x00")


def _has_undecodable(s: str) -> bool:
    return _UNDECODABLE.search(s) is not None


def _check_field(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    if _has_undecodable(value):
        return "undecodable bytes for the file's encoding"
    if "\x00" in value:
        return "contains a NUL byte"
    if len(value) > limit:
        return f"field longer than {limit} characters ({len(value)})"
    return None


# ---------------------------------------------------------------- importing one file


@dataclass
class _Quarantined:
    entity: str | None
    line: int
    column: str | None
    value: Any
    reason: str
    raw: Any


class _FileJob:
    """Parse, type and load one file inside the caller's transaction."""

    def __init__(self, conn, mapping: Mapping, spec: FileSpec, path: Path, batch_id: str, result):
        self.conn = conn
        self.mapping = mapping
        self.spec = spec
        self.path = path
        self.batch_id = batch_id
        self.result: FileResult = result
        self.tz = ZoneInfo(spec.timezone or config.company_timezone())
        self.quarantine = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # pickled _Quarantined
        self.quarantined = 0
        self.spools = [tempfile.SpooledTemporaryFile(max_size=8 << 20) for _ in spec.targets]
        self.key_spools = [tempfile.SpooledTemporaryFile(max_size=8 << 20) for _ in spec.targets]
        self.seen: list[set[str]] = [set() for _ in spec.targets]
        for target in spec.targets:
            for col in target.columns:
                col.prepare()
        self.entities = ",".join(dict.fromkeys(t.entity.name for t in spec.targets))
        self.null_markers = {v.strip() for v in spec.null_values} - {""}

    def run(self, valid_utf8: bool) -> None:
        self.previous = [
            r[0]
            for r in self.conn.execute(
                "select batch_id from ops.imported_files where source = %s and file_name = %s",
                (self.mapping.name, self.path.name),
            )
        ]
        encoding, header, records = open_records(self.path, self.spec, valid_utf8)
        self.records = records
        self.result.encoding = encoding
        header = self._check_header(header)
        self.header = header
        self.unknown = [c for c in header if c not in self.spec.referenced_columns and c]
        self.result.unknown_columns = self.unknown

        first = self.spec.targets[0]
        res = merge_rows(
            self.conn, first.entity, self._rows_for_first(), source=self.mapping.name,
            batch_id=self.batch_id, columns=[c.target for c in first.columns], with_extra=True,
        )  # fmt: skip
        self._count(first.entity.name, res)
        for i, target in enumerate(self.spec.targets[1:], start=1):
            res = merge_rows(
                self.conn, target.entity, self._replay(i), source=self.mapping.name,
                batch_id=self.batch_id, columns=[c.target for c in target.columns],
                with_extra=True,
            )  # fmt: skip
            self._count(target.entity.name, res)
        self._stage_keys()
        self._write_quarantine()
        self._quarantine_duplicate_keys()
        self.result.quarantined = self.quarantined
        if self.previous:
            self._retire_previous_version()

    def _count(self, entity: str, res) -> None:
        self.result.inserted[entity] = self.result.inserted.get(entity, 0) + res.inserted
        self.result.updated[entity] = self.result.updated.get(entity, 0) + res.updated

    def _check_header(self, header: list[str]) -> list[str]:
        names = []
        for i, h in enumerate(header, start=1):
            h = h.strip() if isinstance(h, str) else h
            if isinstance(h, str) and (_has_undecodable(h) or "\x00" in h):
                raise FileImportError(
                    f"{self.path.name}: header column {i} is not valid text in the file's "
                    f"encoding (mapping {self.mapping.path.name})"
                )
            names.append(h or f"_column_{i}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise FileImportError(
                f"{self.path.name}: duplicate header columns {dupes} (mapping {self.mapping.path.name})"
            )
        present = set(names)
        missing = [(c, why) for c, why in self.spec.required_columns() if c not in present]
        if missing:
            needs: dict[str, list[str]] = {}
            for c, why in missing:
                needs.setdefault(c, []).append(why)
            cols = ", ".join(f"{c!r} (for {', '.join(sorted(set(w)))})" for c, w in needs.items())
            raise FileImportError(
                f"{self.path.name}: required column {cols} missing from the file "
                f"(mapping {self.mapping.path.name}, pattern {self.spec.pattern!r}); "
                "nothing of this file was loaded"
            )
        return names

    def _rows_for_first(self) -> Iterator[tuple]:
        for rec in self.records:
            self.result.rows_in += 1
            rows = self._convert(rec)
            if rows is None:
                continue
            for i in range(1, len(rows)):
                if rows[i] is not None:
                    pickle.dump((rec.line, rows[i]), self.spools[i])
            if rows[0] is not None:
                self._remember_key(0, rec.line, rows[0][0])
                yield rows[0]

    def _replay(self, i: int) -> Iterator[tuple]:
        spool = self.spools[i]
        spool.seek(0)
        while True:
            try:
                line, row = pickle.load(spool)  # noqa: S301 - our own spool, written above
            except EOFError:
                return
            self._remember_key(i, line, row[0])
            yield row

    def _remember_key(self, i: int, line: int, key: str) -> None:
        pickle.dump((line, key), self.key_spools[i])

    def _convert(self, rec: Record) -> list[tuple | None] | None:
        """One row per target for a record, or None after quarantining the record."""
        entities = self.entities
        if rec.problem or rec.values is None:
            self._quarantine(entities, rec.line, None, None, rec.problem or "unreadable", rec.raw)
            return None
        values = rec.values
        if len(values) != len(self.header):
            self._quarantine(
                entities, rec.line, None, None,
                f"expected {len(self.header)} fields, got {len(values)}", values,
            )  # fmt: skip
            return None
        limit = self.spec.max_field_chars
        try:  # fast path: one scan of the whole line; per field only when something is off
            suspicious = _BAD_CHARS.search("".join(values)) or max(map(len, values)) > limit
        except TypeError:  # XLSX: numbers and dates among the values
            suspicious = True
        for name, v in zip(self.header, values, strict=True) if suspicious else ():
            problem = _check_field(v, limit)
            if problem:
                self._quarantine(
                    entities,
                    rec.line,
                    name,
                    v,
                    problem,
                    dict(zip(self.header, values, strict=True)),
                )
                return None
        record = dict(zip(self.header, values, strict=True))
        if self.null_markers:  # "" and blanks are empty anyway; other markers need a look
            for k, v in record.items():
                if isinstance(v, str) and v.strip() in self.null_markers:
                    record[k] = None
        extra = {k: record[k] for k in self.unknown if record.get(k) not in (None, "")} or None
        out: list[tuple | None] = []
        problems: list[tuple[str, str, Any, str]] = []
        for target in self.spec.targets:
            row = []
            for spec in target.columns:
                try:
                    row.append(compute(spec, record, self.tz))
                except ValueProblem as exc:
                    src = spec.sources[0] if spec.sources else None
                    problems.append(
                        (
                            target.entity.name,
                            src or spec.target,
                            record.get(src),
                            f"{spec.target}: {exc}",
                        )
                    )
                    row.append(None)
            row.append(extra if target.keep_extra else None)
            out.append(tuple(row))
        if problems:
            entity, column, value, reason = problems[0]
            if len(problems) > 1:
                reason += "; also " + "; ".join(p[3] for p in problems[1:])
            self._quarantine(entity, rec.line, column, value, reason, record)
            return None
        for i, target in enumerate(self.spec.targets):
            key = out[i][0]
            if target.distinct:
                if key in self.seen[i]:
                    out[i] = None
                else:
                    self.seen[i].add(key)
        return out

    def _quarantine(self, entity, line, column, value, reason, raw) -> None:
        pickle.dump(_Quarantined(entity, line, column, value, reason, raw), self.quarantine)
        self.quarantined += 1

    def _write_quarantine(self) -> None:
        if not self.quarantined:
            return
        self.quarantine.seek(0)
        cols = ["batch_id", "source", "entity", "file_name", "line_number", "column_name",
                "value", "reason", "raw_record"]  # fmt: skip
        stmt = sql.SQL("copy {}.{} ({}) from stdin").format(
            sql.Identifier("ops"),
            sql.Identifier("quarantine"),
            sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        )
        with self.conn.cursor().copy(stmt) as cp:
            for _ in range(self.quarantined):
                q = pickle.load(self.quarantine)  # noqa: S301 - our own spool
                raw = q.raw
                if isinstance(raw, dict):
                    raw = {_clean(k): _clean(v, _RAW_FIELD_LIMIT) for k, v in raw.items()}
                elif isinstance(raw, list):
                    raw = {"fields": [_clean(v, _RAW_FIELD_LIMIT) for v in raw]}
                cp.write_row(
                    (
                        self.batch_id, self.mapping.name, q.entity, self.path.name, q.line,
                        _clean(q.column), _clean(q.value, _RAW_FIELD_LIMIT), _clean(q.reason),
                        json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None,
                    )
                )  # fmt: skip

    def _stage_keys(self) -> None:
        """Every key this file delivered, per target, with its line: ``_file_keys``."""
        self.conn.execute(
            "create temp table _file_keys (target int, entity text, line bigint, id text) "
            "on commit drop"
        )
        with self.conn.cursor().copy("copy _file_keys (target, entity, line, id) from stdin") as cp:
            for i, (target, spool) in enumerate(
                zip(self.spec.targets, self.key_spools, strict=True)
            ):
                spool.seek(0)
                while True:
                    try:
                        line, key = pickle.load(spool)  # noqa: S301 - our own spool
                    except EOFError:
                        break
                    cp.write_row((i, target.entity.name, line, key))

    def _quarantine_duplicate_keys(self) -> None:
        """A key delivered twice by one file: the last line wins (merge order); the earlier
        lines are recorded in quarantine rather than dropped silently."""
        n = self.conn.execute(
            "insert into ops.quarantine (batch_id, source, entity, file_name, line_number, "
            "column_name, value, reason) "
            "select %(batch)s, %(source)s, k.entity, %(file)s, k.line, 'id', k.id, "
            "'duplicate id in this file; line ' || w.line || ' was loaded instead' "
            "from _file_keys k join (select target, id, max(line) as line from _file_keys "
            "group by target, id having count(*) > 1) w "
            "on w.target = k.target and w.id = k.id and k.line < w.line",
            {"batch": self.batch_id, "source": self.mapping.name, "file": self.path.name},
        ).rowcount
        self.quarantined += n

    def _retire_previous_version(self) -> None:
        """Rows an earlier version of this file delivered that the new version lacks."""
        previous = self.previous
        now = datetime.now(UTC)
        for name in dict.fromkeys(t.entity.name for t in self.spec.targets):
            n = self.conn.execute(
                sql.SQL(
                    "update {t} set _deleted_at = %(now)s, _batch_id = %(batch)s "
                    "where _source = %(source)s and _deleted_at is null "
                    "and _batch_id = any(%(previous)s) and not exists "
                    "(select 1 from _file_keys k where k.entity = %(entity)s and k.id = {t}.id)"
                ).format(t=sql.Identifier("raw", name)),
                {"now": now, "batch": self.batch_id, "source": self.mapping.name,
                 "previous": previous, "entity": name},
            ).rowcount  # fmt: skip
            if n:
                self.result.deleted[name] = n

    def close(self) -> None:
        if getattr(self, "records", None) is not None:
            self.records.close()
        for s in [*self.spools, *self.key_spools, self.quarantine]:
            s.close()


def import_file(
    conn: psycopg.Connection, mapping: Mapping, spec: FileSpec, path: Path
) -> FileResult:
    """Import one file in one transaction (``conn`` must be in autocommit mode)."""
    sha, valid_utf8 = file_digest(path)
    result = FileResult(path.name, "loaded", sha256=sha)
    entities = ",".join(dict.fromkeys(t.entity.name for t in spec.targets))
    batch_id = new_batch_id(mapping.name, "file")
    result.batch_id = batch_id
    job = _FileJob(conn, mapping, spec, path, batch_id, result)
    try:
        with conn.transaction():
            # One importer per source at a time: a second run waits, then sees the file as done.
            conn.execute(
                "select pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (_LOCK_NAMESPACE + mapping.name,),
            )
            done = conn.execute(
                "select batch_id from ops.imported_files "
                "where source = %s and file_name = %s and file_sha256 = %s",
                (mapping.name, path.name, sha),
            ).fetchone()
            if done:
                result.status, result.batch_id = "duplicate", done[0]
                result.message = f"same content already imported in batch {done[0]}"
                return result
            conn.execute(
                "insert into ops.load_batches (batch_id, source, entity, file_name, file_sha256) "
                "values (%s, %s, %s, %s, %s)",
                (batch_id, mapping.name, entities, path.name, sha),
            )
            job.run(valid_utf8)
            loaded = sum(result.loaded.values())
            conn.execute(
                "update ops.load_batches set finished_at = now(), status = 'succeeded', "
                "rows_in = %s, rows_loaded = %s, rows_deleted = %s, rows_quarantined = %s, "
                "message = %s where batch_id = %s",
                (result.rows_in, loaded, sum(result.deleted.values()), result.quarantined,
                 _clean(result.line()), batch_id),
            )  # fmt: skip
            conn.execute(
                "insert into ops.imported_files (source, file_name, file_sha256, entity, "
                "batch_id, rows_loaded, rows_quarantined) values (%s, %s, %s, %s, %s, %s, %s)",
                (mapping.name, path.name, sha, entities, batch_id, loaded, result.quarantined),
            )
    except FileImportError as exc:
        _record_failure(conn, mapping, path, sha, entities, batch_id, str(exc))
        result.status, result.message = "failed", str(exc)
        return result
    except psycopg.errors.DataError as exc:
        # A value PostgreSQL refused although it passed our typing: report, load nothing.
        msg = (
            f"{path.name}: the warehouse rejected a value ({str(exc).splitlines()[0]}); "
            f"nothing of this file was loaded (mapping {mapping.path.name})"
        )
        _record_failure(conn, mapping, path, sha, entities, batch_id, msg)
        result.status, result.message = "failed", msg
        return result
    finally:
        job.close()
    log.info("%s", result.line())
    return result


def _record_failure(conn, mapping, path, sha, entities, batch_id, message) -> None:
    log.error("%s", message)
    with conn.transaction():
        conn.execute(
            "insert into ops.load_batches (batch_id, source, entity, file_name, file_sha256, "
            "finished_at, status, message) values (%s, %s, %s, %s, %s, now(), 'failed', %s)",
            (batch_id, mapping.name, entities, path.name, sha, _clean(message)),
        )


# ---------------------------------------------------------------- a folder


def candidate_files(directory: Path) -> list[Path]:
    """Files to consider: not hidden, not partial uploads, not Excel lock files."""
    out = []
    for p in sorted(directory.iterdir()):
        if not p.is_file() or p.name.startswith((".", "~$")):
            continue
        if p.suffix.lower() in (".tmp", ".part", ".crdownload"):
            continue
        out.append(p)
    return out


def archive_file(path: Path, archive_dir: Path) -> Path:
    """Move ``path`` into ``archive_dir``; an existing name gets a time-stamped sibling."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    dest = archive_dir / path.name
    if dest.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        dest = archive_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), dest)
    return dest


def import_dir(
    mapping: str | Path | Mapping,
    directory: str | Path,
    warehouse=None,
    archive: bool = True,
    *,
    archive_dir: str | Path | None = None,
    strict: bool = True,
) -> ImportReport:
    """Import every matching file in ``directory`` with ``mapping`` (a name, path or Mapping).

    Returns an :class:`ImportReport`. With ``strict`` (default), a file that failed raises
    :class:`FileImportError` after all other files were processed (the report is attached
    as ``exc.report``).
    """
    from salesperf import warehouse as wh
    from salesperf.landing.migrations import migrate

    m = load_mapping(mapping)
    directory = Path(directory)
    if not directory.is_dir():
        raise FileImportError(f"drop folder {directory} does not exist")
    archive_to = Path(archive_dir) if archive_dir else directory / "archive"
    report = ImportReport(m.name, str(directory))
    with wh.connect(warehouse, autocommit=True) as conn:
        migrate(conn)
        for path in candidate_files(directory):
            spec = m.spec_for(path.name)
            if spec is None:
                report.files.append(
                    FileResult(path.name, "unmatched", message="no pattern matches; left in place")
                )
                continue
            if spec.ignore:
                res = FileResult(
                    path.name, "ignored", message=spec.note or "ignored by the mapping"
                )
            elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.files.append(
                    FileResult(
                        path.name,
                        "failed",
                        message=f"{path.name}: unsupported file type {path.suffix!r} (CSV or XLSX)",
                    )
                )
                continue
            else:
                try:
                    res = import_file(conn, m, spec, path)
                except FileNotFoundError:  # a concurrent run archived it first
                    res = FileResult(path.name, "gone", message="taken by a concurrent run")
            report.files.append(res)
            if archive and res.status in ("loaded", "duplicate", "ignored"):
                try:
                    res.archived_to = str(archive_file(path, archive_to))
                except FileNotFoundError:
                    res.message = "already archived by a concurrent run"
    log.info(
        "import %s from %s: %d files, %d rows quarantined, %d failed",
        m.name, directory, len(report.files), report.quarantined, len(report.errors),
    )  # fmt: skip
    if strict and report.errors:
        err = FileImportError(
            "; ".join(f.message for f in report.errors)
            + f" [{len(report.errors)} of {len(report.files)} files failed]"
        )
        err.report = report  # type: ignore[attr-defined]
        raise err
    return report


# ---------------------------------------------------------------- the drop folder (Airflow)


def drop_mapping(name: str, drop_root: Path | None = None) -> Path | str:
    """The mapping of drop folder ``name``: ``<drop root>/<name>.yaml`` if present, else the
    shipped mapping of that name."""
    root = Path(drop_root or config.DROP_DIR)
    for candidate in (root / f"{name}.yaml", root / f"{name}.yml"):
        if candidate.is_file():
            return candidate
    return name


def pending_drop_folders(drop_root: Path | None = None) -> list[str]:
    """Names of the drop sub-folders that hold at least one file to import."""
    root = Path(drop_root or config.DROP_DIR)
    if not root.is_dir():
        return []
    return [
        d.name
        for d in sorted(root.iterdir())
        if d.is_dir() and not d.name.startswith((".", "_")) and candidate_files(d)
    ]


def import_drop_folder(
    name: str, drop_root: Path | None = None, warehouse=None, strict: bool = True
) -> ImportReport:
    """Import ``<drop root>/<name>/`` with its mapping; processed files go to its archive."""
    root = Path(drop_root or config.DROP_DIR)
    return import_dir(drop_mapping(name, root), root / name, warehouse, strict=strict)
