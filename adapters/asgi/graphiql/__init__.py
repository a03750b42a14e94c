"""GraphiQL, served offline: its page and the browser builds it loads, shipped in the package.

``static/`` holds the minified builds of react, react-dom, graphiql, @graphiql/plugin-explorer
and graphql-ws, each beside its licence, copied from the npm packages pinned in
``package.json``/``package-lock.json`` by ``make graphiql-assets`` (README, "GraphiQL offline").
The server needs no Node and no network for them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

#: Where the page finds its scripts and styles.
STATIC_PATH = "/graphiql/static"
STATIC_DIR = Path(str(resources.files(__name__).joinpath("static")))


def page_html() -> str:
    """GraphiQL's page, its assets at ``STATIC_PATH``."""
    template = resources.files(__name__).joinpath("page.html").read_text(encoding="utf-8")
    return template.replace("{static}", STATIC_PATH)


def static_route() -> Mount:
    """The page's scripts and styles."""
    return Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static")
