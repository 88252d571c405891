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

import threading
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
