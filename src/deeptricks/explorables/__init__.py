"""The explorables: one module of numpy computation (``*_model``) and one Panel page per trick.

Importing this package limits numpy's BLAS to one thread (``DEEPTRICKS_BLAS_THREADS``
overrides). The pages multiply small matrices; on a 2-core server that also runs other
sessions (or the browser), a second BLAS thread spin-waits for a busy core and a product
that takes 0.3 ms alone can take 10 ms or more.
"""

import os

import numpy  # noqa: F401  (loads the BLAS library that the limit applies to)

from threadpoolctl import threadpool_limits

BLAS_THREADS = int(os.environ.get("DEEPTRICKS_BLAS_THREADS", "1") or 1)
_blas_limit = threadpool_limits(limits=BLAS_THREADS, user_api="blas")
