"""Sending only what changed to a Bokeh data source.

Replacing ``source.data`` sends every column to the browser, each numeric
column as its own binary websocket frame, and the browser then re-reads all
of them. After a slider move most columns are usually the same as before
(bin edges on a fixed axis, a grid's cell positions, a read-out's x values),
so :func:`set_data` compares the new columns with the old ones and sends only
the columns that differ, in one event. When the set of columns or their
length changes it falls back to a full replacement.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from bokeh.models import ColumnDataSource


def _same(old, new) -> bool:
    """True when two column values hold the same data (arrays by value, lists element-wise)."""
    if old is new:
        return True
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        a, b = np.asarray(old), np.asarray(new)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    try:
        return bool(old == new)
    except Exception:  # e.g. lists holding arrays
        return False


def _length(col) -> int:
    return int(col.shape[0]) if isinstance(col, np.ndarray) and col.ndim else len(col)


def set_data(source: ColumnDataSource, data: Mapping) -> set[str]:
    """Make ``source.data`` equal ``data``, sending only the columns that changed.

    Returns the names of the columns sent (all of them on a full replacement,
    none when nothing changed).
    """
    data = dict(data)
    old = source.data
    new_lengths = {_length(v) for v in data.values()}
    old_lengths = {_length(v) for v in old.values()}
    if set(old) != set(data) or len(new_lengths) > 1 or new_lengths != old_lengths:
        source.data = data
        return set(data)
    changed = {k: v for k, v in data.items() if not _same(old[k], v)}
    if changed:
        source.data.update(changed)
    return set(changed)
