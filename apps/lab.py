"""The lab (train a network live): `panel serve apps/lab.py`."""

from deeptricks.explorables.lab import page

page().servable(title="The lab · deeptricks")
