"""New numpy arrays in ordinary (4 KB) pages while a piece of work runs.

On Linux numpy advises the kernel to back every large array with 2 MB "huge" pages
(``MADV_HUGEPAGE``). That makes random reads into big arrays cheaper, but where the kernel
defragments on demand for such memory (``/sys/kernel/mm/transparent_hugepage/defrag`` set to
``madvise``, the default of Ubuntu and others) the first touch of a new array can stall while
it compacts memory or, in a VM, while the host backs the page (numpy issue 31590). Work that
makes many short-lived arrays and reads them in order pays for that and gains nothing: the
funnel on 30M loaded events took 4.8-5.3 s with huge pages and 1.9-2.1 s without, on this
machine. The arrays it reads (the loaded log) keep the pages they were made with.

numpy's switch is process-wide and private (``numpy._core.multiarray._set_madvise_hugepage``,
the runtime form of ``NUMPY_MADVISE_HUGEPAGE``); without it, nothing changes. Nested and
concurrent uses are counted, so the setting is restored when the last one ends.

Examples
--------
>>> import numpy as np
>>> from cxkit._pages import small_pages
>>> with small_pages():
...     scratch = np.zeros(1 << 20)
"""

from __future__ import annotations

import contextlib
import functools
import threading

try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # numpy before 2.0, or without the switch
    try:
        from numpy.core.multiarray import _set_madvise_hugepage
    except ImportError:
        _set_madvise_hugepage = None

_lock = threading.Lock()
_users = 0
_before = None


@contextlib.contextmanager
def small_pages():
    """New numpy arrays without the huge-page advice inside the block (see the module)."""
    global _users, _before
    if _set_madvise_hugepage is None:
        yield
        return
    with _lock:
        if _users == 0:
            _before = bool(_set_madvise_hugepage(False))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _set_madvise_hugepage(_before)


def in_small_pages(function):
    """Decorator: run ``function`` inside :func:`small_pages`."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with small_pages():
            return function(*args, **kwargs)

    return run
