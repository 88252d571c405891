"""The server side of deeptricks, in one place.

* :mod:`.app` — ``deeptricks serve`` (routes, hooks, options) and the pages for
  ``panel serve apps/*.py``;
* :mod:`.hooks` — what happens as sessions open and close (both servers);
* :mod:`.patches` — every workaround of a Panel, Bokeh or Tornado bug, each guarded
  and tested (with :mod:`.repro`, the bugs' small reproductions);
* :mod:`.tuning` — process tuning with public APIs (garbage collector, ``malloc_trim``,
  Bokeh settings);
* :mod:`.debug` — the ``/debug/live`` endpoint for the soak test and the benchmarks.

The pages (:mod:`deeptricks.explorables`) and components (:mod:`deeptricks.ui`) never
import this package.
"""
