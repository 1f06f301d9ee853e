"""A data folder read once per report: later reads get the Journey back from a cache file.

``cxkit report`` reads the journey before running the notebooks and points them, through the
environment variable :data:`CACHE_ENV`, at a private temporary folder holding it; each notebook's
``cxkit.read_journey(data_dir)`` then loads that file (0.1 s at a million events, instead of
about 3 s of CSV parsing and checks) — the same call an analyst makes, with nothing to change
in the notebooks. The file is keyed by the data's content (the bytes of every table file), the
spec and the reader's arguments, so a changed file or a different ``observed_at`` is read
afresh. The warnings the first read raised are raised again on every cached read.

The cache is a pickle of the Journey: it round-trips every dtype, the tables' ``attrs`` and the
spec exactly, and reads eight times faster than Arrow's Feather (which also turns the string
categories of canonical columns into object ones). It is only ever read from a folder the
report created for itself (mode 0700), never from data a user hands over.

Examples
--------
>>> import os, tempfile, cxkit
>>> from cxkit.data.cache import CACHE_ENV
>>> with tempfile.TemporaryDirectory() as tmp:
...     os.environ[CACHE_ENV] = tmp
...     first = cxkit.read_journey(cxkit.sample_dir())    # reads the CSV files, stores them
...     again = cxkit.read_journey(cxkit.sample_dir())    # loads the stored Journey
...     del os.environ[CACHE_ENV]
>>> again.events.equals(first.events)
True
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
import warnings
from pathlib import Path

#: Environment variable naming the cache folder; unset (the default), nothing is cached.
CACHE_ENV = "CXKIT_JOURNEY_CACHE"
_CHUNK = 1 << 22


@contextlib.contextmanager
def journey_cache():
    """Cache journeys read in this block, and by processes started in it, in a private
    temporary folder removed at the end (it sets :data:`CACHE_ENV` meanwhile)."""
    before = os.environ.get(CACHE_ENV)
    with tempfile.TemporaryDirectory(prefix="cxkit-journey-") as folder:
        os.environ[CACHE_ENV] = folder
        try:
            yield Path(folder)
        finally:
            if before is None:
                os.environ.pop(CACHE_ENV, None)
            else:
                os.environ[CACHE_ENV] = before


def cache_folder():
    """The folder named by :data:`CACHE_ENV`, or None."""
    value = os.environ.get(CACHE_ENV)
    return Path(value) if value else None


def journey_key(paths, spec, arguments):
    """Hex digest of the table files' bytes, the spec and the reader's arguments."""
    from .. import __version__

    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"cxkit {__version__}\n{spec!r}\n{arguments!r}\n".encode())
    for name in sorted(paths):
        path = paths[name]
        digest.update(f"{name}: {path}\n".encode())
        if path is None:
            continue
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def read_cached(folder, key, read):
    """The Journey stored under ``key`` in ``folder``, or ``read()`` stored there."""
    path = Path(folder) / f"journey-{key}.pickle"
    if path.is_file():
        with open(path, "rb") as f:
            journey, caught = pickle.load(f)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            journey = read()
        caught = [(w.category, str(w.message)) for w in caught]
        _write(path, (journey, caught))
    for category, message in caught:
        warnings.warn(message, category, stacklevel=3)
    return journey


def _write(path, value):
    """Write atomically: a notebook reading at the same moment sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".journey-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
