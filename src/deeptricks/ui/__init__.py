"""Reusable Panel/Bokeh components for the deeptricks explorables.

Every component creates its Bokeh figures once; its ``update`` methods only
replace data-source contents and move ranges, so pages stay smooth while a
slider is dragged. Bokeh models carry ``name=`` values derived from the
component's ``name`` so browser tests can find them.
"""

from . import theme
from .charts import CurveChart, LayerLineChart
from .controls import choice_slider
from .histograms import HistogramGrid
from .layout import (LiveMarkdown, LiveText, comparison, control_label, note_alert, page, section_title,
                     readout, set_note, strong)
from .sanitize import Hist, clean, describe, fast_histogram, symlog
from .units import UnitGrid
from .urlsync import URLSync, coerce_query, serialize_value, url_sync

__all__ = [
    "CurveChart",
    "Hist",
    "HistogramGrid",
    "LayerLineChart",
    "LiveMarkdown",
    "LiveText",
    "URLSync",
    "UnitGrid",
    "choice_slider",
    "clean",
    "coerce_query",
    "comparison",
    "control_label",
    "describe",
    "fast_histogram",
    "note_alert",
    "page",
    "readout",
    "section_title",
    "serialize_value",
    "set_note",
    "strong",
    "symlog",
    "theme",
    "url_sync",
]
