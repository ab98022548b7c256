"""numpy's BLAS on one thread (``bot/blas.py``): for fits, and for every command."""

from __future__ import annotations

import subprocess
import sys

import threadpoolctl

from bot.blas import one_thread


def blas_threads() -> list[int]:
    return [
        pool["num_threads"]
        for pool in threadpoolctl.threadpool_info()
        if pool["user_api"] == "blas"
    ]


def test_fits_run_on_one_blas_thread_and_the_setting_is_restored_after() -> None:
    import numpy  # noqa: F401  (loads numpy's BLAS, so that there is a pool to limit)

    # Two threads first, so the test means the same on a machine already pinned to one.
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert before, "numpy's BLAS is not visible to threadpoolctl"
        with one_thread():
            assert blas_threads() == [1] * len(before)
        assert blas_threads() == before


def test_a_command_runs_on_one_blas_thread() -> None:
    """In a process of its own: the limit lasts for the rest of the process."""
    script = (
        "import numpy\n"
        "import threadpoolctl\n"
        "from bot.cli import main\n"
        "with threadpoolctl.threadpool_limits(limits=2, user_api='blas'):\n"
        "    main(['ask', 'Who hosted the hackathon?'])\n"
        "    print([p['num_threads'] for p in threadpoolctl.threadpool_info()"
        " if p['user_api'] == 'blas'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines()[-1] == "[1]"
