"""The index of the explorables: `panel serve apps/*.py --index apps/index.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve().servable(title="deeptricks · the tricks that make deep nets work")
