import numpy as np
import pytest

from aedetect.report.plots import figure_png, latent_scatter


def test_latent_scatter_marks_flagged_points():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(100, 2))
    flagged = np.zeros(100, dtype=int)
    flagged[:3] = 1
    fig = latent_scatter(codes, flagged, names=[f"r{i}" for i in range(100)])
    ax = fig.axes[0]
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [97, 3]
    assert sorted(t.get_text() for t in ax.texts) == ["r0", "r1", "r2"]
    png = figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_latent_scatter_needs_two_columns():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        latent_scatter(np.zeros((5, 3)), np.zeros(5))
