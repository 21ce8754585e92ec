"""MkDocs hooks (``hooks:`` in mkdocs.yml): the generated parts of the documentation site.

- ``configuration-reference.md`` gets the reference of every config key appended, rendered
  from the config schema (``devtools.config_reference``) at every build, so the page cannot
  fall behind the schema.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "service"):  # mkdocs may run outside the editable install
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from devtools.config_reference import load_schema, render  # noqa: E402

GENERATED_PAGE = "configuration-reference.md"


def on_page_markdown(markdown, page, config, files):
    """Append the generated reference to its page; other pages are left as they are."""
    if page.file.src_uri != GENERATED_PAGE:
        return markdown
    return markdown.rstrip() + "\n\n" + render(load_schema()) + "\n"
