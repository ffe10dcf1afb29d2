"""Registry import and export files: CSV (one lot a row) and JSON (a list of lots, or ``{"lots": [...]}``).

Rows are decoded one line at a time so that a line in the wrong encoding is reported by number instead of
failing the whole file.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

from model.matching.store import LOT_COLUMNS, REQUIRED, ImportReport, LotRecord, Registry, RowError


def read_lot_rows(path: Path) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Numbered rows of a CSV or JSON lot file, and the rows that could not be read."""
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        return _json_rows(data)
    return _csv_rows(data)


def _json_rows(data: bytes) -> tuple[list[tuple[int, dict]], list[RowError]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return [], [RowError(0, f"not a UTF-8 JSON document: {e}")]
    items = doc.get("lots", []) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        return [], [RowError(0, "expected a list of lots or an object with a 'lots' list")]
    rows, errors = [], []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict):
            rows.append((n, item))
        else:
            errors.append(RowError(n, f"expected an object, got {type(item).__name__}"))
    return rows, errors


def _csv_rows(data: bytes) -> tuple[list[tuple[int, dict]], list[RowError]]:
    lines = data.splitlines()
    if not lines:
        return [], [RowError(0, "empty file")]
    errors, text_lines, numbers = [], [], []
    for n, raw in enumerate(lines):
        try:
            text_lines.append(raw.decode("utf-8-sig" if n == 0 else "utf-8"))
            numbers.append(n)
        except UnicodeDecodeError as e:
            errors.append(RowError(n, f"not UTF-8 ({e.reason} at byte {e.start}); row skipped"))
    if not numbers or numbers[0] != 0:
        return [], [*errors, RowError(0, "the header line is unreadable")]
    reader = csv.DictReader(io.StringIO("\n".join(text_lines)))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return [], [*errors, RowError(0, f"missing column(s): {', '.join(missing)}")]
    rows = []
    for k, row in enumerate(reader, start=1):
        n = numbers[k] if k < len(numbers) else k
        if None in row:
            errors.append(RowError(n, "more fields than the header"))
            continue
        rows.append((n, row))
    return rows, errors


def import_file(registry: Registry, path: Path) -> ImportReport:
    """Import a lot file row by row; the report lists every skipped row with its reason."""
    rows, read_errors = read_lot_rows(path)
    report = registry.import_rows(rows)
    errors = sorted((*read_errors, *report.errors), key=lambda e: e.row)
    return ImportReport(report.added, tuple(errors))


def export_file(registry: Registry, path: Path) -> int:
    """Write every lot to CSV, or lots and their sightings to JSON; returns the number of lots."""
    records = registry.all_lots()
    if path.suffix.lower() == ".json":
        doc = {"lots": [_lot_dict(r) for r in records],
               "sightings": [dataclasses.asdict(s) for s in registry.sightings()]}
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return len(records)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=LOT_COLUMNS)
        w.writeheader()
        for r in records:
            w.writerow(_lot_dict(r))
    return len(records)


def _lot_dict(r: LotRecord) -> dict:
    d = dataclasses.asdict(r)
    d["circled_factory"] = "true" if r.circled_factory else "false"
    return {k: ("" if d.get(k) is None else d[k]) for k in LOT_COLUMNS}
