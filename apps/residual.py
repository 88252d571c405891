"""Residual connections explorable: `panel serve apps/residual.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve("residual").servable(title="Residual connections · deeptricks")
