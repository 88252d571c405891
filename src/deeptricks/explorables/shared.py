"""One copy per server process of the models every session computes from.

An explorable's model holds its network's weights, its inputs and caches of
computed layers: tens of megabytes for the batch-norm page. Nothing in it
belongs to one learner: every method takes the controls it needs and sets the
model up for them before computing. So the sessions of one process share one
model, and a new session costs only its Bokeh document, not another copy of
the network. The lock makes each page update's use of the model atomic, should
Panel ever run callbacks on threads.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Callable

_models: dict[Any, tuple[Any, threading.RLock]] = {}
_registry_lock = threading.Lock()


def shared(factory: Callable[[], Any]) -> tuple[Any, threading.RLock]:
    """``(model, lock)``: the process's one ``factory()`` and the lock to hold while using it."""
    with _registry_lock:
        entry = _models.get(factory)
        if entry is None:
            entry = _models[factory] = (factory(), threading.RLock())
        return entry


class ViewCache:
    """A bounded memo of computed views, shared by the sessions of a process.

    The pages are deterministic functions of their controls, and their
    sliders move in fixed steps, so learners dragging back and forth (and a
    class exploring the same page) ask for the same settings again and again.
    Entries are views (histograms, summaries), never the networks' layers, so
    a few hundred of them cost a few megabytes. The oldest entry is dropped
    first. ``DEEPTRICKS_VIEW_CACHE=0`` turns memoising off (the benchmarks
    measure both).
    """

    def __init__(self, max_entries: int = 256):
        self.max_entries = int(max_entries)
        self.enabled = os.environ.get("DEEPTRICKS_VIEW_CACHE", "1") != "0"
        self._items: OrderedDict = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key, compute: Callable[[], Any]):
        """The value for ``key``, computed by ``compute()`` only when it is not stored."""
        if not self.enabled:
            return compute()
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        self.misses += 1
        value = compute()
        self._items[key] = value
        if len(self._items) > self.max_entries:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
