"""cxkit._pages: numpy's huge-page advice switched off inside a block, and restored."""

import threading

import numpy as np
import pytest

from cxkit import _pages

get = pytest.importorskip("numpy._core.multiarray")._get_madvise_hugepage


def test_the_advice_is_off_inside_and_restored_after_nesting_and_errors():
    before = get()
    with _pages.small_pages():
        assert get() is False
        with _pages.small_pages():
            np.zeros(1 << 21)
        assert get() is False  # the inner block ended, the outer one has not
    assert get() == before
    with pytest.raises(RuntimeError), _pages.small_pages():
        raise RuntimeError("inside")
    assert get() == before


def test_concurrent_blocks_restore_the_advice_when_the_last_ends():
    before = get()
    inside, release = threading.Barrier(3), threading.Event()

    def work():
        with _pages.small_pages():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert get() is False
    release.set()
    for thread in threads:
        thread.join()
    assert get() == before and _pages._users == 0


def test_the_funnel_runs_in_small_pages(monkeypatch):
    import cxkit
    from cxkit.funnel import STEPS

    seen = []
    real = _pages._set_madvise_hugepage

    def spy(enabled):
        seen.append(enabled)
        return real(enabled)

    monkeypatch.setattr(_pages, "_set_madvise_hugepage", spy)
    table = cxkit.funnel(cxkit.load_sample(), STEPS)
    assert seen[0] is False and len(seen) == 2  # off for the reduction, then back
    assert int(table["customers"].iloc[0]) > 0
