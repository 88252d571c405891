"""Lighter Bokeh property containers: the largest share of a page's per-session memory.

Bokeh wraps every list, dict and set that a model holds as a property value
(``tags``, ``styles``, ``js_event_callbacks``, a data source's ``data`` ...) in
a container that remembers its owners, so that mutating it in place can notify
the model. It keeps them in a ``set``: 184 bytes even when empty, and almost
every container has one owner or none. The lab page has about 11,000 of them,
2 MB of its 5.8 MB.

:func:`install` keeps the owners in a tuple instead (no allocation when there
is none, 48 bytes for one). Registering, unregistering and notifying behave as
before; containers made before the call keep their sets and still work. Set
``DEEPTRICKS_LEAN_BOKEH=0`` to leave Bokeh as it is.
"""

from __future__ import annotations

import os

from bokeh.core.property import wrappers

_Container = wrappers.PropertyValueContainer
_ORIGINAL = {name: _Container.__dict__[name] for name in ("__init__", "_register_owner", "_unregister_owner")}


def _init(self, *args, **kwargs) -> None:
    # no owner yet: the class's empty tuple answers, and the instance needs no __dict__ at all
    super(_Container, self).__init__(*args, **kwargs)


def _register_owner(self, owner, descriptor) -> None:
    pair = (owner, descriptor)
    owners = self._owners
    if isinstance(owners, set):          # made before install()
        owners.add(pair)
    elif not any(o is owner and d is descriptor for o, d in owners):
        self._owners = (*owners, pair)


def _unregister_owner(self, owner, descriptor) -> None:
    owners = self._owners
    if isinstance(owners, set):
        owners.discard((owner, descriptor))
    else:
        self._owners = tuple((o, d) for o, d in owners if not (o is owner and d is descriptor))


def install() -> bool:
    """Swap in the tuple-based owner bookkeeping (once); ``False`` if switched off or not possible."""
    if os.environ.get("DEEPTRICKS_LEAN_BOKEH", "1") == "0":
        return False
    if _Container.__init__ is _init:
        return True
    # the three methods are the only places Bokeh writes ``_owners``; anything else only iterates it
    if not all(callable(f) for f in _ORIGINAL.values()):
        return False
    _Container._owners = ()
    _Container.__init__ = _init
    _Container._register_owner = _register_owner
    _Container._unregister_owner = _unregister_owner
    if not _works():                     # a Bokeh that uses ``_owners`` some other way: leave it alone
        uninstall()
        return False
    return True


def _works() -> bool:
    """In-place changes to a model's list and to a data source still reach the document."""
    try:
        from bokeh.document import Document
        from bokeh.models import ColumnDataSource, Div

        doc, seen = Document(), []
        div, src = Div(tags=[1]), ColumnDataSource(data={"x": [0.0]})
        doc.add_root(div)
        doc.add_root(src)
        doc.on_change(seen.append)
        div.tags.append(2)
        src.stream({"x": [1.0]})
        old = div.tags
        div.tags = []
        old.append(3)                    # no longer owned: no event
        return len(seen) == 3 and isinstance(old._owners, tuple) and not old._owners
    except Exception:
        return False


def uninstall() -> None:
    """Bokeh's own methods again (for tests)."""
    for name, f in _ORIGINAL.items():
        setattr(_Container, name, f)
    if "_owners" in _Container.__dict__:
        del _Container._owners


def installed() -> bool:
    return _Container.__init__ is _init
