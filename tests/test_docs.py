"""Docs as tests: the generated references match the code, every command, option and config
key is documented, every link resolves, and every command line in the docs would run."""

from __future__ import annotations

import re
import shlex

import click
import pytest
from conftest import ROOT

from syndicate import cli, docs
from syndicate.cli import main
from syndicate.config import reference

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("name", sorted(docs.pages()))
def test_generated_pages_match_the_code(name):
    written = (DOCS / name).read_text(encoding="utf-8")
    assert written == docs.pages()[name], (
        f"docs/{name} is out of date: run `python -m syndicate.docs` and commit the result")


def test_the_check_mode_agrees(tmp_path, capsys):
    assert docs.main(["--check", "--docs", str(DOCS)]) == 0
    assert docs.main(["--check", "--docs", str(tmp_path)]) == 1
    assert f"{tmp_path / 'config.md'}: out of date" in capsys.readouterr().err
    assert docs.main(["--docs", str(tmp_path)]) == 0
    assert docs.main(["--check", "--docs", str(tmp_path)]) == 0


def _section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    following = text.find("\n## ", start + len(heading))
    return text[start:] if following < 0 else text[start:following]


def test_every_command_and_option_is_in_cli_md():
    text = (DOCS / "cli.md").read_text()
    ctx = click.Context(main, info_name="syndicate")
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        section = _section(text, f"## syndicate {name}")
        for param in command.params:
            if isinstance(param, click.Option):
                for option in param.opts + param.secondary_opts:
                    assert f"{option}" in section, f"syndicate {name} {option} is undocumented"
            else:
                assert param.human_readable_name in section


def test_every_config_key_is_in_config_md():
    text = (DOCS / "config.md").read_text()
    for table, key, _, _, doc in reference():
        section = _section(text, f"## [{table}]")
        assert f"| `{key}` |" in section and doc.replace("|", "\\|") in section, f"[{table}] {key}"


def test_every_exit_code_is_documented():
    text = (DOCS / "exit-codes.md").read_text()
    codes = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    assert codes, "cli.py names its exit codes"
    for code in sorted(codes):
        assert re.search(rf"^\| {code} \|", text, re.MULTILINE), f"exit code {code}"


def test_the_readme_links_every_page_and_every_local_link_resolves():
    readme = (ROOT / "README.md").read_text()
    documentation = _section(readme, "## Documentation")
    for page in PAGES:
        assert f"(docs/{page.name})" in documentation, f"README does not link docs/{page.name}"
    for source in [ROOT / "README.md", *PAGES]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", source.read_text()):
            if "://" in target:
                continue
            assert (source.parent / target).exists(), f"{source.name} links to missing {target}"


def _command_lines(text: str) -> list[str]:
    """Return every `syndicate ...` invocation in code blocks and inline code."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    blocks += re.findall(r"`(syndicate [^`]+)`", text)
    lines = []
    for block in blocks:
        block = block.replace("\\\n", " ")
        for line in block.splitlines():
            for part in re.split(r"&&|\|\||;|\|(?!\w)", line):
                part = part.strip().removeprefix("run: ").strip()
                if part.startswith("syndicate ") and "syndicate.docs" not in part:
                    lines.append(part.split("#")[0].strip())
    return lines


def _options(command: click.Command) -> set[str]:
    return {o for p in command.params if isinstance(p, click.Option)
            for o in p.opts + p.secondary_opts}


WORKFLOWS = [ROOT / "docs" / "examples" / "github-actions.yml",
             ROOT / ".github" / "workflows" / "syndicate.yml"]


@pytest.mark.parametrize("path", [*PAGES, *WORKFLOWS, ROOT / "README.md"],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_line_in_the_docs_names_a_real_command_and_options(path):
    text = path.read_text()
    if path.suffix == ".yml":
        text = "```\n" + text + "\n```"
    ctx = click.Context(main, info_name="syndicate")
    for line in _command_lines(text):
        words = shlex.split(line.replace("[", "").replace("]", "").replace("\\|", "|"))
        if words[1].startswith("-"):
            assert words[1] in _options(main) | {"-h", "--help"}, line
            continue
        if words[1].isupper():  # a placeholder: `syndicate COMMAND --help`
            continue
        command = main.get_command(ctx, words[1])
        assert command is not None, f"{path.name}: unknown command in {line!r}"
        known = _options(command) | {"-h", "--help"}
        for word in words[2:]:
            if word.startswith("-") and word not in ("-", "--"):
                assert word.split("=")[0] in known, f"{path.name}: {word} in {line!r}"


def test_the_ci_recipe_is_the_example_workflow_and_does_both_jobs():
    workflow = (ROOT / "docs" / "examples" / "github-actions.yml").read_text()
    assert "```yaml\n" + workflow + "```" in (DOCS / "ci.md").read_text()
    for text in (workflow, (ROOT / ".github" / "workflows" / "syndicate.yml").read_text()):
        triggers = text[text.index("\non:\n"):text.index("\njobs:\n")]
        assert "\n  push:" in triggers
        assert re.search(r"\n  schedule:\n(    #.*\n)*    - cron: \"[0-9*/ ,-]+\"\n", triggers)
        assert "syndicate build --strict" in text and "syndicate digest --date today" in text
        assert re.search(r"syndicate send \"[^\"]+\.eml[^\"]*\" --to subscribers.csv", text)
        assert "--exclude '.syndicate-*'" in text, "the manifest and lock stay unpublished"
        assert "\t" not in text, "YAML forbids tabs"
