"""A data folder read once per report (cxkit.data.cache)."""

import os
import shutil
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import cxkit
import cxkit.data.journey as journey_module
from cxkit.data.cache import CACHE_ENV, journey_cache


@pytest.fixture
def folder(tmp_path):
    src = cxkit.sample_dir()
    dst = tmp_path / "data"
    dst.mkdir()
    for name in ("events.csv.gz", "customers.csv", "surveys.csv"):
        shutil.copy(src / name, dst / name)
    return dst


@pytest.fixture
def reads(monkeypatch):
    """How many times the folder's files were actually parsed."""
    calls = []
    real = journey_module.journey_from_folder

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(journey_module, "journey_from_folder", counting)
    return calls


def test_a_cached_read_returns_the_same_journey_without_parsing(folder, reads):
    plain = cxkit.read_journey(folder)
    with journey_cache() as cache:
        cxkit.read_journey(folder)  # parses and stores
        again = cxkit.read_journey(folder)
        assert len(list(cache.glob("journey-*.pickle"))) == 1
    assert len(reads) == 2  # the plain read and the first cached one
    for name in ("events", "customers", "surveys"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(plain, name))
        assert getattr(again, name).attrs == getattr(plain, name).attrs
    assert again.observed_at == plain.observed_at and again.notes == plain.notes
    assert again.spec == plain.spec and again.source == plain.source
    assert CACHE_ENV not in os.environ and not cache.exists()  # removed after the block


def test_the_key_is_the_content_and_the_arguments(folder, reads):
    with journey_cache() as cache:
        cxkit.read_journey(folder)
        cxkit.read_journey(folder, observed_at="2025-03-01")
        customers = pd.read_csv(folder / "customers.csv")
        customers.iloc[:-1].to_csv(folder / "customers.csv", index=False)
        changed = cxkit.read_journey(folder)
        assert len(list(cache.glob("journey-*.pickle"))) == 3
    assert len(reads) == 3
    assert len(changed.customers) == len(customers) - 1


def test_a_cached_read_raises_the_warnings_of_the_first(folder):
    surveys = pd.read_csv(folder / "surveys.csv")
    surveys.loc[0, "customer_id"] = "nobody"
    surveys.to_csv(folder / "surveys.csv", index=False)
    with journey_cache():
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cxkit.read_journey(folder)
            assert any("nobody" in str(w.message) for w in caught)


@pytest.mark.slow
def test_report_notebooks_load_the_journey_the_report_read(tmp_path, folder):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_report import _notebook

    check = (
        "import cxkit, cxkit.data.journey as jm\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('the notebook parsed the files again')\n"
        "jm.journey_from_folder = refuse\n"
        "journey = cxkit.read_journey(data_dir)\n"
        "print('events:', len(journey.events))"
    )
    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_first", check)
    _notebook(nbs, "02_second", check)
    cxkit.build_report(folder, tmp_path / "out", notebooks=nbs, progress=False)
    n = len(cxkit.read_journey(folder).events)
    for name in ("01_first", "02_second"):
        assert f"events: {n}" in (tmp_path / "out" / f"{name}.html").read_text()
    assert CACHE_ENV not in os.environ
