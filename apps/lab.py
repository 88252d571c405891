"""The lab (train a network live): `panel serve apps/lab.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve("lab").servable(title="The lab · deeptricks")
