"""Reading data and writing results for the ``gaussmix`` command: CSV/TSV (header detected),
.npy, Parquet (with pyarrow), standard input; outputs written whole or not at all."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
import tempfile

import numpy as np


class CliError(Exception):
    """A problem with the command's input, reported as one line and exit status 2."""


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return text.strip().lower() in ("", "nan", "na")
    return True


def _parse_table(text, source, delimiter):
    """(rows as float64 array, column names) from delimited text; empty, 'nan' and 'NA' cells
    are NaN. The first row is a header when any of its cells is not a number."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise CliError(f"{source} holds no data.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ").delimiter
        except csv.Error:
            delimiter = ","
    rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
    header = None
    if not all(_is_number(cell) for cell in rows[0]):
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    if not rows:
        raise CliError(f"{source} has a header but no rows.")
    width = len(header) if header is not None else len(rows[0])
    names = header or [str(j) for j in range(width)]
    out = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        line = i + (2 if header is not None else 1)
        if len(row) != width:
            raise CliError(f"{source} line {line}: {len(row)} fields, expected {width}.")
        for j, cell in enumerate(row):
            cell = cell.strip()
            if cell.lower() in ("", "nan", "na"):
                out[i, j] = np.nan
                continue
            try:
                out[i, j] = float(cell)
            except ValueError:
                raise CliError(
                    f"{source} line {line}, column {names[j]!r}: {cell!r} is not a number."
                ) from None
    return out, names


def read_data(path, columns=None):
    """(X as float64 (or float32 from .npy), column names) from a path or '-' (standard input)."""
    if path == "-":
        text = sys.stdin.read()
        X, names = _parse_table(text, "standard input", None)
        return _select(X, names, columns, "standard input")
    if not os.path.exists(path):
        raise CliError(f"{path}: no such file.")
    lower = path.lower()
    if lower.endswith(".npy"):
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise CliError(f"{path}: not a numeric .npy array ({exc}).") from None
        if X.ndim != 2:
            raise CliError(f"{path}: expected a 2-D array, got shape {X.shape}.")
        if X.dtype.kind not in "biuf":
            raise CliError(f"{path}: expected numbers, got dtype {X.dtype}.")
        return _select(X, [str(j) for j in range(X.shape[1])], columns, path)
    if lower.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise CliError(
                f"{path}: reading Parquet needs pyarrow (pip install pyarrow)."
            ) from None
        table = pq.read_table(path)
        names = [str(n) for n in table.column_names]
        try:
            X = np.column_stack(
                [table.column(n).to_numpy(zero_copy_only=False).astype(np.float64) for n in names]
            )
        except (ValueError, TypeError) as exc:
            raise CliError(f"{path}: a column is not numeric ({exc}).") from None
        return _select(X, names, columns, path)
    delimiter = "\t" if lower.endswith((".tsv", ".tab")) else None
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    X, names = _parse_table(text, path, delimiter)
    return _select(X, names, columns, path)


def _select(X, names, columns, source):
    if not columns:
        return X, names
    picked = []
    for item in columns.split(","):
        item = item.strip()
        if item in names:
            picked.append(names.index(item))
        elif item.lstrip("-").isdigit() and -len(names) <= int(item) < len(names):
            picked.append(int(item) % len(names))
        else:
            raise CliError(f"{source}: no column {item!r} (columns: {', '.join(names)}).")
    return np.ascontiguousarray(X[:, picked]), [names[j] for j in picked]


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path` that replaces it only when the block succeeds, so that a
    failed or interrupted command leaves no half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{path}: the folder {folder} does not exist.")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".gaussmix-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_table(path, array, header):
    """CSV with a header row, to `path` (atomically) or to standard output when None."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(header)
    array = np.asarray(array)
    if array.ndim == 1:
        array = array[:, np.newaxis]
    # %.17g keeps every float64 exactly (a CSV read back gives the same numbers).
    fmt = "%d" if array.dtype.kind in "iu" else "%.17g"
    np.savetxt(buffer, array, delimiter=",", fmt=fmt)
    text = buffer.getvalue()
    if path is None:
        sys.stdout.write(text)
        return
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
