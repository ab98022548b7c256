"""The training package's shared helpers (``bot/training/__init__.py``)."""

from __future__ import annotations

import pytest

from bot.training import one_thread

threadpoolctl = pytest.importorskip("threadpoolctl", reason="training needs the train extra")


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
