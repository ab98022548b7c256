"""numpy's BLAS on one thread, for the bot's processes and for training.

The products a question needs are small (the nearest learned texts: a few thousand rows of 128
numbers; the text models: a few hundred rows). With OpenBLAS's default of a thread per core,
the second thread adds nothing to a product that size and then spins, waiting for more work:
on the 2-core machine a question cost about twice its wall-clock time in CPU (benchmarks/
router_latency.py prints both), a core taken from the other requests. On one thread a
question's CPU time is its wall-clock time. Training fits run on one thread too, for another
reason: the sums inside a fit then run in the same order on any number of cores, so a retrain
gives the shipped files bit for bit (``--check``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy  # noqa: F401  (loads numpy's BLAS first: a limit applies to the libraries loaded)
from threadpoolctl import threadpool_limits


def one_thread() -> AbstractContextManager[object]:
    """Limit BLAS to one thread from now on: until the ``with`` block ends, when used as a
    context manager (a fit), or for the rest of the process when the result is dropped (the
    bot's commands, before they load anything). Forked workers inherit the limit."""
    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits
