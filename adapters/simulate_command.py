"""``planner simulate``: Monte Carlo schedule risk of a plan document or a stored plan."""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning.errors import DomainError
from planning.model import ExternalEvent, Severity, TaskStatus
from planning.model.simulation import DEFAULT_ITERATIONS, Distribution

if TYPE_CHECKING:
    from planning.ports.simulation import SimulationRequest
    from planning.services.agent import AgentRun
    from planning.services.simulations import RunSimulation

TOP = 5


class SimulateError(Exception):
    """A problem with the command's input, reported in one line."""


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    cmd = sub.add_parser("simulate", help="Monte Carlo schedule risk of a plan document or a stored plan")
    cmd.add_argument("source", metavar="FILE_OR_PLAN_ID", help="a JSON plan document, or a stored plan's id")
    cmd.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="Monte Carlo iterations")
    cmd.add_argument("--seed", type=int, default=None, help="default: random; printed so a run can be repeated")
    cmd.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default: the document's asOf, else today"
    )
    cmd.add_argument("--shards", type=int, default=1, help="split into independent shards (same result)")
    cmd.add_argument(
        "--distribution",
        choices=[d.value.lower() for d in Distribution],
        default="pert",
        help="how each task's duration is drawn from its estimates",
    )
    cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    cmd.add_argument("--plot", type=Path, default=None, metavar="PNG", help="write a histogram and cumulative curve")
    cmd.add_argument(
        "--event",
        default=None,
        metavar="TASK_KEY:DAYS[:PROBABILITY]",
        help="a what-if external event delaying a task of the document (certain unless PROBABILITY is given): "
        "prints the optimisation agent's ranked proposals for it",
    )
    cmd.set_defaults(handler=handler)


def request_for(
    args: argparse.Namespace, load_plan: Callable[[RunSimulation], tuple[SimulationRequest, dict[str, str], str]]
) -> tuple[SimulationRequest, dict[str, str], str]:
    """The simulation to run, the task names to show, and the plan's name."""
    # The document parser and the simulation service are imported when the command runs, not when
    # `planner` builds its parser (`planner --help` stays fast).
    from planning.documents import parse_document
    from planning.services.simulations import RunSimulation, document_request

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    distribution = Distribution(args.distribution.upper())
    path = Path(args.source)
    if path.suffix == ".json" or path.exists():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SimulateError(f"{path}: no such file") from None
        except json.JSONDecodeError as exc:
            raise SimulateError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        try:
            doc = parse_document(raw)
            request = document_request(
                doc,
                iterations=args.iterations,
                seed=seed,
                as_of=args.as_of or doc.as_of or date.today(),
                shards=args.shards,
                distribution=distribution,
            )
        except DomainError as exc:
            raise SimulateError(f"{path}: {exc.message}") from None
        return request, {t.key: t.title for t in doc.tasks}, doc.name
    cmd = RunSimulation(args.source, args.iterations, seed, args.as_of, args.shards, distribution)
    return load_plan(cmd)


def run(request: SimulationRequest, *, show_progress: bool) -> dict[str, Any]:
    # The engine (numpy, networkx) is imported when a simulation runs, not when `planner`
    # builds its parser: `planner --help` stays fast.
    from adapters.engine.simulator import EngineSimulator

    if not show_progress:
        return EngineSimulator().simulate(request)
    from tqdm import tqdm

    with tqdm(total=request.iterations, unit="it", desc="simulating", file=sys.stderr, leave=False) as bar:

        def progress(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return EngineSimulator().simulate(request, progress)


def summary(result: dict[str, Any], request: SimulationRequest, titles: dict[str, str], name: str) -> str:
    lines = [
        f"{name}: {request.iterations:,} iterations, seed {request.seed}, as of {request.as_of.isoformat()}",
    ]
    if request.event_date is not None and result["onTimeProbability"] is not None:
        lines.append(
            f"Ready by {request.event_date.isoformat()}: {result['onTimeProbability']:.1%} "
            f"(standard error {result['onTimeStandardError']:.1%})"
        )
    lines.append(
        f"Finish: mean {result['meanFinishDate']}, P50 {result['p50FinishDate']}, "
        f"P80 {result['p80FinishDate']}, P90 {result['p90FinishDate']}"
    )
    # Remaining work only: a completed task can no longer move the finish.
    remaining = {t.task_id for t in request.tasks if t.status != TaskStatus.COMPLETED}
    shares = [(key, share) for key, share in result["taskCriticality"].items() if key in remaining]
    critical = sorted(shares, key=lambda kv: -kv[1])[:TOP]
    lines.append("Most often critical (remaining work):")
    lines += [f"  {share:6.1%}  {titles.get(key, key)}" for key, share in critical]
    sensitive = sorted(result["sensitivity"].items(), key=lambda kv: -abs(kv[1]))[:TOP]
    lines.append("Durations that move the finish most (Spearman):")
    lines += [f"  {rho:+6.2f}  {titles.get(key, key)}" for key, rho in sensitive]
    return "\n".join(lines)


def plot(result: dict[str, Any], request: SimulationRequest, name: str, path: Path) -> None:
    """Histogram of finish dates with the cumulative curve, the event date and P80 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = [date.fromisoformat(b["date"]) for b in result["histogram"]]
    counts = [b["count"] for b in result["histogram"]]
    cum_days = [date.fromisoformat(p["date"]) for p in result["cumulative"]]
    cum = [p["probability"] for p in result["cumulative"]]
    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    ax.bar(days, counts, width=0.8, color="#4C72B0", label="finishes per day")
    ax.set_ylabel("iterations finishing that day")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    twin = ax.twinx()
    twin.plot(cum_days, cum, color="#DD8452", linewidth=2, drawstyle="steps-post", label="cumulative probability")
    twin.set_ylim(0, 1.02)
    twin.set_ylabel("probability finished by then")
    p80 = date.fromisoformat(result["p80FinishDate"])
    ax.axvline(p80, color="#55A868", linestyle=":", label=f"P80 {p80.isoformat()}")
    title = f"{name}: {request.iterations:,} iterations"
    if request.event_date is not None:
        ax.axvline(request.event_date, color="#C44E52", linestyle="--", label=f"event {request.event_date.isoformat()}")
        title += f", on time {result['onTimeProbability']:.1%}"
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def what_if_event(spec: str, at: datetime) -> ExternalEvent:
    """``TASK_KEY:DAYS[:PROBABILITY]`` as an external event of the document."""
    parts = spec.rsplit(":", 2) if spec.count(":") >= 2 else spec.rsplit(":", 1)
    if len(parts) < 2 or not parts[0]:
        raise SimulateError(f"--event {spec!r}: expected TASK_KEY:DAYS or TASK_KEY:DAYS:PROBABILITY")
    try:
        days = float(parts[1])
        probability = float(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise SimulateError(f"--event {spec!r}: DAYS and PROBABILITY must be numbers") from None
    try:
        return ExternalEvent(
            id="document-what-if",
            plan_id="document",
            event_type="what_if",
            severity=Severity.HIGH,
            title=f"{parts[0]} delayed {days:g} days",
            description=None,
            source="planner simulate --event",
            occurred_at=at,
            received_at=at,
            delay_days=days,
            probability=probability,
            payload=None,
            affected_task_ids=(parts[0],),
            idempotency_key=None,
        )
    except DomainError as exc:
        raise SimulateError(f"--event {spec!r}: {exc.message}") from None


def agent_run(args: argparse.Namespace) -> AgentRun:
    """The optimisation agent's proposals for ``--event`` on the document ``args.source``."""
    path = Path(args.source)
    if not (path.suffix == ".json" or path.exists()):
        raise SimulateError("--event works on a plan document (a JSON file), not a stored plan: use proposeActions")
    # The engine (numpy, networkx) is imported when the agent runs, not with the parser (cold start).
    from adapters.engine.scheduler import EngineScheduler
    from adapters.engine.variant_scorer import EngineVariantScorer
    from planning.documents import parse_document
    from planning.services.agent import OptimisationAgent, document_input

    try:
        doc = parse_document(json.loads(path.read_text(encoding="utf-8")))
        at = datetime.now(UTC)
        inp = document_input(doc, what_if_event(args.event, at), as_of=args.as_of or doc.as_of or date.today(), at=at)
        return OptimisationAgent(EngineScheduler(), EngineVariantScorer()).run(inp)
    except DomainError as exc:
        raise SimulateError(f"{path}: {exc.message}") from None


def proposals_json(run: AgentRun) -> dict[str, Any]:
    return {
        "targetDate": run.target_date.isoformat(),
        "criticalPathDelayDays": run.critical_path_delay_days,
        "onTimeProbability": run.on_time_probability,
        "iterations": run.iterations,
        "seed": run.seed,
        "proposals": [
            {
                "rank": p.rank,
                "actionType": p.candidate.action_type.value,
                "parameters": p.candidate.parameters,
                "expectedImpact": p.impact.to_json(),
                "rationale": p.rationale,
            }
            for p in run.proposals
        ],
    }


def proposals_text(run: AgentRun, event: str) -> str:
    lines = [
        f"What if {event}: critical path {run.critical_path_delay_days:+g} days; on time by "
        f"{run.target_date.isoformat()}: {run.on_time_probability:.1%} "
        f"({run.iterations:,} iterations, seed {run.seed})",
        f"Proposals, best first ({len(run.proposals)} of {run.candidates} candidates kept):",
    ]
    for p in run.proposals:
        impact = p.impact
        lines.append(
            f"  {p.rank:2d}. {p.candidate.action_type.value:<14} on time {impact.on_time_probability_before:6.1%} -> "
            f"{impact.on_time_probability_after:6.1%}  mean finish {impact.finish_date_delta_days:+6.2f} days"
        )
        lines.append(f"      {p.rationale}")
    if not run.proposals:
        lines.append("  none: no candidate keeps the on-time probability")
    return "\n".join(lines)
