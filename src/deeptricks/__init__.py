"""deeptricks: explorable explainers of the tricks that made deep networks trainable.

The numpy engine lives in :mod:`deeptricks.core`, the reusable Panel/Bokeh components in
:mod:`deeptricks.ui`, the pages in :mod:`deeptricks.explorables` and the server in
:mod:`deeptricks.server`. In a notebook, :func:`show` gives any page or view::

    import deeptricks
    deeptricks.show("dropout/units", p=0.7)
"""

__version__ = "0.1.0"


def show(target: str, **settings):
    """A page (``"dropout"``) or one of its views (``"dropout/units"``) as a Panel object, for
    a notebook cell (it renders where it is the cell's last expression) or ``.servable()``.

    ``settings`` set the controls, by their names on the page's state or by the keys of its
    links (``p=0.7``, ``mode="test"``, ``bn=False``); a value out of range raises ``ValueError``.
    ``deeptricks embed --list`` lists the targets."""
    import panel as pn

    from deeptricks.explorables.registry import by_slug

    slug, _, view = target.partition("/")
    try:
        explorable = by_slug(slug)
    except KeyError:
        raise ValueError(f"no explorable {slug!r}; `deeptricks embed --list` lists the targets") from None
    cls = explorable._page_class()
    page = cls()
    keys = {key: name for name, key in getattr(cls, "URL_PARAMS", {}).items()}
    values = {keys.get(k, k): v for k, v in settings.items()}
    unknown = sorted(k for k in values if k not in page.state.param)
    if unknown:
        raise ValueError(f"{target}: no setting {', '.join(unknown)}")
    if view:
        cls.view_named(view)          # an unknown view raises before anything is built
    pn.extension()
    page.state.param.update(**values)
    return page.view(view) if view else page.layout()
