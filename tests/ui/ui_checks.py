"""Checks shared by the UI component tests (a module of its own: ``from conftest import`` would
find the browser tests' conftest when both directories are collected in one run)."""

import numbers

import numpy as np


def assert_source_finite(source):
    """Every numeric entry of a ColumnDataSource is finite, and columns have equal length."""
    lengths = {k: len(v) for k, v in source.data.items()}
    assert len(set(lengths.values())) <= 1, lengths
    for key, col in source.data.items():
        arr = np.asarray(col)
        if arr.dtype.kind in "fiu":
            assert np.isfinite(arr).all(), (source.name, key)
        elif arr.dtype == object:
            for v in col:
                if isinstance(v, numbers.Number):
                    assert np.isfinite(v), (source.name, key)
