"""The Jinja environment shared by pages, feeds' stylesheet and the digest.

Lookup order: the site's override folder (`[content] templates`), then the package defaults,
which are also reachable as `default:NAME` so that an override can extend the block it changes.
Undefined names fail loudly; `.html` and `.xml` autoescape, `.txt` never does.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence

import jinja2
from jinja2 import nodes

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
    # Asking the loaders for a name they lack costs a file lookup and an exception each time
    # (11 us against 0.5 us for a template already loaded): every article page asks first for
    # its section's own template, which few sites have. The names are listed once instead.
    listed = _listed(env)
    if listed is not None:
        for name in names:
            if name in listed:
                names = [name]
                break
    try:
        return env.select_template(list(names))
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(template_error(exc)) from None
    except jinja2.TemplatesNotFound as exc:
        raise BuildError(f"no template found among {', '.join(names)}") from exc


_LISTINGS: weakref.WeakKeyDictionary[jinja2.Environment, frozenset[str] | None] = \
    weakref.WeakKeyDictionary()


def _listed(env: jinja2.Environment) -> frozenset[str] | None:
    """Return the names of every template the environment's loaders hold (None if one of
    them cannot list its templates). Listed once: a build never changes its templates."""
    if env not in _LISTINGS:
        try:
            _LISTINGS[env] = frozenset(env.list_templates())
        except TypeError:  # a loader that cannot list
            _LISTINGS[env] = None
    return _LISTINGS[env]


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


def output_once(env: jinja2.Environment, name: str, variable: str,
                unread: Sequence[str] = ()) -> bool:
    """Whether the template `name`, with every template it extends, includes or imports,
    reads `variable` in exactly one place, a plain `{{ variable }}`, never assigns it, and
    never reads any of `unread`.

    Then a page's text outside that one output cannot depend on the variable, which is what
    lets the writer splice a new value into the page it wrote before. Any doubt (a template
    named by an expression, one that fails to load or parse) answers False.
    """
    plain = reads = 0
    try:
        for tree in _template_trees(env, name):
            for node in tree.find_all(nodes.Name):
                if node.name in unread or (node.name == variable and node.ctx != "load"):
                    return False
                reads += node.name == variable
            for output in tree.find_all(nodes.Output):
                plain += sum(isinstance(child, nodes.Name) and child.name == variable
                             for child in output.nodes)
    except (jinja2.TemplateError, _Dynamic):
        return False
    return reads == plain == 1


class _Dynamic(Exception):
    """A template names another with an expression, which cannot be followed statically."""


def _template_trees(env: jinja2.Environment, name: str) -> Iterator[nodes.Template]:
    assert env.loader is not None
    pending, seen = [name], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)
        tree = env.parse(source, current)
        yield tree
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import,
                                   nodes.FromImport)):
            pending.extend(_template_names(node.template))


def _template_names(expression: nodes.Expr) -> list[str]:
    if isinstance(expression, nodes.Const) and isinstance(expression.value, str):
        return [expression.value]
    if isinstance(expression, nodes.List | nodes.Tuple):
        return [name for item in expression.items for name in _template_names(item)]
    raise _Dynamic
