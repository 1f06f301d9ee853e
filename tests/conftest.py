import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def sample():
    """The bundled sample journey (read once per test session)."""
    import cxkit

    return cxkit.load_sample()


@pytest.fixture(scope="session")
def sample_truth():
    import cxkit

    return cxkit.read_truth()
