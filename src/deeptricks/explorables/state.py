"""The base class of the explorables' states: a bad value is refused whole.

``param`` checks each value as it is set and raises ``ValueError`` (``TypeError``
for a constant), leaving the parameter as it was. Two gaps remain for a page
whose plots follow its state:

* ``param.Number`` and ``param.Integer`` take ``True`` and ``False`` (a bool is
  an int in Python): ``state.layer = True`` would be stored as is, and the
  engine, which refuses booleans as numbers, would fail in the middle of the
  page's update;
* ``state.param.update(a=good, b=bad)`` sets ``a`` and then raises at ``b``:
  ``a`` is changed, but its watchers never run, so the page no longer shows
  its own state.

:class:`ExplorableState` closes both: numbers refuse booleans, and
``param.update`` checks every value before it sets any.
"""

from __future__ import annotations

import param
from param.parameterized import Parameters, Undefined

__all__ = ["ExplorableState", "check_value"]


def check_value(p: param.Parameter, value) -> None:
    """Raise ``ValueError`` (``TypeError`` for a constant) if ``p`` would refuse ``value``."""
    where = f"{type(p).__name__} parameter {p.name!r}"
    if p.constant or p.readonly:
        raise TypeError(f"{where} is constant; it cannot be set to {value!r}.")
    if isinstance(value, bool) and isinstance(p, param.Number):
        raise ValueError(f"{where} takes numbers, not the boolean {value!r}.")
    p._validate(value)  # param's own check: type, bounds, choices


class _CheckedParameters(Parameters):
    """An instance's ``.param`` whose ``update`` checks all values before setting any."""

    def update(self_, arg=Undefined, /, **kwargs):
        values = {} if arg is Undefined else dict(arg)
        values.update(kwargs)
        for name, value in values.items():
            if name not in self_:
                raise ValueError(f"{name!r} is not a parameter of {self_.cls.__name__}")
            check_value(self_[name], value)
        return super().update(arg, **kwargs)


class _CheckedNamespace:
    def __get__(self, obj, objtype):
        if obj is None:
            return objtype._param__parameters
        return _CheckedParameters(objtype, self=obj)


class ExplorableState(param.Parameterized):
    """``param.Parameterized`` for an explorable's controls: an invalid value, or an
    update with one invalid value among several, changes nothing and raises."""

    param = _CheckedNamespace()

    def __setattr__(self, name, value):
        if isinstance(value, bool):
            p = type(self).param.objects(instance=False).get(name)
            if isinstance(p, param.Number):
                check_value(p, value)
        super().__setattr__(name, value)
