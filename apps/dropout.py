"""Dropout explorable: `panel serve apps/dropout.py`."""

from deeptricks.explorables.dropout import page

page().servable(title="Dropout · deeptricks")
