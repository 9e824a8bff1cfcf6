import re

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


def _png(fig):
    png = figure_png(fig)
    assert png[:4] == b"\x89PNG"
    return png


def test_score_histogram_splits_normal_and_anomalous_and_marks_threshold():
    from aedetect.report.plots import score_histogram

    rng = np.random.default_rng(0)
    scores = np.r_[rng.exponential(size=300), rng.exponential(size=10) + 20]
    labels = np.r_[np.zeros(300), np.ones(10)]
    fig = score_histogram(scores, labels, threshold=5.0)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "normal (300)",
        "known anomaly (10)",
        "threshold 5",
    ]
    assert ax.get_xscale() == "log"  # scores span more than two decades
    _png(fig)


def test_curves_and_index_plot():
    from aedetect.metrics import threshold_sweep
    from aedetect.report.plots import loss_plot, pr_plot, roc_plot, score_index_plot, sweep_plot

    rng = np.random.default_rng(1)
    labels = (rng.random(200) < 0.1).astype(int)
    scores = rng.normal(size=200) + 3 * labels
    roc = roc_plot(labels, scores)
    assert roc.axes[0].get_legend().get_texts()[0].get_text().startswith("AUROC 0.9")
    assert "PR-AUC" in pr_plot(labels, scores).axes[0].get_legend().get_texts()[0].get_text()
    idx = score_index_plot(scores, 1.0, labels)
    # normal rows, flagged rows (score above the threshold), rings on the known anomalies
    assert [len(c.get_offsets()) for c in idx.axes[0].collections] == [
        (scores <= 1.0).sum(),
        (scores > 1.0).sum(),
        labels.sum(),
    ]
    loss = loss_plot([1.0, 0.5, 0.4], [1.1, 0.6, 0.7], best_epoch=2)
    assert len(loss.axes[0].lines) == 3
    sweep = sweep_plot(threshold_sweep(labels, scores))
    assert [t.get_text() for t in sweep.axes[0].get_legend().get_texts()] == [
        "outliers rejected",
        "inliers rejected",
        "F1",
    ]
    for fig in (roc, idx, loss, sweep):
        _png(fig)


def test_figures_are_drawn_at_the_report_size_as_svg_with_real_text():
    from aedetect.report.plots import WIDTH_PX, figure_svg, score_index_plot

    rng = np.random.default_rng(3)
    fig = score_index_plot(rng.random(50), 0.9, (rng.random(50) > 0.9).astype(int), title="")
    assert round(fig.get_figwidth() * 96) == WIDTH_PX
    svg = figure_svg(fig, "x")
    assert svg.startswith("<svg") and 'width="255pt"' in svg  # 340 CSS px
    sizes = {float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg)}
    assert sizes and min(sizes) >= 9  # pt: 12 px at the size drawn
    assert "<text" in svg and "xmlns" not in svg and 'id="x-' in svg


def test_project_2d_and_image_grid():
    from aedetect.report.plots import image_grid, project_2d

    rng = np.random.default_rng(2)
    codes = rng.normal(size=(50, 6)) * [10, 5, 1, 1, 1, 1]
    proj = project_2d(codes)
    assert proj.shape == (50, 2)
    assert proj[:, 0].var() > proj[:, 1].var() > 0  # first PC carries the most variance
    assert project_2d(codes[:, :1]).shape == (50, 2)
    assert project_2d(codes[:1]).tolist() == [[0.0, 0.0]]  # one row: one component
    images = rng.random((7, 8, 8))
    fig = image_grid(images, images * 0.5, titles=[f"#{i}" for i in range(7)], ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 14  # every image and its reconstruction
    assert sorted(ax.get_title() for ax in shown if ax.get_title().startswith("#")) == [
        f"#{i}" for i in range(7)
    ]
    _png(fig)
