"""The Jinja environment shared by pages, feeds' stylesheet and the digest.

Lookup order: the site's override folder (`[content] templates`), then the package defaults,
which are also reachable as `default:NAME` so that an override can extend the block it changes.
Undefined names fail loudly; `.html` and `.xml` autoescape, `.txt` never does.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2

from .config import Config
from .errors import BuildError
from .sources import default_templates_dir


def _autoescape(name: str | None) -> bool:
    return bool(name) and name.rsplit(".", 1)[-1] in ("html", "xml", "xsl", "svg")  # type: ignore[union-attr]


def environment(config: Config) -> jinja2.Environment:
    """Build the template environment for a site."""
    defaults = jinja2.FileSystemLoader(str(default_templates_dir()))
    loaders: list[jinja2.BaseLoader] = []
    if config.content.templates:
        loaders.append(jinja2.FileSystemLoader(str(config.path(config.content.templates))))
    loaders.append(jinja2.PrefixLoader({"default": defaults}, delimiter=":"))
    loaders.append(defaults)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return env


def pick(env: jinja2.Environment, names: Sequence[str]) -> jinja2.Template:
    """Return the first template that exists among `names` (most specific first)."""
    try:
        return env.select_template(list(names))
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(template_error(exc)) from None
    except jinja2.TemplatesNotFound as exc:
        raise BuildError(f"no template found among {', '.join(names)}") from exc


def template_error(exc: jinja2.TemplateError, rendering: str = "") -> str:
    """Describe a template failure with the template's name and line, and what was rendered."""
    where = ""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name}:{exc.lineno}: "
    else:
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith((".html", ".xml", ".txt", ".xsl")):
                where = f"{filename}:{tb.tb_lineno}: "
            tb = tb.tb_next
    suffix = f" (while rendering {rendering})" if rendering else ""
    return f"template error: {where}{exc.message or type(exc).__name__}{suffix}"


def render(template: jinja2.Template, rendering: str, **context: object) -> str:
    """Render `template`, turning a template failure into a BuildError that names it."""
    try:
        return template.render(**context)
    except jinja2.TemplateError as exc:
        raise BuildError(template_error(exc, rendering)) from None
