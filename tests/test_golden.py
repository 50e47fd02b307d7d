"""The fixture site's whole out/ compared byte for byte with tests/golden/ (--update-goldens)."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from conftest import GOLDEN

from syndicate.build import build
from syndicate.writer import BOOKKEEPING_PREFIX


def tree(root: Path) -> dict[str, bytes]:
    """Return every published file below `root` (the writer's bookkeeping left out)."""
    return {path: p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not (path := p.relative_to(root).as_posix()).startswith(
                BOOKKEEPING_PREFIX)}


@pytest.mark.parametrize("name", ["basic"])
def test_fixture_site_matches_golden(name, fixture_copy, update_goldens, tmp_path):
    config = fixture_copy(name)
    out = tmp_path / "out"
    build(config, out_dir=str(out), environ={})
    actual = tree(out)
    golden = GOLDEN / name
    if update_goldens:
        shutil.rmtree(golden, ignore_errors=True)
        for path, data in actual.items():
            (golden / path).parent.mkdir(parents=True, exist_ok=True)
            (golden / path).write_bytes(data)
        pytest.skip("goldens updated")
    expected = tree(golden)
    assert sorted(actual) == sorted(expected), "the set of output files changed"
    for path, data in expected.items():
        if actual[path] != data:
            try:
                diff = "\n".join(difflib.unified_diff(
                    data.decode().splitlines(), actual[path].decode().splitlines(),
                    f"golden/{path}", f"out/{path}", lineterm="", n=2))
            except UnicodeDecodeError:
                diff = f"binary file {path} differs"
            pytest.fail(f"{path} differs from the golden file "
                        f"(run pytest --update-goldens if intended):\n{diff[:4000]}")
