"""Batch-normalization explorable: `panel serve apps/batch_norm.py`."""

from deeptricks.server.app import page_for_panel_serve

page_for_panel_serve("batch_norm").servable(title="Batch normalization · deeptricks")
