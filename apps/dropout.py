"""Dropout explorable: `panel serve apps/dropout.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve("dropout").servable(title="Dropout · deeptricks")
