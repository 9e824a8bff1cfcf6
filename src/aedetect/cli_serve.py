"""``aedetect serve`` (an HTTP scoring service) and ``aedetect export`` (ONNX).

Part of the CLI layer. FastAPI, uvicorn and onnx are imported inside the
commands, so ``--help`` stays light and the core install works without them.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from aedetect.exceptions import ConfigError, DataError

__all__ = ["register"]

_EXTRA_HINT = "install it with: pip install 'aedetect[{extra}]'"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the token file ({exc})") from None
    if not token or any(c.isspace() for c in token):
        raise DataError(f"{path}: the token file must hold one token (no spaces), got none")
    return token


def _listen(host: str, port: int) -> socket.socket:
    """Bind the service's socket (as uvicorn would), or say in one line why it cannot.

    Bound here, before uvicorn starts, so that a port in use is one ``error:``
    line (exit 1), not a server log; uvicorn then serves on this very socket.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DataError(
                f"port {port} on {host} is already in use: stop what listens there "
                "or give another --port"
            ) from None
        raise DataError(f"cannot listen on port {port} of {host}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(
    models: Annotated[
        list[str],
        typer.Argument(
            help="Model files written by `aedetect fit`; NAME=PATH names one in the URL "
            "(default: the file name without its extension).",
            show_default=False,
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to listen on; loopback unless --token-file is given.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding a bearer token that every /models request must send "
            "(Authorization: Bearer TOKEN). Needed to listen on a non-loopback address."
        ),
    ] = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body, in bytes (413 above).")
    ] = 10 * 2**20,
    max_rows: Annotated[int, typer.Option(min=1, help="Most rows in one request (413 above).")] = (
        10_000
    ),
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds one request may take (503 after).")
    ] = 30.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No start-up line and no access log.")
    ] = False,
) -> None:
    """Serve saved models over HTTP: POST rows (JSON or CSV), get scores and flags.

    Endpoints: GET /health, GET /models, GET /models/NAME, POST /models/NAME/score
    (`?explain=true&reasons=5` adds the columns behind each score); docs at /docs.

    Example: `aedetect serve model.aedetect --port 8000`, then
    `curl -d '[{"age": 42, "city": "Paris"}]' -H 'content-type: application/json'
    localhost:8000/models/model/score`
    """
    try:
        import uvicorn

        from aedetect.serve import Limits, create_app, load_models
    except ImportError as exc:
        raise ConfigError(
            f"serve needs {exc.name or 'fastapi'}: " + _EXTRA_HINT.format(extra="serve")
        ) from None
    token = _read_token(token_file)
    if token is None and not _loopback(host):
        raise ConfigError(
            f"--host {host} is not a loopback address: give --token-file so that only "
            "clients holding the token can use the service"
        )
    limits = Limits(max_body_bytes=max_body_bytes, max_rows=max_rows, timeout_s=timeout)
    served = load_models(models)  # a bad or series model file stops here, before the port
    app = create_app(served, limits, token=token)
    sock = _listen(host, port)
    port = sock.getsockname()[1]  # the port chosen for --port 0
    if not quiet:
        names = ", ".join(sorted(served))
        typer.echo(
            f"serving {len(served)} model(s) ({names}) on http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs)",
            err=True,
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning" if quiet else "info",
        access_log=not quiet,
    )
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


def export(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    onnx: Annotated[Path, typer.Option("--onnx", help="ONNX file to write.", show_default=False)],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No status line.")] = False,
) -> None:
    """Export a saved model to ONNX: scaling, one-hot, clipping, network and score in one graph.

    Inputs `numbers` (float64, the numeric columns) and `tokens` (string, the
    categorical columns and sequence positions); outputs `score` and
    `is_anomaly`. The column names are in the file's metadata (README, "ONNX").

    Example: `aedetect export model.aedetect --onnx model.onnx`
    """
    from aedetect.export import export_model  # says which package is missing, if any

    result = export_model(model, onnx)
    if not quiet:
        typer.echo(result.message(), err=True)


def register(
    app: typer.Typer, guarded: Callable[[Callable[..., None]], Callable[..., None]]
) -> None:
    """Add ``serve`` and ``export`` to the ``aedetect`` command line.

    ``guarded`` is :mod:`aedetect.cli`'s wrapper that turns library errors into one
    line and an exit code (passed in: only ``cli.py`` itself imports ``aedetect.cli``).
    """
    app.command()(guarded(serve))
    app.command()(guarded(export))
