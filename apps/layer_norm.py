"""Layer-normalization explorable: `panel serve apps/layer_norm.py`."""

from deeptricks.explorables.layer_norm import page

page().servable(title="Layer normalization · deeptricks")
