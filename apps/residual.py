"""Residual connections explorable: `panel serve apps/residual.py`."""

from deeptricks.explorables.residual import page

page().servable(title="Residual connections · deeptricks")
