"""Plots (arrays in, Figure out, no file I/O) and, later, the HTML report."""

from aedetect.report.plots import figure_png, latent_scatter

__all__ = ["figure_png", "latent_scatter"]
