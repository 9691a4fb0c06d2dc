"""`tokenwise serve`: validate the config, say what will be served, run uvicorn.

SIGTERM (and Ctrl-C) stops gracefully: the listening socket closes at once (new connections are
refused), requests in flight, streams included, may finish for `server.shutdown_grace_seconds`
(then they are cancelled, which settles their budgets like a client disconnect), then the
lifespan closes: budgets settled, the ledger flushed to the store, the store closed. A stop by
SIGTERM exits 0.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
import traceback
from types import FrameType
from typing import Any

import uvicorn

from router.config.load import ConfigError, Settings, load_settings


def uvicorn_options() -> dict[str, str]:
    options = {"http": "h11", "loop": "asyncio"}
    try:
        import httptools  # noqa: F401

        options["http"] = "httptools"
    except ImportError:
        pass
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        pass
    return options


def announce(settings: Settings, host: str, port: int, workers: int) -> None:
    out = sys.stderr
    print(f"tokenwise: config {settings.source}", file=out)
    if settings.uses_simulator:
        print("tokenwise: upstream is the SIMULATOR (simulated models, no real provider)", file=out)
    print(
        f"tokenwise: {len(settings.models)} models, starting http://{host}:{port}/v1 "
        f"with {workers} worker(s)",
        file=out,
    )
    if settings.dev_key:
        print(f"tokenwise: development key: {settings.dev_key}", file=out)


def serve(config: str | None, host: str | None, port: int | None, workers: int | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"tokenwise: configuration error: {exc}", file=sys.stderr)
        return 2
    server = settings.config.server
    host = host or server.host
    port = server.port if port is None else port
    workers = workers or server.workers
    taken = port_taken(host, port)
    if taken is not None:
        return _failed(f"server.port: cannot listen on {host}:{port} ({taken})")
    announce(settings, host, port, workers)
    logging.getLogger("uvicorn.error").addFilter(_no_duplicate_failure)
    options = uvicorn_options()
    common = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": server.shutdown_grace_seconds,
    }
    if workers > 1:
        if config:
            os.environ["TOKENWISE_CONFIG"] = os.path.abspath(config)
        if settings.dev_key:
            os.environ["TOKENWISE_DEV_KEY"] = settings.dev_key
        from router.observability.multiproc import DirectoryInUse, prepare_multiprocess_dir

        problem = rehearse_apart(settings)  # the workers would each fail alike
        if problem is not None:
            return _failed(problem)
        try:
            prepare_multiprocess_dir(settings.home, os.environ)  # metrics summed over workers
        except DirectoryInUse as exc:
            return _failed(str(exc))
        uvicorn.run("router.asgi:app_from_env", factory=True, workers=workers, **common, **options)  # type: ignore[arg-type]
        return 0
    from router.app import create_app

    # uvicorn stops gracefully on SIGTERM, then raises the signal again so that the default
    # action ends the process (exit status 143). A graceful stop is a success: that second
    # SIGTERM finds this handler instead, which exits 0 (as does a SIGTERM that comes before
    # uvicorn listens for it: nothing has started yet).
    signal.signal(signal.SIGTERM, _stopped)
    app = create_app(settings)
    try:
        uvicorn.run(app, **common, **options)  # type: ignore[arg-type]
    except SystemExit:
        problem = getattr(app.state, "startup_error", None)
        if problem is None:
            raise
        return _failed(problem)
    finally:
        _say_what_was_left(app.state, settings)
    return 0


def _say_what_was_left(state: Any, settings: Settings) -> None:
    """A second signal stops at once, without the shutdown: nothing is lost (the ledger spool
    and the budget journal are on disk and replayed at the next start), but say so."""
    if getattr(state, "serving", False) and not getattr(state, "stopped_cleanly", False):
        print(
            "tokenwise: stopped before the shutdown finished (a second signal): ledger records "
            f"and budget reservations left under {settings.home} are replayed at the next start",
            file=sys.stderr,
        )


def port_taken(host: str, port: int) -> str | None:
    """Why the server could not listen there (another process has the port, the address is not
    this host's), or None; checked before start-up, as uvicorn would bind."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"the host does not resolve: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "another process is listening there: stop it, or choose another port"
            return exc.strerror or str(exc)
    return None


def _no_duplicate_failure(record: logging.LogRecord) -> bool:
    """uvicorn's own "Application startup failed" line (`serve` prints the reason instead), and
    its traceback of a request task cancelled by a forced stop (a second signal: the request is
    recorded `cancelled`, and it is not a failure of the application)."""
    if record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError):
        return False
    message = record.getMessage()
    if message.startswith("Traceback") and message.rstrip().endswith("CancelledError"):
        return False  # the lifespan's task, cancelled by the same forced stop
    return not message.startswith("Application startup failed")


def rehearse_apart(settings: Settings) -> str | None:
    """`rehearse` in a forked child, so that the supervisor of the workers does not keep what a
    start-up loads (the classifier, the tokenizer's vocabulary: over 100 MB) for its lifetime."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: rehearse, report, leave without running the parent's exit code
        os.close(read)
        status = 0
        try:
            problem = asyncio.run(rehearse(settings)) or ""
        except BaseException:
            traceback.print_exc()
            problem, status = "an unexpected error (above)", 1
        os.write(write, problem.encode())
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = pipe.read().decode()
    os.waitpid(pid, 0)
    return said or None


async def rehearse(settings: Settings) -> str | None:
    """Start the app once and stop it again, as each worker will: what stops its start-up (a
    policy, a seeded budget, the store), or None."""
    from router.app import create_app

    app = create_app(settings)
    quiet = logging.getLogger("tokenwise")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its simulator and store are not the ones that will serve
    try:
        async with app.router.lifespan_context(app):
            pass
    except Exception:
        problem: str | None = getattr(app.state, "startup_error", None)
        if problem is None:
            raise
        return problem
    finally:
        quiet.setLevel(level)
    return None


def _failed(problem: str) -> int:
    print(f"tokenwise: start-up failed: {problem}", file=sys.stderr)
    return 2


def _stopped(sig: int, frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's own handling: nothing (left) to stop."""
    raise SystemExit(0)
