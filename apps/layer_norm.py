"""Layer-normalization explorable: `panel serve apps/layer_norm.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve("layer_norm").servable(title="Layer normalization · deeptricks")
