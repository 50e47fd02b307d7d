"""`syndicate serve`: build, serve out/ on loopback, rebuild on every change, reload the browser.

The preview server adds a small reload script (and, after a failed build, an error overlay) to
the HTML it sends; out/ never contains either, so the built site stays script-free. Browsers
listen on `/__syndicate/events` (Server-Sent Events) and reload when a build finishes.
Rebuilds go through `syndicate.build.build`, whose writer skips unchanged files.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import watchfiles

from .build import build
from .config import load_config
from .errors import ConfigError, Problem, SyndicateError, visible

EVENTS_PATH = "/__syndicate/events"
# Seconds between keep-alive comments on an idle event stream; lets a handler notice a gone
# browser and a stopping server.
KEEP_ALIVE = 10.0

# (line, kind): kind is "info" (stdout) or a problem severity ("error", "warning").
Log = Callable[[str, str], None]

RELOAD_SCRIPT = """<script data-syndicate-serve>
/* Added by `syndicate serve` only; never written to out/. Reloads when a build finishes. */
(function () {
  var shown = %(generation)d;
  var events = new EventSource("%(path)s");
  events.addEventListener("build", function (event) {
    if (JSON.parse(event.data).generation !== shown) { location.reload(); }
  });
})();
</script>
"""

ERROR_OVERLAY = """<div id="syndicate-build-error" role="alert" style="position:fixed;inset:0;\
z-index:2147483647;overflow:auto;margin:0;padding:2rem;background:rgba(20,20,20,.94);\
color:#fff;font:15px/1.5 ui-monospace,Menlo,Consolas,monospace">
<h1 style="margin:0 0 1rem;font-size:1.25rem;color:#ff8a80">The last build failed</h1>
<pre style="white-space:pre-wrap;margin:0">%(message)s</pre>
<p style="margin-top:1.5rem;color:#bbb">This page shows the previous build. Fix the problem and
save: the page reloads by itself.</p>
</div>
"""

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>%(path)s is not in the output folder (yet).</p></body></html>
"""


def is_loopback(host: str) -> bool:
    """Return whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_path(base_url: str) -> str:
    """Return the path the site lives under ("/" or "/news/"): links such as the feeds'
    stylesheet include it, and the preview serves out/ both there and at the root."""
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def inject(page: bytes, generation: int, error: str) -> bytes:
    """Return `page` with the reload script (and the error overlay) before its `</body>`."""
    extra = ""
    if error:
        extra += ERROR_OVERLAY % {"message": html.escape(error)}
    extra += RELOAD_SCRIPT % {"generation": generation, "path": EVENTS_PATH}
    data = extra.encode("utf-8")
    end = page.lower().rfind(b"</body>")
    if end < 0:
        return page + data
    return page[:end] + data + page[end:]


class Preview:
    """One preview: the build state, the file watchers and the HTTP server."""

    def __init__(self, config_path: Path | str, *, log: Log, verbose: bool = False,
                 quiet: bool = False) -> None:
        self.config_path = Path(config_path)
        self.log = log
        self.verbose = verbose
        self.quiet = quiet
        config = load_config(self.config_path)  # a config that never loaded: nothing to serve
        self.out_dir = config.out_dir
        self.base_path = base_path(config.site.base_url)
        self.watched = self._watch_paths(config)
        self.generation = 0
        self.error = ""
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.dirty = threading.Event()
        self.watching = threading.Semaphore(0)  # released as each watcher starts
        self.shown: set[Problem] = set()
        self.threads: list[threading.Thread] = []
        self.server: PreviewServer | None = None

    def _watch_paths(self, config: Any) -> tuple[tuple[Path, ...], Path]:
        trees = [config.records_dir]
        if config.content.templates:
            trees.append(config.path(config.content.templates))
        return tuple(trees), self.config_path.resolve()

    # Building ----------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Build once; record the outcome so that browsers reload and see it."""
        started = time.perf_counter()
        error = ""
        try:
            result = build(self.config_path)
        except ConfigError as exc:
            error = "\n".join(str(p) for p in exc.problems)
        except SyndicateError as exc:
            problems = getattr(exc, "problems", [])
            error = "\n".join([*(str(p) for p in problems), str(exc)])
        except Exception as exc:  # a preview must survive anything a half-saved file does
            error = f"internal error: {type(exc).__name__}: {exc}"
        else:
            self.out_dir = result.loaded.config.out_dir
            self.base_path = base_path(result.loaded.config.site.base_url)
            watched = self._watch_paths(result.loaded.config)
            if watched != self.watched:
                self.watched = watched  # the watchers notice and start again on these
            problems = visible(result.problems, strict=False)
            for problem in problems:
                if problem not in self.shown:
                    self.log(str(problem), problem.severity)
            self.shown = set(problems)
            if not self.quiet:
                report = result.report
                self.log(f"syndicate: built in {time.perf_counter() - started:.2f} s: "
                         f"{len(report.written)} files written, {len(report.removed)} removed",
                         "info")
        if error:
            self.log(f"Error: build failed; serving the previous build\n{error}", "error")
        with self.changed:
            self.error = error
            self.generation += 1
            self.changed.notify_all()

    def _builder(self) -> None:
        while True:
            self.dirty.wait()
            if self.stopping.is_set():
                return
            self.dirty.clear()
            self.rebuild()

    # Watching ----------------------------------------------------------------------------

    def _watch(self, which: str) -> None:
        """Watch the record and template trees, or the config file's folder; flag changes.

        When a rebuild finds new folders in the config, the watch starts again on them.
        """
        while not self.stopping.is_set():
            watched = self.watched
            trees, config_file = watched
            if which == "trees":
                paths = [p for p in trees if p.is_dir()]
                recursive, keep = True, watchfiles.DefaultFilter()
            else:
                # A file's own watch is lost when an editor saves by renaming: watch its folder.
                paths, recursive = [config_file.parent], False

                def keep(change: watchfiles.Change, path: str, name: str = config_file.name
                         ) -> bool:
                    return Path(path).name == name
            done = _Until(lambda watched=watched: self.stopping.is_set()
                          or self.watched is not watched)
            if not paths:
                self.watching.release()
                self.stopping.wait(1.0)
                continue
            self.watching.release()
            for _changes in watchfiles.watch(*paths, watch_filter=keep, recursive=recursive,
                                             stop_event=done, rust_timeout=1000,
                                             yield_on_timeout=False, raise_interrupt=False):
                self.dirty.set()

    # Serving -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 8000) -> str:
        """Build, then serve and watch in background threads; return the site's URL."""
        self.rebuild()
        try:
            self.server = PreviewServer((host, port), self)
        except OSError as exc:
            hint = "; try another --port, or --port 0 for any free one" if port else ""
            raise SyndicateError(f"cannot listen on {host}:{port}: "
                                 f"{exc.strerror or exc}{hint}") from None
        workers = [(self.server.serve_forever, "http"), (self._builder, "build"),
                   (lambda: self._watch("trees"), "watch"),
                   (lambda: self._watch("config"), "watch-config")]
        for target, name in workers:
            thread = threading.Thread(target=target, name=f"syndicate-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        for _ in range(2):
            self.watching.acquire(timeout=5)
        # watchfiles sets its watches up as the generator starts; give it that moment, so
        # that an edit made as soon as the address is printed is not missed.
        time.sleep(0.2)
        bound_host, bound_port = self.server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        return f"http://{shown}:{bound_port}/"

    def stop(self) -> None:
        """Stop serving and watching; wait for the threads."""
        self.stopping.set()
        self.dirty.set()
        with self.changed:
            self.changed.notify_all()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)


class _Until:
    """Something with the `is_set()` that watchfiles polls to know when to stop."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        self.is_set = condition


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], preview: Preview) -> None:
        self.preview = preview
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__((address[0].strip("[]"), address[1]), PreviewHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Report a failed request in one line: a browser that hung up is not news."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.preview.log(f"syndicate serve: request from {client_address[0]} failed: "
                         f"{type(error).__name__}: {error}", "warning")


class PreviewHandler(SimpleHTTPRequestHandler):
    """Serve out/ as it is, except HTML, which gets the reload script; and the event stream."""

    server: PreviewServer

    def __init__(self, request: Any, client_address: Any, server: PreviewServer) -> None:
        super().__init__(request, client_address, server, directory=str(server.preview.out_dir))

    def do_GET(self) -> None:
        self._respond(head_only=False)

    def do_HEAD(self) -> None:
        self._respond(head_only=True)

    def _respond(self, *, head_only: bool) -> None:
        prefix = self.server.preview.base_path
        if prefix != "/" and self.path.startswith(prefix):
            self.path = "/" + self.path[len(prefix):]  # the site as it will be published
        path = unquote(urlsplit(self.path).path)
        if path == EVENTS_PATH:
            self._stream_events()
            return
        target = Path(self.translate_path(self.path))
        if target.is_dir():
            if not path.endswith("/"):
                super().do_HEAD() if head_only else super().do_GET()  # redirects to path/
                return
            target = target / "index.html"
        if target.is_file() and target.suffix not in (".html", ".htm"):
            super().do_HEAD() if head_only else super().do_GET()
            return
        preview = self.server.preview
        status = HTTPStatus.OK
        try:
            page = target.read_bytes()
        except OSError:
            status = HTTPStatus.NOT_FOUND
            page = (NOT_FOUND_PAGE % {"path": html.escape(path)}).encode("utf-8")
        with preview.changed:
            generation, error = preview.generation, preview.error
        body = inject(page, generation, error)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _stream_events(self) -> None:
        preview = self.server.preview
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        sent = -1
        self.wfile.write(b"retry: 500\n\n")
        while True:
            with preview.changed:
                preview.changed.wait_for(
                    lambda sent=sent: preview.stopping.is_set() or preview.generation != sent,
                    timeout=KEEP_ALIVE)
                generation, error = preview.generation, preview.error
            if preview.stopping.is_set():
                return
            if generation != sent:
                data = json.dumps({"generation": generation, "ok": not error})
                self.wfile.write(f"event: build\ndata: {data}\n\n".encode())
                sent = generation
            else:
                self.wfile.write(b": keep-alive\n\n")
            self.wfile.flush()

    def end_headers(self) -> None:
        # Every response is the latest build: never let the browser reuse an old one.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.preview.verbose:
            self.server.preview.log(f"{self.address_string()} {format % args}", "info")


def serve(config_path: Path | str, *, host: str = "127.0.0.1", port: int = 8000,
          log: Log, quiet: bool = False, verbose: bool = False) -> None:
    """Build and serve the site until Ctrl-C (or SIGTERM); rebuild on every change."""
    preview = Preview(config_path, log=log, quiet=quiet, verbose=verbose)
    in_main_thread = threading.current_thread() is threading.main_thread()
    # Restored on the way out: the caller's process (a test run, an application that embeds
    # syndicate) keeps its own handling of SIGTERM once serving ends.
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        url = preview.start(host, port)
        log(f"syndicate: serving {preview.out_dir} at {url} (Ctrl-C stops)", "info")
        while not preview.stopping.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        try:
            preview.stop()
        except KeyboardInterrupt:  # a second Ctrl-C while stopping: stop harder
            os._exit(1)
        finally:
            # None: the handler was not set from Python, and cannot be put back from it.
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    log("syndicate: stopped", "info")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
