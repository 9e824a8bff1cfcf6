"""The HTML report: generated, self-contained, every figure present; screenshots in Chromium."""

import base64
import re

import pytest
from typer.testing import CliRunner

from aedetect.cli import app
from browser import CHROMIUM, page_size, screenshot

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    res = runner.invoke(
        app,
        [
            "run",
            "mixed:n_rows=600",
            "-o",
            str(out),
            "--label-column",
            "is_anomaly",
            "--epochs",
            "30",
            "--seed",
            "0",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    (out.parent / "stdout.txt").write_text(res.output)
    return out


def test_run_ends_in_a_report_and_prints_its_path(run_dir):
    assert (run_dir / "report.html").exists()
    last = (run_dir.parent / "stdout.txt").read_text().strip().splitlines()[-1]
    assert last.split() == ["report", str(run_dir / "report.html")]


def test_report_is_self_contained_with_every_figure(run_dir):
    page = (run_dir / "report.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]""", page)
    assert refs, "no images found"
    assert all(r.startswith("data:image/png;base64,") for r in refs), [r[:40] for r in refs]
    assert "http://" not in page and "https://" not in page
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert captions == [
        "Training loss per epoch",
        "Score distribution",
        "Score by row",
        "ROC curve",
        "Precision-recall curve",
        "Latent codes (PCA)",
    ]
    for ref in refs:  # each image decodes to a real PNG
        assert base64.b64decode(ref.split(",", 1)[1])[:4] == b"\x89PNG"


def test_report_shows_metrics_flagged_rows_and_the_command(run_dir):
    page = (run_dir / "report.html").read_text()
    assert "AUROC" in page and "Precision@" in page
    assert "why (seen → expected, share of error)" in page
    m = re.search(r"<pre>(.*?)</pre>", page, re.S)
    assert m and m.group(1).startswith("aedetect run mixed:n_rows=600 --output-dir")
    assert "--epochs 30" in m.group(1) and "--seed" not in m.group(1)  # 0 is run's default


def test_report_command_on_a_saved_model(run_dir, tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(
        app, ["report", str(run_dir / "model.aedetect"), "mixed:n_rows=600", "--output", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().count("<figure>") == 6


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 390)])
def test_report_renders_in_chromium(run_dir, tmp_path, name, width):
    report = run_dir / "report.html"
    page_width, page_height = page_size(report, width)
    assert page_width <= width, f"the page is {page_width} px wide in a {width} px viewport"
    shot = screenshot(report, tmp_path / f"{name}.png", width)
    png = shot.read_bytes()
    assert png[:4] == b"\x89PNG"
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (w, h) == (width, page_height)
    # A blank or broken page compresses to almost nothing; a report with figures does not.
    assert len(png) > 100_000
    # The figures stack into one column on a phone, so the page gets much taller.
    if name == "phone":
        assert page_height > 1.8 * page_size(report, 1280)[1]
