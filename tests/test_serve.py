"""`syndicate serve` as a new user meets it: init, build, serve, edit, see the change; the
reload script only ever in what the server sends; build errors in the browser; a clean stop."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.build import load
from syndicate.cli import main
from syndicate.serve import EVENTS_PATH, inject, is_loopback

TIMEOUT = 45.0  # generous: two cores are shared by the whole suite


class Server:
    """`syndicate serve` in a subprocess, as a user starts it, with its output collected."""

    def __init__(self, site: Path, *args: str) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syndicate.cli", "serve", "--port", "0", *args],
            cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(stream, sink), daemon=True)
                        for stream, sink in ((self.process.stdout, self.stdout),
                                             (self.process.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()
        self.url = self._wait_for_url()

    def _read(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = re.search(r" at (http://\S+/) \(Ctrl-C stops\)", line)
            if match:
                return match.group(1)
        self.stop()
        pytest.fail(f"serve did not start: {''.join(self.stdout + self.stderr)}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8")

    def stop(self) -> int:
        """Press Ctrl-C and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            for reader in self.readers:
                reader.join(timeout=TIMEOUT)
            self.process.stdout.close()
            self.process.stderr.close()


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting until {what}")


def build_events(url: str) -> Iterator[dict]:
    """Yield each `build` event of the server's event stream."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    connection.request("GET", EVENTS_PATH)
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    event = ""
    try:
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "build":
                yield json.loads(line[6:])
    finally:
        connection.close()


@pytest.fixture
def new_site(tmp_path: Path) -> Path:
    site = tmp_path / "gazette"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "-q", str(site)]).exit_code == 0
    built = runner.invoke(main, ["build", "-q", "--config", str(site / "config.toml")])
    assert built.exit_code == 0 and built.output == "", built.output
    return site


def test_a_new_user_edits_a_record_and_sees_it_served(new_site: Path):
    article = load(new_site / "config.toml").site.by_id["harbour-lights"]
    page_path = article.path if article.path.endswith(".html") else article.path + "index.html"
    on_disk = new_site / "out" / page_path
    server = Server(new_site)
    try:
        status, served = server.get(page_path)
        assert status == 200 and "Harbour lights switched on" in served
        assert "data-syndicate-serve" in served and EVENTS_PATH in served
        written = on_disk.read_text()
        assert "data-syndicate-serve" not in written and EVENTS_PATH not in written
        assert served.replace(inject(b"", 1, "").decode(), "") == written, \
            "the server adds the reload script and nothing else"

        events = build_events(server.url)
        first = next(events)
        record = new_site / "articles" / "harbour-lights.json"
        data = json.loads(record.read_text())
        data["title"] = "Harbour lights to stay on all winter"
        record.write_text(json.dumps(data, indent=2))
        rebuilt = next(events)
        assert rebuilt["generation"] > first["generation"] and rebuilt["ok"] is True
        wait_until(lambda: "stay on all winter" in server.get(page_path)[1],
                   "the page shows the new headline")
        assert "stay on all winter" in on_disk.read_text()
        assert "data-syndicate-serve" not in on_disk.read_text()

        # A broken template override: the error shows over the page, and in the terminal.
        override = new_site / "templates" / "article.html"
        override.write_text('{% extends "default:article.html" %}\n{% block main %}{{ oops( }}'
                            "{% endblock %}\n")
        wait_until(lambda: "syndicate-build-error" in server.get(page_path)[1],
                   "the page shows the build error")
        status, served = server.get(page_path)
        assert status == 200 and "template error" in served and "article.html" in served
        assert "stay on all winter" in served, "the previous build stays visible under it"
        override.write_text('{% extends "default:article.html" %}\n{% block main %}'
                            "<p>Override in place</p>{{ super() }}{% endblock %}\n")

        def fixed() -> bool:
            served = server.get(page_path)[1]
            return "Override in place" in served and "syndicate-build-error" not in served

        # The page is written before the build ends, and the overlay goes when it has ended.
        wait_until(fixed, "the fixed override is served without the error")

        # The config is watched too.
        config = new_site / "config.toml"
        config.write_text(config.read_text().replace('title = "The Example Gazette"',
                                                     'title = "The Evening Gazette"'))
        wait_until(lambda: "The Evening Gazette" in server.get("/")[1],
                   "the home page shows the new site title")

        status, missing = server.get("/no/such/page/")
        assert status == 404 and "data-syndicate-serve" in missing
        assert server.get("/../config.toml")[0] == 404
    finally:
        code = server.stop()
    stderr = "".join(server.stderr)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "template error" in stderr
    assert server.stdout[-1] == "syndicate: stopped\n"


def test_a_site_that_fails_to_build_is_served_with_the_error(new_site: Path):
    (new_site / "templates" / "base.html").write_text("{% if %}\n")
    server = Server(new_site)
    try:
        status, served = server.get("/")
        assert status == 200
        assert "syndicate-build-error" in served and "base.html:1" in served
        (new_site / "templates" / "base.html").unlink()
        wait_until(lambda: "syndicate-build-error" not in server.get("/")[1],
                   "the error overlay goes once the build succeeds")
    finally:
        assert server.stop() == 0


def test_serve_refuses_other_hosts_unless_allowed_and_a_busy_port(new_site: Path):
    runner = CliRunner()
    config = str(new_site / "config.toml")
    refused = runner.invoke(main, ["serve", "--config", config, "--host", "0.0.0.0"])
    assert refused.exit_code == 2
    assert ("Error: Invalid value for --host: 0.0.0.0 is not a loopback address; add "
            "--allow-remote to serve other machines") in refused.output
    handler = signal.getsignal(signal.SIGTERM)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = runner.invoke(main, ["serve", "-q", "--config", config, "--port", str(port)])
    assert busy.exit_code == 1
    # serve() handles SIGTERM only while it serves (it left its handler in the test run, and
    # a later test's pool workers inherited it and outlived Pool.terminate()).
    assert signal.getsignal(signal.SIGTERM) is handler
    assert f"Error: cannot listen on 127.0.0.1:{port}: " in busy.output
    assert "try another --port, or --port 0" in busy.output
    missing = runner.invoke(main, ["serve", "--config", str(new_site / "nope.toml")])
    assert missing.exit_code == 1 and "nope.toml: file not found" in missing.output


def test_loopback_addresses():
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.4", "::", "example.com", ""]))


def test_injection_goes_before_the_last_body_end_and_escapes_the_error():
    page = b"<html><body><p>x</p><!-- </BODY> --></BODY></html>"
    served = inject(page, 7, "<script>alert(1)</script> & more")
    assert served.startswith(b"<html><body><p>x</p><!-- </BODY> -->")
    assert served.endswith(b"</script>\n</BODY></html>")
    assert b"var shown = 7;" in served
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in served
    assert b"<script>alert(1)" not in served
    assert inject(b"no body", 1, "").startswith(b"no body<script data-syndicate-serve>")


def test_a_site_under_a_path_is_served_there_too(new_site: Path):
    from syndicate.serve import Preview

    config = new_site / "config.toml"
    config.write_text(config.read_text().replace('"https://news.example.com/"',
                                                 '"https://example.github.io/gazette/"'))
    lines: list[tuple[str, str]] = []
    preview = Preview(config, log=lambda line, kind: lines.append((kind, line)), quiet=True)
    url = preview.start("127.0.0.1", 0)
    try:
        for path in ("", "gazette/", "gazette/feed.xml"):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert response.status == 200
        with urllib.request.urlopen(url + "gazette/feed.xml", timeout=10) as response:
            assert b'href="/gazette/feed.xsl"' in response.read()
        with urllib.request.urlopen(url + "gazette/feed.xsl", timeout=10) as response:
            assert response.status == 200
    finally:
        preview.stop()
    assert lines == []


@pytest.mark.browser
def test_an_open_page_reloads_itself_in_a_real_browser(new_site: Path):
    """Chromium keeps the page open; saving a record makes it reload with the change."""
    chromium = Path("/usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not chromium.exists():
        pytest.skip(f"{chromium} is missing (run scripts/setup-test-env)")
    from syndicate.serve import Preview

    preview = Preview(new_site / "config.toml", log=lambda line, kind: None, quiet=True)
    url = preview.start("127.0.0.1", 0)
    article = load(new_site / "config.toml").site.by_id["harbour-lights"]
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium),
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"])
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(url + article.path.lstrip("/"))
                page.evaluate("window.stillTheSamePage = true")
                record = new_site / "articles" / "harbour-lights.json"
                record.write_text(record.read_text().replace(
                    "Harbour lights switched on", "Harbour lights relit"))
                page.wait_for_function("!window.stillTheSamePage", timeout=TIMEOUT * 1000)
                page.wait_for_load_state()
                assert "Harbour lights relit" in page.locator("h1").inner_text()
                assert errors == []
            finally:
                browser.close()
    finally:
        preview.stop()
