"""The ``planner`` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from adapters.config import Settings
from planning.errors import DomainError, ErrorCode
from planning.principal import Principal

DEMO_DOCUMENT = "launch_readiness.json"
#: Who commands other than serve act as: a local administrator, who sees and changes every plan.
CLI_PRINCIPAL = Principal("cli", frozenset({"admin"}))
#: A command that wrote lets the graph projection of its changes finish before it exits, so
#: that a server's next graph answer needs no catching up (it would wait, or say UNAVAILABLE).
FINISH_PROJECTION_S = 300.0
PROJECTION_LOCK_WAIT_S = 10.0


class CliError(Exception):
    """A problem to report in one line, with exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from adapters.logging import configure_logging

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"planner: {exc}", file=sys.stderr)
        return 1
    # Logs go to standard error; outside the server only warnings, so output stays clean.
    configure_logging(
        json=settings.log_json,
        level=logging.INFO if args.handler is _serve else logging.WARNING,
    )
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"planner: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"planner: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (such as `head`) went away; say nothing more.
        sys.stderr.close()
        return 0


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help ends with its default, unless it says it already or has none to say
    (a flag, an option without a default)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text.lower() or action.default in (None, False, argparse.SUPPRESS) or action.required:
            return help_text
        return super()._get_help_string(action)


def _with_defaults_in_help(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every parser and sub-parser of ``planner`` prints its options' defaults."""
    parser.formatter_class = DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _with_defaults_in_help(sub)
    return parser


def planner_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("planner")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    return _with_defaults_in_help(_commands())


def _commands() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description=(
            "Project-risk planning API and tools. Commands other than serve work on the store "
            "directly, as a local administrator (principal 'cli' in group admin): they pass no "
            "authentication and see and change every plan."
        ),
    )
    parser.add_argument("--version", action="version", version=f"planner {planner_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the GraphQL API (GraphiQL at /graphql in a browser)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on")
    serve.add_argument("--demo", action="store_true", help="load the demo plan into an empty store first")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="server processes (default 1); more than one needs PostgreSQL, SQLite serves from one",
    )
    serve.set_defaults(handler=_serve)

    db = sub.add_parser("db", help="the relational store").add_subparsers(title="db commands", metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply the database migrations")
    upgrade.set_defaults(handler=_db_upgrade)

    schema = sub.add_parser("schema", help="the GraphQL schema").add_subparsers(
        title="schema commands", metavar="ACTION"
    )
    export_schema = schema.add_parser(
        "export", help="write schema/schema.graphql, schema/appsync.graphql and schema/resolvers.json"
    )
    export_schema.add_argument("--output-dir", type=Path, default=None, help="default: the schema package folder")
    export_schema.add_argument("--check", action="store_true", help="fail when the files differ instead of writing")
    export_schema.set_defaults(handler=_schema_export)

    imp = sub.add_parser(
        "import",
        help="import a JSON plan document as a new plan",
        description=(
            "Import a plan document as a new plan, as a local administrator. --owner USER makes that user "
            "the plan's OWNER; without it the plan has no members, and only admins see it until one adds some."
        ),
    )
    imp.add_argument("file", type=Path, help="the JSON plan document")
    imp.add_argument("--owner", default=None, metavar="USER", help="the user id who owns the new plan")
    imp.set_defaults(handler=_import)

    exp = sub.add_parser("export", help="write a plan as a JSON plan document")
    exp.add_argument("plan_id", help="the plan's id (global or raw)")
    exp.add_argument("-o", "--output", type=Path, default=None, help="default: standard output")
    exp.set_defaults(handler=_export)

    graph = sub.add_parser("graph", help="the dependency graph").add_subparsers(
        title="graph commands", metavar="ACTION"
    )
    rebuild = graph.add_parser("rebuild", help="rebuild the graph from the relational store")
    rebuild.set_defaults(handler=_graph_rebuild)
    check = graph.add_parser("check", help="report drift between the graph and the relational store")
    check.set_defaults(handler=_graph_check)
    project = graph.add_parser("project", help="apply outbox events the graph has not seen yet")
    project.set_defaults(handler=_graph_project)

    from adapters import simulate_command

    simulate_command.add_parser(sub, _simulate)

    from adapters import subscribe_command

    subscribe_command.add_parser(sub, _subscribe)

    plans = sub.add_parser("plans", help="list the stored plans")
    plans.set_defaults(handler=_plans)

    token = sub.add_parser("token", help="development bearer tokens").add_subparsers(
        title="token commands", metavar="ACTION"
    )
    issue = token.add_parser(
        "issue",
        help="print a development token (for GraphiQL's headers pane)",
        description=(
            "Print a bearer token, alone on standard output, signed by the local key kept in the data "
            "folder (PLANNER_DATA_DIR; by default the SQLite database's folder, .planner/). A development "
            "server with the same data folder accepts it: send Authorization: Bearer <token>. A production "
            "server never does."
        ),
    )
    issue.add_argument("--user", required=True, help="who the token names, such as alice@example.com")
    issue.add_argument("--groups", default="", help="comma-separated: admin, planner, viewer (default: none)")
    issue.add_argument("--ttl", default="8h", help="how long it is valid: 45s, 30m, 8h or 2d (default 8h, at most 30d)")
    issue.set_defaults(handler=_token_issue)

    planner_sync = sub.add_parser(
        "sync", help="sync a plan with its Microsoft Planner plan now (PLANNER_MSGRAPH_* settings)"
    )
    planner_sync.add_argument("plan_id", metavar="PLAN_ID", help="the plan's id (as `planner plans` lists it)")
    planner_sync.set_defaults(handler=_planner_sync)
    return parser


def _application() -> Any:
    from adapters.bootstrap import bootstrap

    try:
        return bootstrap(Settings.from_env())
    except Exception as exc:
        raise CliError(f"cannot open the store: {exc}") from exc


@contextlib.contextmanager
def _naming(plan_id: str) -> Iterator[None]:
    """A plan the command cannot find is named in the message, as the user wrote it."""
    try:
        yield
    except DomainError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            raise CliError(f"no plan has the id {plan_id}; `planner plans` lists them") from None
        raise


@contextlib.contextmanager
def _opened(failure: str) -> Iterator[Any]:
    """The application for one command, closed after it; unexpected faults become ``failure: …``."""
    app = _application()
    try:
        yield app
    except (CliError, DomainError):
        raise
    except Exception as exc:
        raise CliError(f"{failure}: {exc}") from exc
    finally:
        app.close(finish_projection_s=FINISH_PROJECTION_S)


def _serve(args: argparse.Namespace) -> int:
    from adapters.asgi.app import create_asgi_app

    app = _application()
    if args.demo:
        _load_demo(app)
    try:
        asgi = create_asgi_app(app)
    except ValueError as exc:
        app.close()
        raise CliError(str(exc)) from None
    print(f"planner: serving http://{args.host}:{args.port}/graphql", file=sys.stderr)
    if not app.settings.production:
        print(
            "planner: to be someone in GraphiQL, run `planner token issue --user you@example.com --groups admin` "
            'and put {"Authorization": "Bearer <token>"} in its Headers pane',
            file=sys.stderr,
        )
    return _run_server(asgi, app, args)


def _workers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {value[:20]!r}") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64 processes")
    return count


def _run_server(asgi: Any, app: Any, args: argparse.Namespace) -> int:
    """One process serves ``asgi``; ``--workers N`` on PostgreSQL starts N processes instead, each
    opening its own application (``adapters.asgi.app:create_app_from_env``) on one port."""
    import uvicorn

    workers = args.workers
    if workers > 1 and app.engine.dialect.name == "sqlite":
        print(
            f"planner: serving from one process, not {workers}: --workers needs PostgreSQL. SQLite lets one "
            "process write at a time (more would queue behind its lock), and its migrations, demo and "
            "embedded graph expect one server",
            file=sys.stderr,
        )
        workers = 1
    if workers == 1:
        from adapters.asgi.limits import favour_the_event_loop

        favour_the_event_loop()
        uvicorn.run(asgi, host=args.host, port=args.port, log_config=None, ws="websockets-sansio")
        return 0
    app.close()
    print(f"planner: serving from {workers} processes", file=sys.stderr)
    uvicorn.run(
        "adapters.asgi.app:create_app_from_env",
        factory=True,
        workers=workers,
        host=args.host,
        port=args.port,
        log_config=None,
        ws="websockets-sansio",
    )
    return 0


def demo_document() -> dict[str, Any]:
    text = resources.files("adapters.demo").joinpath(DEMO_DOCUMENT).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _load_demo(app: Any) -> None:
    """Import the demo plan unless the store holds plans already (a restart keeps the data)."""
    import structlog

    log = structlog.get_logger("planner.demo")
    system = Principal("demo-loader", frozenset({"admin"}))
    if app.services.plans.count(system) > 0:
        log.info("demo skipped: the store holds plans already")
        return
    # No owner: admins see the demo plan (and may add members).
    plan = app.services.documents.import_document(demo_document(), system, owner=None, rebase_to=app_today())
    log.info("demo plan loaded", plan=plan.name)


def app_today() -> Any:
    from adapters.system import SystemClock

    return SystemClock().today()


def _db_upgrade(_args: argparse.Namespace) -> int:
    from adapters.sql import create_store_engine, upgrade
    from adapters.sql.migrate import current_revision

    engine = create_store_engine(Settings.from_env().database_url)
    try:
        upgrade(engine)
        print(f"database at revision {current_revision(engine)}")
    except Exception as exc:
        raise CliError(f"migration failed: {exc}") from exc
    finally:
        engine.dispose()
    return 0


def _schema_export(args: argparse.Namespace) -> int:
    from schema.export import SCHEMA_DIR, export_files

    out_dir = args.output_dir or SCHEMA_DIR
    files = export_files()
    stale = []
    for name, content in files.items():
        path = out_dir / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                stale.append(str(path))
        else:
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        raise CliError(f"out of date: {', '.join(stale)}; run `planner schema export`")
    return 0


def _import(args: argparse.Namespace) -> int:
    from resolvers.ids import to_global_id

    try:
        raw = json.loads(args.file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    with _opened("import failed") as app:
        try:
            plan = app.services.documents.import_document(raw, CLI_PRINCIPAL, owner=args.owner)
        except DomainError as exc:
            raise CliError(f"{args.file}: {exc.message}") from None
    print(f"imported {plan.name!r} as {to_global_id('Plan', plan.id)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    with _opened("export failed") as app, _naming(args.plan_id):
        doc = app.services.documents.export_document(CLI_PRINCIPAL, _plan_id(args.plan_id))
    text = json.dumps(doc, indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _plans(_args: argparse.Namespace) -> int:
    from resolvers.ids import to_global_id

    plans, counts, after = [], [], None
    with _opened("listing plans failed") as app:
        while True:
            page = app.services.plans.page(CLI_PRINCIPAL, after, 500)
            plans += page.items
            counts += app.services.plans.task_counts(CLI_PRINCIPAL, [p.id for p in page.items])
            if not page.has_next_page:
                break
            after = page.items[-1].id
    for plan, count in zip(plans, counts, strict=True):
        print(f"{to_global_id('Plan', plan.id)}\t{plan.name}\t{count} tasks\tevent {plan.event_date or '-'}")
    return 0


def _graph_rebuild(_args: argparse.Namespace) -> int:
    with _opened("graph rebuild failed") as app:
        tasks, edges = app.services.graph_maintenance.rebuild()
    print(f"graph rebuilt: {tasks} tasks, {edges} dependencies")
    return 0


def _graph_check(_args: argparse.Namespace) -> int:
    with _opened("graph check failed") as app:
        drift = app.services.graph_maintenance.check()
    print(f"checked {drift.checked_plans} plans; {drift.pending_events} outbox events not yet projected")
    for label, ids in (
        ("tasks missing from the graph", drift.missing_tasks),
        ("tasks in the graph only", drift.extra_tasks),
        ("tasks that differ", drift.changed_tasks),
        ("dependencies missing from the graph", drift.missing_edges),
        ("dependencies in the graph only", drift.extra_edges),
        ("dependencies that differ", drift.changed_edges),
    ):
        if ids:
            print(f"{label}: {len(ids)} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})")
    if drift.in_sync:
        print("in sync")
        return 0
    print("drift found: run `planner graph project`, or `planner graph rebuild`")
    return 1


def _graph_project(_args: argparse.Namespace) -> int:
    with _opened("graph projection stopped") as app:
        progress = app.projector.catch_up(wait_s=PROJECTION_LOCK_WAIT_S)
    if progress.busy:
        raise CliError(
            f"another projector or rebuild held the graph for over {PROJECTION_LOCK_WAIT_S:g} s; "
            f"nothing applied (graph at outbox position {progress.position}), try later"
        )
    print(f"applied {progress.applied} events; graph at outbox position {progress.position}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from adapters import simulate_command as sim

    def load_plan(cmd: Any) -> Any:
        from dataclasses import replace

        with _opened("reading the plan failed") as app, _naming(cmd.plan_id):
            plan_id = _plan_id(cmd.plan_id)
            request, titles = app.services.simulations.plan_request(replace(cmd, plan_id=plan_id), CLI_PRINCIPAL)
            plan = app.services.plans.get_many(CLI_PRINCIPAL, [plan_id])[0]
        return request, titles, plan.name if plan else cmd.plan_id

    from planning.model.simulation import MAX_ITERATIONS, MAX_SHARDS

    if not 1 <= args.iterations <= MAX_ITERATIONS:
        raise CliError(f"--iterations must be between 1 and {MAX_ITERATIONS:,}")
    if not 1 <= args.shards <= min(MAX_SHARDS, args.iterations):
        raise CliError(f"--shards must be between 1 and {MAX_SHARDS}, and at most the iterations")
    if args.seed is not None and not 0 <= args.seed < 2**31:
        raise CliError("--seed must be between 0 and 2147483647")
    try:
        request, titles, name = sim.request_for(args, load_plan)
    except sim.SimulateError as exc:
        raise CliError(str(exc)) from None
    agent = None
    if getattr(args, "event", None):
        try:
            agent = sim.agent_run(args)
        except sim.SimulateError as exc:
            raise CliError(str(exc)) from None
    result = sim.run(request, show_progress=sys.stderr.isatty() and not args.json)
    if args.plot:
        sim.plot(result, request, name, args.plot)
    if args.json:
        out = {"plan": name, "asOf": request.as_of.isoformat(), **result}
        out["eventDate"] = request.event_date.isoformat() if request.event_date else None
        out["taskTitles"] = titles
        if agent is not None:
            out["whatIf"] = sim.proposals_json(agent)
        print(json.dumps(out, indent=2))
    else:
        print(sim.summary(result, request, titles, name))
        if agent is not None:
            print(sim.proposals_text(agent, args.event))
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def _token_issue(args: argparse.Namespace) -> int:
    from adapters.identity import local_signer
    from adapters.identity.local import parse_ttl
    from planning.principal import Role

    settings = Settings.from_env()
    if settings.production:
        raise CliError(
            "token issue makes development tokens, which a production server never trusts; "
            "production tokens come from the issuer (PLANNER_AUTH_ISSUER or the Cognito user pool)"
        )
    try:
        ttl_s = parse_ttl(args.ttl)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    groups = sorted({g.strip().lower() for g in args.groups.split(",") if g.strip()})
    roles = [r.value for r in Role]
    if unknown := [g for g in groups if g not in roles]:
        raise CliError(f"--groups: unknown group {unknown[0][:40]!r}; the groups are {', '.join(roles)}")
    signer = local_signer(settings)
    try:
        token = signer.issue(args.user, groups, ttl_s)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot keep the signing key in {signer.path.parent}: {exc}") from None
    print(token)
    print(
        f"planner: a token for {args.user.strip()} in {', '.join(groups) or 'no group'}, valid for {args.ttl.strip()}; "
        'in GraphiQL\'s Headers pane: {"Authorization": "Bearer <token>"}',
        file=sys.stderr,
    )
    return 0


def _planner_sync(args: argparse.Namespace) -> int:
    with _opened("the Planner sync failed") as app, _naming(args.plan_id):
        service = app.services.planner_sync
        if service is None:
            raise CliError("the Planner sync is not set up")
        report = service.sync(_plan_id(args.plan_id), CLI_PRINCIPAL)
    print(
        f"synced {report.pages} pages: created {report.created}, updated {report.updated}, "
        f"deleted {report.deleted}, unchanged {report.unchanged}"
    )
    return 0


def _plan_id(value: str) -> str:
    """Accept the API's global id or the raw id."""
    from resolvers.ids import parse_global_id

    try:
        type_name, raw = parse_global_id(value)
    except DomainError:
        return value
    if type_name != "Plan":
        raise CliError(f"{value} is the id of a {type_name}, not of a plan")
    return raw


def _subscribe(args: argparse.Namespace) -> int:
    """A client of a running server: it opens no store of its own."""
    from adapters import subscribe_command

    try:
        failure = subscribe_command.follow(args)
    except KeyboardInterrupt:
        return 0
    if failure is not None:
        raise CliError(failure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
