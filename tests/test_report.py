"""The HTML report: generated, self-contained, every figure present; screenshots in Chromium."""

import re

import pytest
from typer.testing import CliRunner

from aedetect.cli import app
from browser import CHROMIUM, figure_sizes, page_size, screenshot

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
        ],
    )
    assert res.exit_code == 0, res.output
    (out.parent / "stdout.txt").write_text(res.stdout)
    return out


def test_run_ends_in_a_report_and_prints_its_path(run_dir):
    assert (run_dir / "report.html").exists()
    last = (run_dir.parent / "stdout.txt").read_text().strip().splitlines()[-1]
    assert last.split() == ["report", str(run_dir / "report.html")]


def test_report_is_self_contained_with_every_figure(run_dir):
    page = (run_dir / "report.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]""", page)
    # Figures are inline SVG: nothing is fetched, and ids stay unique across figures.
    assert all(r.startswith(("#", "data:image/png;base64,")) for r in refs), [r[:40] for r in refs]
    assert "http://" not in page and "https://" not in page
    ids = re.findall(r"""\bid=['"]([^'"]+)['"]""", page)
    assert len(ids) == len(set(ids))
    captions = re.findall(r"<figcaption><b>(.*?)</b>", page)
    assert captions == [
        "Training loss per epoch",
        "Score distribution",
        "Score by row",
        "ROC curve",
        "Precision-recall curve",
        "Latent codes (PCA)",
    ]
    assert page.count("<svg") == 6 and page.count("class='zoom'") == 6
    # The latent plot's axes say what its caption says (PCA), and one legend rules them all.
    assert "PC 1" in page and "latent 1" not in page
    assert "known anomaly" in page and "flagged: score above the threshold" in page


def test_numbers_are_written_for_people(run_dir):
    page = (run_dir / "report.html").read_text()
    assert not re.search(r"\d\.\d+e[+-]\d\d", page.split("<h2>Figures")[1].split("<svg")[0])
    table = page.split("flagged rows (up to")[1]
    assert not re.search(r">\d\.\d+e[+-]\d\d<", table)
    incomes = re.findall(r"data-label='income'>([^<]*)<", table)
    assert incomes and all(re.fullmatch(r"\d{1,3}(,\d{3})*", v) for v in incomes), incomes
    # Seen == expected is never a reason; nor is a 0% share.
    reasons = re.findall(r"<td class='why'[^>]*>(.*?)</td>", table)
    for line in (r for cell in reasons for r in cell.split("<br>")):
        column, rest = line.split(": ", 1)
        seen, expected = rest.split(" → ")
        assert seen != expected.split(",")[0].split(" (")[0], line
        assert not line.endswith("(0%)"), line


def test_report_shows_metrics_flagged_rows_and_the_command(run_dir):
    page = (run_dir / "report.html").read_text()
    assert "AUROC" in page and "Precision@" in page
    assert "why (column: seen → expected, share of the score it explains)" in page
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


def test_a_report_without_0_1_labels_says_why_it_has_no_metrics(tmp_path):
    out = tmp_path / "digits"
    res = runner.invoke(app, ["run", "digits", "-o", str(out), "--epochs", "2", "--quiet"])
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text()
    assert "AUROC" not in page.split("<h2>Figures")[0]
    assert "No metrics: the label column &#x27;digit&#x27; holds 10 distinct values" in page
    assert "Most anomalous images" in page


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


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1280, 390])
def test_figures_read_at_their_shown_size_and_enlarge_on_click(run_dir, width):
    sizes = figure_sizes(run_dir / "report.html", width)
    assert len(sizes) == 6
    for drawn, shown, least_text, zoomed in sizes:
        assert shown >= 0.8 * drawn, (drawn, shown)  # never shrunk below its text's size
        assert least_text >= 11, least_text  # px, as shown
        assert zoomed > shown, (shown, zoomed)


@pytest.fixture(scope="module")
def series_report(tmp_path_factory):
    import numpy as np
    import pandas as pd

    root = tmp_path_factory.mktemp("series-report")
    n = 2600  # longer than one segment: the whole series and two segment figures
    t = np.arange(n)
    value = np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.05, n)
    value[1500:1504] += 3.0
    times = pd.date_range("2024-01-01", periods=n, freq="5min").astype(str)
    pd.DataFrame({"time": times, "value": value}).to_csv(root / "s.csv", index=False)
    out = root / "out"
    args = ["run", str(root / "s.csv"), "--time-column", "time", "-o", str(out)]
    res = runner.invoke(app, [*args, "--epochs", "4", "--seed", "0", "--window", "24", "-q"])
    assert res.exit_code == 0, res.output
    return out / "report.html", pd.read_csv(out / "scores.csv")["is_anomaly"].sum()


def test_a_series_report_counts_the_series_flags(series_report):
    report, flagged = series_report
    page = report.read_text()
    assert f"<dt>Flagged</dt><dd>{flagged:,} rows" in page
    assert f"flagged ({flagged:,})" in page  # the score-by-row figure's legend
    assert "Window threshold" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1280, 390])
def test_series_figures_read_at_their_shown_size(series_report, width):
    sizes = figure_sizes(series_report[0], width)
    assert len(sizes) == 7  # loss, histogram, by row, latent, whole series, 2 segments
    for drawn, shown, least_text, zoomed in sizes:
        assert shown >= 0.8 * drawn, (drawn, shown)
        assert least_text >= 11, least_text
        assert zoomed > shown, (shown, zoomed)
