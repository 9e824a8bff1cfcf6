"""What one scoring request may ask of the service: body size, rows, time."""

from __future__ import annotations

from dataclasses import dataclass

from aedetect.exceptions import ConfigError

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Limits on one request; a request over them gets a 4xx (or 503 for time).

    Parameters
    ----------
    max_body_bytes : int, default=10 MiB
        Largest request body read; a larger one is refused with 413 before it is
        parsed (by its ``Content-Length``, or while it streams in).
    max_rows : int, default=10000
        Most rows scored in one request (413 above).
    timeout_s : float, default=30.0
        Seconds one request may take to parse and score; past it the client gets
        503 (the computation already started finishes in the background).
    max_reasons : int, default=50
        Largest ``reasons`` (columns listed per row) an ``explain`` request may ask.
    """

    max_body_bytes: int = 10 * 2**20
    max_rows: int = 10_000
    timeout_s: float = 30.0
    max_reasons: int = 50

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_rows", "max_reasons"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        t = self.timeout_s
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < float("inf"):
            raise ConfigError(f"timeout_s must be a positive number of seconds, got {t!r}")
