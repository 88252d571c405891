"""Tuning of the server process, with public APIs only: fewer garbage-collector pauses,
memory handed back once sessions close, and Bokeh's settings resolved once."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def release_free_memory() -> None:
    """Give the memory of freed sessions back to the system (glibc's ``malloc_trim``).

    A session's numpy arrays are megabytes each. glibc serves the first such blocks with
    mmap and returns them on free, but then raises its mmap threshold, so later arrays
    come from the heap, which it seldom gives back: without a trim the server's resident
    memory only grows as learners come and go. (A low fixed ``M_MMAP_THRESHOLD`` would
    also return it, but makes every array a fresh mapping, and the page faults on first
    touch make the batch-norm page's computation 2.5x slower.) Not glibc: nothing to do."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)


def freeze_startup_objects() -> None:
    """Take everything alive at start-up out of the garbage collector's full passes.

    Once the libraries are imported the process holds some 130,000 objects that live as
    long as it does (modules, classes, functions). A full collection walks all of them,
    50–75 ms, and a learner whose slider move arrives meanwhile waits for it.
    ``gc.freeze()`` moves them to a permanent generation that collections skip. Only
    objects alive now are frozen, so call it before the first session: sessions' objects
    stay collectable (the soak test checks that they are freed)."""
    gc.collect()
    gc.freeze()


_HOT_SETTINGS = ("simple_ids", "pretty", "serialize_include_defaults", "compression_level")


def resolve_bokeh_settings() -> dict:
    """Fix, for the process, the Bokeh settings read while every message is built.

    Bokeh resolves a setting at each read: an immediate value, a user-set one, a config
    file, then the environment (``BOKEH_SIMPLE_IDS``, ``BOKEH_PRETTY`` ...). ``make_id``
    reads ``simple_ids`` for every model, and serializing a patch reads ``pretty`` and
    ``compression_level``: with twenty learners on the dropout page the environment
    lookups alone were 3.5% of the server's time. Setting each to the value it resolves
    to now (``settings.X.set_value``) gives the same answers from the first rung, since
    the environment does not change under a running server. -> ``{name: value}``."""
    from bokeh.settings import settings

    fixed = {}
    for name in _HOT_SETTINGS:
        setting = getattr(settings, name, None)
        if setting is None:
            continue
        try:
            value = setting()
        except RuntimeError:                  # no value anywhere: leave it to Bokeh
            continue
        setting.set_value(value)
        fixed[name] = value
    return fixed
