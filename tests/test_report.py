"""The HTML report: generated, self-contained, every figure present; screenshots in Chromium."""

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aedetect.cli import app

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
    return out


def test_run_ends_in_a_report_and_prints_its_path(run_dir):
    assert (run_dir / "report.html").exists()


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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize(
    ("name", "width", "height"), [("desktop", 1280, 2400), ("phone", 390, 3600)]
)
def test_report_renders_in_chromium(run_dir, tmp_path, name, width, height):
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            (run_dir / "report.html").resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    png = shot.read_bytes()
    assert png[:4] == b"\x89PNG"
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (w, h) == (width, height)
    # a blank page compresses to almost nothing; a rendered report with figures does not
    assert len(png) > 100_000
    _check_not_wider_than_viewport(run_dir / "report.html", width, tmp_path)


def _check_not_wider_than_viewport(page: Path, width: int, tmp_path: Path) -> None:
    """The page lays out within the viewport: no horizontal overflow of the body."""
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text().replace(
            "</body>",
            "<script>document.title='W'+document.documentElement.scrollWidth</script></body>",
        )
    )
    res = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--window-size={width},800",
            "--dump-dom",
            probe.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    m = re.search(r"<title>W(\d+)</title>", res.stdout)
    assert m, res.stdout[:300]
    assert int(m.group(1)) <= width
