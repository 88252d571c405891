"""Controls lighter than Panel's composite widgets."""

from __future__ import annotations

import param
import panel as pn
from bokeh.models import CustomJSTickFormatter

from .theme import fmt_num


def choice_slider(parameter: param.Selector, **kwargs) -> pn.widgets.IntSlider:
    """A slider over the options of a ``param.Selector`` (e.g. a learning rate from a fixed list).

    It does what ``pn.widgets.DiscreteSlider.from_param`` does, with one Bokeh slider:
    the handle moves over the option indices, and the title shows the option
    (``Learning rate: 0.01``). Panel's DiscreteSlider is a composite of four
    Panel objects (a column, a text and a slider), about 80 kB a session
    against 20 kB. The slider and the parameter are kept in step both ways. The
    page's accessibility script (:mod:`deeptricks.ui.a11y`) gives the handle
    ``aria-valuetext`` = the option shown, not its index.
    """
    owner, name = parameter.owner, parameter.name
    if not isinstance(parameter, param.Selector) or isinstance(parameter, param.ListSelector):
        raise TypeError(f"choice_slider needs a param.Selector, got {type(parameter).__name__}")
    options = list(parameter.objects)
    if len(options) < 2:
        raise ValueError(f"choice_slider needs at least two options for {name!r}, got {options!r}")
    labels = [fmt_num(o) if isinstance(o, (int, float)) and not isinstance(o, bool) else str(o)
              for o in options]
    formatter = CustomJSTickFormatter(args={"labels": labels},
                                      code="return labels[Math.round(tick)] ?? String(tick);")
    slider = pn.widgets.IntSlider(label=parameter.label or name, start=0, end=len(options) - 1,
                                  value=options.index(getattr(owner, name)), step=1, format=formatter,
                                  **kwargs)

    def to_param(event) -> None:
        value = options[int(event.new)]
        if getattr(owner, name) != value:
            setattr(owner, name, value)

    def to_slider(event) -> None:
        index = options.index(event.new)
        if slider.value != index:
            slider.value = index

    slider.param.watch(to_param, "value")
    owner.param.watch(to_slider, name)
    return slider
