"""Headless Chromium for looking at the HTML report as a person would.

Headless Chromium will not make a window narrower than about 500 px, so a phone
width is shown by loading the page into an iframe of that width (``srcdoc``, so
that the probe script can read the inner page).

Regenerate the README's screenshots:
``.venv/bin/python tests/browser.py out-mixed/report.html docs/``
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
WINDOW_MIN = 500


def _framed(page: str, width: int, height: int, probe: bool) -> str:
    inner = page
    if probe:
        script = (
            "<script>parent.document.title='W'+document.documentElement.scrollWidth"
            "+'H'+document.documentElement.scrollHeight</script>"
        )
        inner = page.replace("</body>", script + "</body>")
    return (
        "<!DOCTYPE html><html><head><title>-</title></head>"
        "<body style='margin:0;background:#fff'>"
        f"<iframe style='border:0;width:{width}px;height:{height}px;display:block' "
        f'srcdoc="{html.escape(inner, quote=True)}"></iframe></body></html>'
    )


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "Chromium is not installed"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )


def page_size(report: Path, width: int) -> tuple[int, int]:
    """Laid-out (scroll) width and height of the report in a viewport ``width`` px wide."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wrapper = tmp / "probe.html"
        wrapper.write_text(_framed(report.read_text(), width, 800, probe=True))
        out = _run(
            [f"--window-size={max(width, WINDOW_MIN)},900", "--dump-dom", wrapper.as_uri()], tmp
        ).stdout
    m = re.search(r"<title>W(\d+)H(\d+)</title>", out)
    if not m:
        raise RuntimeError(f"probe did not run: {out[:200]}")
    return int(m.group(1)), int(m.group(2))


# Measures every report figure: drawn width (its SVG's width in pt, as CSS px), shown
# width, smallest text in px as shown, and its width once clicked (enlarged).
_FIGURE_PROBE = """<script>
var out = [];
document.querySelectorAll('figure svg').forEach(function (svg) {
  var drawn = parseFloat(svg.getAttribute('width')) * 4 / 3;
  var shown = svg.getBoundingClientRect().width;
  var scale = shown / svg.viewBox.baseVal.width;
  var least = 1e9;
  svg.querySelectorAll('text, tspan').forEach(function (t) {
    var size = parseFloat(getComputedStyle(t).fontSize);
    if (size) { least = Math.min(least, size * scale); }
  });
  svg.closest('label').click();
  var zoomed = svg.getBoundingClientRect().width;
  svg.closest('label').click();
  out.push([drawn, shown, least, zoomed].map(Math.round).join(','));
});
parent.document.title = 'F' + out.join(';');
</script>"""


def figure_sizes(report: Path, width: int) -> list[tuple[int, int, int, int]]:
    """(drawn, shown, smallest text px, enlarged) widths of each figure at ``width`` px."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wrapper = tmp / "figures.html"
        page = report.read_text().replace("</body>", _FIGURE_PROBE + "</body>")
        wrapper.write_text(_framed(page, width, 800, probe=False))
        out = _run(
            [f"--window-size={max(width, WINDOW_MIN)},900", "--dump-dom", wrapper.as_uri()], tmp
        ).stdout
    m = re.search(r"<title>F([^<]*)</title>", out)
    if not m:
        raise RuntimeError(f"figure probe did not run: {out[:200]}")
    return [tuple(int(v) for v in f.split(",")) for f in m.group(1).split(";") if f]


def screenshot(report: Path, png: Path, width: int, height: int | None = None) -> Path:
    """Screenshot the report at ``width`` px (whole page unless ``height`` is given)."""
    from PIL import Image

    if height is None:
        height = page_size(report, width)[1]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wrapper = tmp / "shot.html"
        wrapper.write_text(_framed(report.read_text(), width, height, probe=False))
        shot = tmp / "shot.png"
        _run(
            [
                f"--window-size={max(width, WINDOW_MIN)},{height}",
                f"--screenshot={shot}",
                wrapper.as_uri(),
            ],
            tmp,
        )
        Image.open(shot).crop((0, 0, width, height)).save(png, optimize=True)
    return png


if __name__ == "__main__":
    report, folder = Path(sys.argv[1]), Path(sys.argv[2])
    screenshot(report, folder / "report-desktop.png", 1280)
    screenshot(report, folder / "report-phone.png", 390)
    print(f"written {folder / 'report-desktop.png'} and {folder / 'report-phone.png'}")
