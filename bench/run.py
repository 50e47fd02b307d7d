"""Time syndicate, Hugo and Pelican building the same corpus: cold, no-op, add, edit, delete.

    python bench/run.py --sizes 1000,10000 [--runs 3] [--tools syndicate,hugo,pelican]
                        [--scenarios cold,cold-jobs1,noop,add,edit,delete] [--timeout 3600]

For each size it writes bench/corpus/<N> if missing (bench/corpus.py), converts it for Hugo
and Pelican below bench/work/<N>/ (again only when the corpus or a converter changed), and
for each tool measures each scenario --runs times: the median wall time and the peak RSS.

- cold: the output folder and every cache removed; cold-jobs1: the same, syndicate with
  --jobs 1 (the others' cold figure stands beside it);
- noop: the same build again on an up-to-date output;
- add / edit / delete: one article added (a copy of the newest, published a minute later),
  one article's body edited (a paragraph appended), one article deleted. The change is
  undone after each run, and incremental tools rebuild once, untimed, so that every run
  starts from an up-to-date output and the corpus stays byte-identical.

Every build runs under a small wrapper process that times its one child and reports both
getrusage(RUSAGE_CHILDREN).ru_maxrss (the largest single process) and the peak of the summed
RSS of the child's process tree, sampled every 0.1 s; the larger is reported, so parallel
worker processes count in full. Once a second the sampler also sums the tree's PSS (from
smaps_rollup), in which a page the workers share with the parent counts once: what the build
really holds; and getrusage gives the tree's CPU seconds (user and system), which a busy disk
moves less than the wall clock.
Results are kept per cell in bench/work/results.json, so a run of one tool (--tools
syndicate) keeps the others' figures; an interrupted change to the corpus is undone from
bench/work/<N>/journal.json on the next start. The Markdown report is printed and replaces
the "## Builds (issue 8)" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import itertools
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import hugo_site  # noqa: E402
import pelican_site  # noqa: E402
from records import parse_record  # noqa: E402

CORPORA = BENCH / "corpus"
WORK = BENCH / "work"
RESULTS_JSON = WORK / "results.json"
RESULTS_MD = BENCH / "RESULTS.md"
SECTION_HEADING = "## Builds (issue 8)"
TOOLS = ("syndicate", "hugo", "pelican")
SCENARIOS = ("cold", "cold-jobs1", "noop", "add", "edit", "delete")
ADDED_ID = "bench-added"
DEFAULT_TIMEOUT = 3600.0
EDIT_MARK = "Edited for the benchmark: one more paragraph at the end of the story."

# Runs in a fresh interpreter so that RUSAGE_CHILDREN covers the one build and nothing else.
WRAPPER = r"""
import itertools, json, os, resource, subprocess, sys, threading, time
cwd, stdout, stderr, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
def tree_memory(root, with_pss):
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21])
    total, pss, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        pss += pss_kib(pid) if with_pss else 0
        stack.extend(children.get(pid, ()))
    return total * page_kib, pss
peak = pss_peak = 0
done = threading.Event()
with open(stdout, "wb") as out, open(stderr, "wb") as err:
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    def sample():
        global peak, pss_peak
        # smaps_rollup walks each process's page tables: read it once a second, not ten times,
        # or a big build's workers lose a fifth of a core to the sampler.
        for tick in itertools.count():
            if done.wait(0.1):
                break
            rss, pss = tree_memory(child.pid, tick % 10 == 0)
            peak, pss_peak = max(peak, rss), max(pss_peak, pss)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rc": code, "tree_peak_kib": peak, "tree_pss_kib": pss_peak,
                  "maxrss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}))
"""


@dataclass
class Tool:
    """One generator's view of one corpus: how to convert, clean, build and change it."""

    name: str
    source: Path  # the folder its input lives in (the corpus itself for syndicate)
    out: Path
    caches: list[Path]
    cwd: Path
    command: Callable[[list[str]], list[str]]
    files_for: Callable[[dict[Path, str | None]], dict[Path, str | None]]
    incremental: bool
    convert: Callable[[], None] | None = None
    extra: dict[str, list[str]] = field(default_factory=dict)  # scenario variant -> args


def corpus_digest(corpus: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((corpus / "articles").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(corpus).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    digest.update((corpus / "config.toml").read_bytes())
    return digest.hexdigest()


def ensure_corpus(size: int, regenerate: bool) -> Path:
    corpus = CORPORA / str(size)
    if regenerate:
        shutil.rmtree(corpus, ignore_errors=True)
    if not (corpus / "config.toml").exists():
        print(f"writing corpus {corpus}", file=sys.stderr)
        subprocess.run([sys.executable, str(BENCH / "corpus.py"), str(size), str(corpus)],
                       check=True)
    return corpus


def converted_site(name: str, module, corpus: Path, site: Path, digest: str) -> Callable[[], None]:
    """Return a function that (re)writes a converted site when its stamp is stale."""
    def convert() -> None:
        stamp = hashlib.sha256((digest + Path(module.__file__).read_text()
                                + (BENCH / "records.py").read_text()).encode()).hexdigest()
        stamp_file = site / ".bench-stamp"
        if stamp_file.exists() and stamp_file.read_text() == stamp:
            return
        print(f"converting {corpus} for {name} into {site}", file=sys.stderr)
        site.mkdir(parents=True, exist_ok=True)
        module.write_site(corpus, site)
        stamp_file.write_text(stamp)
    return convert


def converted_files(module, site: Path, changes: dict[Path, str | None]) -> dict[Path, str | None]:
    """Map changes to corpus record files onto the converted site's content files."""
    mapped: dict[Path, str | None] = {}
    for path, text in changes.items():
        if text is None:
            relative, _ = module.content_file(parse_record(path.read_text("utf-8"), path.suffix))
            mapped[site / relative] = None
        else:
            relative, converted = module.content_file(parse_record(text, path.suffix))
            mapped[site / relative] = converted
    return mapped


def tools_for(size: int, corpus: Path, digest: str) -> dict[str, Tool]:
    work = WORK / str(size)
    syndicate = shutil.which("syndicate", path=str(Path(sys.executable).parent)) or "syndicate"
    hugo_dir, pelican_dir = work / "hugo", work / "pelican"
    return {
        "syndicate": Tool(
            name="syndicate", source=corpus, out=work / "syndicate" / "out",
            caches=[corpus / ".syndicate-cache", work / "syndicate" / ".syndicate-cache"],
            cwd=work,
            command=lambda extra: [syndicate, "build", "--config", str(corpus / "config.toml"),
                                   "--out", str(work / "syndicate" / "out"), "-q", *extra],
            files_for=lambda changes: changes, incremental=True,
            extra={"cold-jobs1": ["--jobs", "1"]}),
        "hugo": Tool(
            name="hugo", source=hugo_dir / "site", out=hugo_dir / "out",
            caches=[hugo_dir / "cache", hugo_dir / "site" / "resources"], cwd=hugo_dir,
            command=lambda extra: hugo_site.build_command(
                hugo_dir / "site", hugo_dir / "out", hugo_dir / "cache") + extra,
            files_for=lambda changes: converted_files(hugo_site, hugo_dir / "site", changes),
            incremental=False,
            convert=converted_site("hugo", hugo_site, corpus, hugo_dir / "site", digest)),
        "pelican": Tool(
            name="pelican", source=pelican_dir / "site", out=pelican_dir / "out",
            caches=[pelican_dir / "cache"], cwd=pelican_dir / "site",
            command=lambda extra: pelican_site.build_command(
                pelican_dir / "site", pelican_dir / "out", pelican_dir / "cache") + extra,
            files_for=lambda changes: converted_files(pelican_site, pelican_dir / "site",
                                                      changes),
            incremental=True,
            convert=converted_site("pelican", pelican_site, corpus, pelican_dir / "site",
                                   digest)),
    }


# ---- changes to the corpus, journalled so that an interrupted run can undo them ----------

def record_files(corpus: Path) -> dict[str, Path]:
    return {path.stem: path for path in (corpus / "articles").rglob("*")
            if path.suffix in (".json", ".md")}


def scenario_changes(scenario: str, corpus: Path, size: int) -> dict[Path, str | None]:
    """Return the corpus files to write (text) or delete (None) for one scenario."""
    files = record_files(corpus)
    if scenario == "add":
        newest = files[f"s{size - 1:06d}"]
        record = parse_record(newest.read_text("utf-8"), newest.suffix)
        published = (datetime.fromisoformat(record["published"]) + timedelta(minutes=1)).isoformat()
        title = f"Added story: {record['title']}"
        if newest.suffix == ".json":
            data = json.loads(newest.read_text("utf-8"))
            data.update(id=ADDED_ID, title=title, published=published)
            data.pop("related", None)
            data.pop("updated", None)
            return {newest.with_name(f"{ADDED_ID}.json"): json.dumps(data, indent=1) + "\n"}
        replaced = {"id": ADDED_ID, "title": title, "published": published}
        front, body = newest.read_text("utf-8").split("+++\n", 2)[1:]
        lines = [f"{line.split(' = ')[0]} = {json.dumps(replaced[line.split(' = ')[0]])}"
                 if line.split(" = ")[0] in replaced else line
                 for line in front.splitlines()
                 if line.split(" = ")[0] not in ("related", "updated")]
        return {newest.with_name(f"{ADDED_ID}.md"): "+++\n" + "\n".join(lines) + "\n+++\n" + body}
    if scenario == "edit":
        path = files[f"s{size // 2:06d}"]
        text = path.read_text("utf-8")
        if path.suffix == ".json":
            data = json.loads(text)
            data["body"] += f"<p>{EDIT_MARK}</p>\n"
            return {path: json.dumps(data, indent=1) + "\n"}
        return {path: text + f"\n{EDIT_MARK}\n"}
    if scenario == "delete":
        return {files[f"s{size // 3:06d}"]: None}
    return {}


def apply_changes(changes: dict[Path, str | None], journal: Path) -> None:
    entries = []
    for path in changes:
        if path.exists():
            entries.append({"path": str(path), "data": base64.b64encode(path.read_bytes()).decode(),
                            "mtime_ns": path.stat().st_mtime_ns})
        else:
            entries.append({"path": str(path), "data": None})
    journal.parent.mkdir(parents=True, exist_ok=True)
    # Merge with what is there: several tools' changes are journalled together.
    existing = json.loads(journal.read_text()) if journal.exists() else []
    known = {entry["path"] for entry in existing}
    journal.write_text(json.dumps(existing + [e for e in entries if e["path"] not in known]))
    for path, text in changes.items():
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def undo_changes(journal: Path) -> None:
    """Put back every file the journal names, with its old bytes and mtime."""
    if not journal.exists():
        return
    for entry in json.loads(journal.read_text()):
        path = Path(entry["path"])
        if entry["data"] is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(entry["data"]))
            os.utime(path, ns=(entry["mtime_ns"], entry["mtime_ns"]))
    journal.unlink()


@contextlib.contextmanager
def scenario_build(size: int, scenario: str,
                   build: Callable[[list[str], Path], object] | None = None,
                   ) -> Iterator[tuple[Tool, list[str]]]:
    """Make syndicate's output for `size` ready for one measured build of `scenario` and
    yield the tool and its build command: for `cold` the output and caches are removed;
    otherwise the output is brought up to date with `build(command, cwd)` (default: run the
    command) and the scenario's change is made, journalled, and undone afterwards."""
    corpus = ensure_corpus(size, regenerate=False)
    tool = tools_for(size, corpus, corpus_digest(corpus))["syndicate"]
    journal = WORK / str(size) / "journal.json"
    undo_changes(journal)
    command = tool.command([])
    if scenario == "cold":
        clean(tool)
        yield tool, command
        return
    if build is None:
        subprocess.run(command, cwd=tool.cwd, check=True)
    else:
        build(command, tool.cwd)
    apply_changes(scenario_changes(scenario, corpus, size), journal)
    try:
        yield tool, command
    finally:
        undo_changes(journal)


# ---- measuring -----------------------------------------------------------------------------

def measure(tool: Tool, extra: list[str], label: str, timeout: float) -> dict:
    """Run one build under the wrapper and return its figures."""
    logs = tool.out.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stdout, stderr = logs / f"{label}.out", logs / f"{label}.err"
    load = os.getloadavg()[0]
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(tool.cwd), str(stdout), str(stderr),
         *tool.command(extra)], stdout=subprocess.PIPE, start_new_session=True)
    try:
        output, _ = wrapper.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(wrapper.pid, signal.SIGKILL)
        wrapper.communicate()
        return {"wall": None, "rc": "timeout", "rss_kib": None, "load": load, "stderr": "",
                "limit": timeout}
    figures = json.loads(output.decode().strip().splitlines()[-1])
    messages = stderr.read_text(errors="replace").strip()  # stdout holds progress banners
    return {"wall": figures["wall"], "rc": figures["rc"],
            "rss_kib": max(figures["maxrss_kib"], figures["tree_peak_kib"]),
            "maxrss_kib": figures["maxrss_kib"], "tree_peak_kib": figures["tree_peak_kib"],
            "pss_kib": figures.get("tree_pss_kib") or None, "cpu": figures.get("cpu"),
            "load": load, "stderr": messages[-1500:]}


def clean(tool: Tool) -> None:
    for path in [tool.out, *tool.caches]:
        shutil.rmtree(path, ignore_errors=True)


def summarise(runs: list[dict], date: str) -> dict:
    good = [run for run in runs if run["rc"] == 0]
    return {
        "median_s": statistics.median(run["wall"] for run in good) if good else None,
        "rss_kib": max(run["rss_kib"] for run in good) if good else None,
        "pss_kib": max((run.get("pss_kib") or 0 for run in good), default=0) or None,
        "cpu_s": (statistics.median(run["cpu"] for run in good)
                  if good and all(run.get("cpu") is not None for run in good) else None),
        "loads": [round(run["load"], 2) for run in runs],
        "walls": [None if run["wall"] is None else round(run["wall"], 3) for run in runs],
        "failed": [{"rc": run["rc"], "stderr": run["stderr"], "limit": run.get("limit")}
                   for run in runs if run["rc"] != 0],
        "messages": sorted({run["stderr"] for run in runs if run["stderr"]})[:3],
        "date": date,
    }


def run_tool(tool: Tool, size: int, scenarios: list[str], runs: int, timeout: float,
             corpus: Path, journal: Path, date: str, save: Callable[[str, dict], None]) -> None:
    if tool.convert:
        tool.convert()
    log = lambda text: print(f"[{size} {tool.name}] {text}", file=sys.stderr, flush=True)  # noqa: E731

    def timed(scenario: str, extra: list[str], before: Callable[[], None] | None = None,
              after: Callable[[], None] | None = None) -> None:
        results = []
        for number in range(runs):
            if before:
                before()
            result = measure(tool, extra, f"{scenario}-{number}", timeout)
            results.append(result)
            log(f"{scenario} run {number + 1}/{runs}: {result['wall']} s rc={result['rc']} "
                f"rss={result['rss_kib']} KiB load={result['load']:.2f}")
            if after:
                after()
        save(f"{size}/{tool.name}/{scenario}", summarise(results, date))

    up_to_date = False
    if "cold" in scenarios:
        timed("cold", [], before=lambda: clean(tool))
        up_to_date = True
    for variant, extra in tool.extra.items():
        if variant in scenarios:
            timed(variant, extra, before=lambda: clean(tool))
            up_to_date = True
    if not up_to_date:
        measure(tool, [], "prepare", timeout)  # the rebuild scenarios start from a built site
    if "noop" in scenarios:
        timed("noop", [])
    for scenario in ("add", "edit", "delete"):
        if scenario not in scenarios:
            continue

        def change(scenario: str = scenario) -> None:
            apply_changes(tool.files_for(scenario_changes(scenario, corpus, size)), journal)

        def restore() -> None:
            undo_changes(journal)
            if tool.incremental:
                measure(tool, [], "resync", timeout)  # untimed: back to an up-to-date output

        timed(scenario, [], before=change, after=restore)


# ---- report --------------------------------------------------------------------------------

def tool_versions() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True,
                                  timeout=60).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "not found"
    head = first_line(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(BENCH.parent), "status", "--porcelain",
                            "--untracked-files=no", "syndicate", "templates"],
                           capture_output=True, text=True).stdout.strip()
    syndicate = first_line([sys.executable, "-c",
                            "import syndicate; print(syndicate.__version__)"])
    return {
        "syndicate": f"{syndicate} at {head}{' + uncommitted changes' if dirty else ''}",
        "hugo": first_line([hugo_site.hugo_binary(), "version"]).split(" linux")[0],
        "pelican": first_line([str(Path(sys.executable).with_name("pelican")), "--version"]),
        "python": platform.python_version(),
    }


def machine_facts() -> str:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return (f"nproc {os.cpu_count()} ({model}), {int(memory) // 1024 // 1024} GiB RAM, "
            f"{platform.system()} {platform.release()}")


def seconds(cell: dict | None) -> str:
    if not cell:
        return "–"
    if cell["median_s"] is None:
        # A build stopped at --timeout is slower than the limit, which is worth showing.
        limits = [run.get("limit") for run in cell["failed"] if run["rc"] == "timeout"]
        if limits and len(limits) == len(cell["failed"]):
            # Cells saved before limits were recorded ran with the default.
            return f"> {max(limit or DEFAULT_TIMEOUT for limit in limits):.0f} (timed out)"
        return "failed"
    return f"{cell['median_s']:.2f}"


def cpu_seconds(cell: dict | None) -> str:
    return f"{cell['cpu_s']:.2f}" if cell and cell.get("cpu_s") is not None else "–"


def megabytes(cell: dict | None, figure: str = "rss_kib") -> str:
    return f"{cell[figure] / 1024:.0f}" if cell and cell.get(figure) else "–"


def ratio(top: dict | None, bottom: dict | None) -> str:
    if not top or not bottom or not top["median_s"] or not bottom["median_s"]:
        return "–"
    return f"{top['median_s'] / bottom['median_s']:.2f}"


def report(results: dict, sizes: list[int], command: str, date: str, facts: str,
           versions: dict[str, str]) -> str:
    cells = results["cells"]
    lines = [SECTION_HEADING, "",
             f"Run {date}. Command: `{command}`", "",
             f"Machine: {facts}; Python {versions['python']}; syndicate {versions['syndicate']}; "
             f"{versions['hugo']}; Pelican {versions['pelican']}.", "",
             "Median wall seconds over the runs; `CPU s`, the median of the user and system "
             "seconds of the build's whole process tree (steadier than the wall clock when "
             "the disk is busy: a change to the code shows there first); peak RSS in MB (the "
             "larger of the biggest "
             "process and the sampled sum of the process tree); `PSS MB` is the peak of the "
             "tree's summed PSS, which splits each page the forked workers share with the "
             "parent between them: the memory the build really holds (cells measured before "
             "the runner recorded a figure show – for it). Ratios are syndicate's time "
             "over the other's: below 1 means syndicate is faster. `load` is the 1-minute "
             "load average when each timed build started (2 cores, shared with other work). "
             "Hugo has no incremental mode outside `hugo server`, so its rebuilds are full "
             "builds. How the sites are made equivalent: bench/README.md.", "",
             "| articles | scenario | syndicate s | CPU s | MB | PSS MB | Hugo s | MB "
             "| Pelican s | MB | syn/Hugo | syn/Pelican | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    rows = [("cold", "cold"), ("cold-jobs1", "cold, syndicate --jobs 1"), ("noop", "no-op"),
            ("add", "add one"), ("edit", "edit one body"), ("delete", "delete one")]
    for size in sizes:
        for key, label in rows:
            row = {tool: cells.get(f"{size}/{tool}/{key}") for tool in TOOLS}
            if key == "cold-jobs1":
                row["hugo"], row["pelican"] = (cells.get(f"{size}/hugo/cold"),
                                               cells.get(f"{size}/pelican/cold"))
            if not any(row.values()):
                continue
            loads = [load for cell in row.values() if cell for load in cell["loads"]]
            load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "–"
            lines.append(
                f"| {size:,} | {label} "
                f"| {seconds(row['syndicate'])} | {cpu_seconds(row['syndicate'])} "
                f"| {megabytes(row['syndicate'])} "
                f"| {megabytes(row['syndicate'], 'pss_kib')} "
                f"| {seconds(row['hugo'])} | {megabytes(row['hugo'])} "
                f"| {seconds(row['pelican'])} | {megabytes(row['pelican'])} "
                f"| {ratio(row['syndicate'], row['hugo'])} "
                f"| {ratio(row['syndicate'], row['pelican'])} | {load} |")
    # One growth table for each step between sizes: the targets are about 10,000 -> 100,000,
    # which a single table from the smallest size to the largest would hide.
    ordered = sorted(sizes)
    for small, large in itertools.pairwise(ordered):
        lines += ["", f"Growth from {small:,} to {large:,} articles (time ratio; "
                  f"{large / small:g} would be linear):", "",
                  "| scenario | syndicate | Hugo | Pelican |", "|---|---:|---:|---:|"]
        for key, label in rows:
            growth = [ratio(cells.get(f"{large}/{tool}/{key}"), cells.get(f"{small}/{tool}/{key}"))
                      for tool in TOOLS]
            if any(value != "–" for value in growth):
                lines.append(f"| {label} | " + " | ".join(growth) + " |")
    earlier = sorted({f"{key.split('/')[1]} {cell['date']} ({cell.get('version', '?')})"
                      for key, cell in cells.items()
                      if cell["date"] != date and int(key.split("/")[0]) in sizes})
    if earlier:
        lines += ["", "Cells kept from earlier runs: " + "; ".join(earlier) + "."]
    messages = sorted({f"{key}: {message.splitlines()[0][:160]}"
                       for key, cell in cells.items() if int(key.split("/")[0]) in sizes
                       for message in cell["messages"] + [f["stderr"] for f in cell["failed"]]
                       if message})
    if messages:
        lines += ["", "Messages printed by the builds (first line of each):", ""]
        lines += [f"- `{message}`" for message in messages[:12]]
    return "\n".join(lines) + "\n"


def update_results_md(section: str) -> None:
    """Replace our section of bench/RESULTS.md (or append it), leaving the others alone."""
    text = RESULTS_MD.read_text("utf-8") if RESULTS_MD.exists() else "# Benchmark results\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION_HEADING), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    temporary = RESULTS_MD.with_suffix(".md.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(RESULTS_MD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="Corpus sizes, comma-separated (default: 1000,10000).")
    parser.add_argument("--runs", default="3",
                        help="Timed runs per scenario: one number, or one per size "
                             "(e.g. 3,1).")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="Seconds per build.")
    parser.add_argument("--regenerate", action="store_true",
                        help="Write the corpora again even when they exist.")
    parser.add_argument("--report-only", action="store_true",
                        help="Measure nothing: rewrite the report from bench/work/results.json.")
    parser.add_argument("--no-write", action="store_true",
                        help="Print the report without touching bench/RESULTS.md.")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs = [int(value) for value in args.runs.split(",")]
    runs = runs * len(sizes) if len(runs) == 1 else runs
    tools = [tool for tool in args.tools.split(",") if tool]
    scenarios = [scenario for scenario in args.scenarios.split(",") if scenario]
    unknown = [name for name in tools + scenarios if name not in TOOLS + SCENARIOS]
    if unknown or len(runs) != len(sizes):
        parser.error(f"unknown tool or scenario {unknown}" if unknown
                     else "--runs needs one number or one per size")

    # A plain SIGTERM would skip the finally clauses that put the corpus back.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python bench/run.py " + shlex.join(sys.argv[1:])
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {"cells": {}}

    versions = tool_versions()

    def save(key: str, cell: dict) -> None:
        results["cells"][key] = {**cell, "version": versions[key.split("/")[1]]}
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=1))

    if args.report_only:
        sizes, command, date = [], results.get("command", command), results.get("date", date)
        versions = results.get("versions", versions)
    else:
        results.update(command=command, date=date, versions=versions)
    for size, count in zip(sizes, runs[:len(sizes)], strict=True):
        corpus = ensure_corpus(size, args.regenerate)
        journal = WORK / str(size) / "journal.json"
        undo_changes(journal)  # a run that was interrupted mid-change
        digest = corpus_digest(corpus)
        known = WORK / str(size) / "corpus.sha256"
        if known.exists() and known.read_text() != digest:
            print(f"warning: {corpus} differs from the last run's; --regenerate to rewrite it",
                  file=sys.stderr)
        known.parent.mkdir(parents=True, exist_ok=True)
        known.write_text(digest)
        for name, tool in tools_for(size, corpus, digest).items():
            if name not in tools:
                continue
            try:
                run_tool(tool, size, scenarios, count, args.timeout, corpus, journal, date, save)
            finally:
                undo_changes(journal)
        if corpus_digest(corpus) != digest:
            print(f"error: {corpus} changed during the run", file=sys.stderr)
            sys.exit(1)

    # Sizes measured by earlier commands stay in the report (their cells are marked as such).
    every_size = sorted(set(sizes) | {int(key.split("/")[0]) for key in results["cells"]})
    section = report(results, every_size, command, date, machine_facts(), versions)
    print(section)
    if not args.no_write:
        update_results_md(section)


if __name__ == "__main__":
    main()
