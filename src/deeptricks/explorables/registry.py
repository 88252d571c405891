"""The explorables in the order the index lists them: route, title, one line, page builder,
and each one's views (the sections a course page can embed alone)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Explorable:
    slug: str          # the route: /<slug>
    title: str
    summary: str       # one line for the index
    module: str        # module with a ``page()`` function
    page_class: str = ""   # its page class, whose ``VIEWS`` are the embeddable sections

    def page(self):
        """Build a fresh page (one per browser session)."""
        return importlib.import_module(self.module).page()

    def _page_class(self):
        return getattr(importlib.import_module(self.module), self.page_class)

    def views(self) -> tuple:
        """The views of this explorable (:class:`deeptricks.ui.views.View`), in page order."""
        return tuple(self._page_class().VIEWS) if self.page_class else ()

    def view(self, name: str, **kwargs):
        """Build a fresh view ``name`` (one per browser session); ``kwargs`` go to the page's
        ``view`` (``caption=``)."""
        return self._page_class()().view(name, **kwargs)


EXPLORABLES = (
    Explorable("dropout", "Dropout",
               "Drop random units while training: watch survivors scale up and the test-time output hold steady.",
               "deeptricks.explorables.dropout", "DropoutPage"),
    Explorable("batch_norm", "Batch normalization",
               "Standardize each layer over the batch: deep activations stop drifting; small batches get noisy.",
               "deeptricks.explorables.batch_norm", "BatchNormPage"),
    Explorable("layer_norm", "Layer normalization",
               "Standardize each example over its own features: no batch statistics, so a batch of one works.",
               "deeptricks.explorables.layer_norm", "LayerNormPage"),
    Explorable("residual", "Residual connections",
               "Add the input back to the output: the gradient's “+1” keeps a hundred-layer stack trainable.",
               "deeptricks.explorables.residual", "ResidualPage"),
    Explorable("lab", "The lab",
               "Train a net live, or two side by side, and watch each trick change the curves and the boundary.",
               "deeptricks.explorables.lab", "LabPage"),
)


def view_routes() -> list[tuple[Explorable, object]]:
    """Every ``(explorable, view)`` pair, in index order."""
    return [(e, v) for e in EXPLORABLES for v in e.views()]


def by_slug(slug: str) -> Explorable:
    for e in EXPLORABLES:
        if e.slug == slug:
            return e
    raise KeyError(slug)
