"""Batch-normalization explorable: `panel serve apps/batch_norm.py`."""

from deeptricks.explorables.batch_norm import page

page().servable(title="Batch normalization · deeptricks")
