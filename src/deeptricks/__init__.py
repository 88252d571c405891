"""deeptricks: explorable explainers of the tricks that made deep networks trainable.

The numpy engine lives in :mod:`deeptricks.core`; the Panel apps in
:mod:`deeptricks.ui` and :mod:`deeptricks.apps`.
"""

__version__ = "0.1.0"
