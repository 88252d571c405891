"""The index of the explorables: `panel serve apps/*.py --index apps/index.py`."""

from deeptricks.explorables.index import page

page().servable(title="deeptricks · the tricks that make deep nets work")
