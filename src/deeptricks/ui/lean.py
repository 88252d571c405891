"""Lighter Bokeh property containers: the largest share of a page's per-session memory.

Bokeh wraps every list, dict and set that a model holds as a property value
(``tags``, ``styles``, ``js_event_callbacks``, a data source's ``data`` ...) in
a container that remembers its owners, so that mutating it in place can notify
the model. It keeps them in a ``set`` (184 bytes even when empty) stored in the
container's instance ``__dict__`` (about 250 bytes more), while almost every
container has one owner or none. The lab page has about 5,500 of them, and
the owner bookkeeping was 2.3 MB of its 5.2 MB.

:func:`install` makes two changes:

- the owners are kept in a tuple: nothing is allocated when there is none, and
  48 bytes for one;
- the containers Bokeh makes are subclasses with one slot for that tuple, so no
  instance needs a ``__dict__``.

Registering, unregistering and notifying behave as before. A container made
before the call keeps its set and still works. Set ``DEEPTRICKS_LEAN_BOKEH=0``
to leave Bokeh as it is.
"""

from __future__ import annotations

import os

from bokeh.core.property import container, wrappers

_Container = wrappers.PropertyValueContainer
_ORIGINAL = {name: _Container.__dict__[name] for name in ("__init__", "_register_owner", "_unregister_owner")}
# the container classes Bokeh's List, Set, Dict and ColumnData properties make (in their ``wrap``)
_WRAPPED = ("PropertyValueList", "PropertyValueSet", "PropertyValueDict", "PropertyValueColumnData")
_BOKEH_CLASSES = {name: getattr(container, name) for name in _WRAPPED}


def _init(self, *args, **kwargs) -> None:
    # no owner yet: the class's empty tuple (or the slot, set below) answers
    super(_Container, self).__init__(*args, **kwargs)


def _slotted_init(self, *args, **kwargs) -> None:
    self._owners = ()
    super(_Container, self).__init__(*args, **kwargs)


def _slotted(base: type) -> type:
    """``base`` with one slot for its owners, so that its instances need no ``__dict__``."""
    return type(base.__name__, (base,), {
        "__slots__": ("_owners",), "__init__": _slotted_init, "__module__": __name__,
        "__qualname__": base.__qualname__,
        "__doc__": f"Bokeh's ``{base.__name__}``, its owners kept in a slot (see :mod:`deeptricks.ui.lean`)."})


LEAN_CLASSES = {name: _slotted(cls) for name, cls in _BOKEH_CLASSES.items()}


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
    # ``wrap`` both checks for and makes containers through these names; a container of
    # Bokeh's own class is then wrapped anew (a copy) when assigned: nothing makes one
    for name, cls in LEAN_CLASSES.items():
        setattr(container, name, cls)
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
        return (len(seen) == 3 and isinstance(old._owners, tuple) and not old._owners
                and isinstance(src.data, LEAN_CLASSES["PropertyValueColumnData"])
                and isinstance(div.tags, LEAN_CLASSES["PropertyValueList"]))
    except Exception:
        return False


def uninstall() -> None:
    """Bokeh's own methods again (for tests)."""
    for name, f in _ORIGINAL.items():
        setattr(_Container, name, f)
    for name, cls in _BOKEH_CLASSES.items():
        setattr(container, name, cls)
    if "_owners" in _Container.__dict__:
        del _Container._owners


def installed() -> bool:
    return _Container.__init__ is _init
