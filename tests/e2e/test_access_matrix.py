"""Who may see and change what, through the API: four principals over every contract operation
and every mutation of a plan, on SQLite and PostgreSQL.

- an admin (group admin), who reads and changes everything;
- Olive, the owner of plan A (group planner);
- Eddie, an editor of plan A and a viewer of plan B (group planner);
- Stan, a stranger to both (group planner, of another team).

Plan B belongs to Bob. Each principal gets exactly what its role allows: a plan it may not read
is as if it did not exist (``null``, ``NOT_FOUND``), one it may read but not change answers
``FORBIDDEN``; nothing crosses from one plan into another. A refused mutation writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from starlette.testclient import TestClient

from adapters.bootstrap import Application
from adapters.sql import SqlUnitOfWork
from planning.commands import AddDependency, AddPlanMember, CreatePlan, CreateTask, IngestExternalEvent
from planning.model import Severity
from planning.model.membership import PlanRole
from planning.model.simulation import Distribution, Simulation, SimulationStatus
from planning.principal import Principal
from planning.services.simulations import RunSimulation
from resolvers.ids import parse_global_id, to_global_id
from tests.graphql_client import OPERATIONS, GraphQL, operation

ADMIN = "admin"
OWNER = "owner"
EDITOR = "editor"
STRANGER = "stranger"
WHO = (ADMIN, OWNER, EDITOR, STRANGER)
USERS = {
    ADMIN: ("ada@example.com", "admin"),
    OWNER: ("olive@example.com", "planner"),
    EDITOR: ("eddie@example.com", "planner"),
    STRANGER: ("stan@example.com", "planner"),
}
BOB = Principal("bob@example.com", frozenset({"planner"}))
SETUP = Principal("setup@example.com", frozenset({"admin"}))
OLIVE = Principal(USERS[OWNER][0], frozenset({"planner"}))

OK = "ok"
HIDDEN = "null"  # a read of something the caller may not see: the answer of an id that does not exist
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"

#: What each principal gets, by what the operation needs and on which plan.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("read", "A"): {ADMIN: OK, OWNER: OK, EDITOR: OK, STRANGER: HIDDEN},
    ("read", "B"): {ADMIN: OK, OWNER: HIDDEN, EDITOR: OK, STRANGER: HIDDEN},
    ("edit", "A"): {ADMIN: OK, OWNER: OK, EDITOR: OK, STRANGER: NOT_FOUND},
    ("edit", "B"): {ADMIN: OK, OWNER: NOT_FOUND, EDITOR: FORBIDDEN, STRANGER: NOT_FOUND},
    ("manage", "A"): {ADMIN: OK, OWNER: OK, EDITOR: FORBIDDEN, STRANGER: NOT_FOUND},
    ("manage", "B"): {ADMIN: OK, OWNER: NOT_FOUND, EDITOR: FORBIDDEN, STRANGER: NOT_FOUND},
}
WORKER_EVENTS = {"SIMULATION_STARTED", "SIMULATION_PROGRESS", "SIMULATION_COMPLETED", "SIMULATION_FAILED"}
ANONYMOUS_HEADERS = {"X-Planner-User": "", "X-Planner-Groups": ""}
#: The contract files whose operations do not validate yet (their schema comes later).
NOT_YET: tuple[str, ...] = ()


@dataclass
class PlanWorld:
    name: str
    raw: str
    tasks: list[str]  # raw ids: first, second, third (first -> second -> third)
    event: str
    simulation: str
    dependency: str

    @property
    def id(self) -> str:
        return to_global_id("Plan", self.raw)

    def task(self, index: int = 0) -> str:
        return to_global_id("Task", self.tasks[index])


@dataclass
class World:
    app: Application
    client: TestClient
    plans: dict[str, PlanWorld] = field(default_factory=dict)
    counter: int = 0
    #: The outbox position before the attempt under test (past what was made fresh for it).
    mark: int = 0

    def gql(self, who: str) -> GraphQL:
        user, groups = USERS[who]
        return GraphQL(self.client).as_(groups, user)

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    # Fresh things for one attempt of a mutation that consumes them (deletes, adds, cancels)

    def fresh_task(self, plan: str) -> str:
        created = self.app.services.tasks.create(
            CreateTask(self.plans[plan].raw, self.unique("fresh"), duration_days=1), SETUP
        )
        self.mark = self.outbox_position()
        return to_global_id("Task", created.id)

    def fresh_dependency(self, plan: str) -> str:
        a, b = (self.fresh_task(plan) for _ in range(2))
        dep = self.app.services.dependencies.add(AddDependency(_raw(a), _raw(b)), SETUP)
        self.mark = self.outbox_position()
        return to_global_id("Dependency", dep.id)

    def fresh_queued_run(self, plan: str) -> str:
        """A QUEUED run that no worker will take, so that cancelling it depends on the caller alone."""
        now = datetime.now(UTC)
        simulation = Simulation(
            id=self.app.services.deps.ids.new_id(),
            plan_id=self.plans[plan].raw,
            status=SimulationStatus.QUEUED,
            iterations=100,
            seed=1,
            shards=1,
            distribution=Distribution.PERT,
            event_date=None,
            as_of=date.today(),
            progress=0.0,
            completed_iterations=0,
            error=None,
            result=None,
            requested_by=SETUP.user_id,
            created_at=now,
            started_at=None,
            completed_at=None,
        )
        with SqlUnitOfWork(self.app.engine) as uow:
            uow.simulations.add(simulation)
            uow.commit()
        return to_global_id("Simulation", simulation.id)

    def fresh_action(self, plan: str) -> str:
        """A PENDING proposal for the plan's event (the agent run again for it)."""
        proposed = self.app.services.actions.propose(self.plans[plan].event, SETUP)
        self.mark = self.outbox_position()
        return to_global_id("ProposedAction", proposed[0].id)

    def fresh_member(self, plan: str) -> str:
        user = f"{self.unique('member')}@example.com"
        self.app.services.members.add(AddPlanMember(self.plans[plan].raw, user, PlanRole.VIEWER), SETUP)
        self.mark = self.outbox_position()
        return user

    def fresh_plan(self, plan: str) -> str:
        """A plan whose members are those of ``plan``: the owner owns it, the other is a member."""
        made = _plan(self.app, self.unique(plan), OLIVE if plan == "A" else BOB, plan)
        self.mark = self.outbox_position()
        return to_global_id("Plan", made.raw)

    def outbox_position(self) -> int:
        with SqlUnitOfWork(self.app.engine) as uow:
            return uow.outbox.last_position()

    def written_since(self, position: int) -> list[str]:
        """The kinds of the events committed after ``position``, but the simulation worker's own
        (runs queued by the test end in the background)."""
        with SqlUnitOfWork(self.app.engine) as uow:
            messages = uow.outbox.read_after(position, 1000)
        return [m.event.kind.value for m in messages if m.event.kind.value not in WORKER_EVENTS]


def _raw(global_id: str) -> str:
    return parse_global_id(global_id)[1]


def _plan(app: Application, name: str, owner: Principal, kind: str) -> PlanWorld:
    """A plan of three chained tasks, an external event and a simulation run; the editor is an
    EDITOR of plans of kind A and a VIEWER of kind B."""
    services = app.services
    plan = services.plans.create(CreatePlan(name, event_date=date(2030, 1, 31)), owner)
    role = PlanRole.EDITOR if kind == "A" else PlanRole.VIEWER
    services.members.add(AddPlanMember(plan.id, USERS[EDITOR][0], role), owner)
    first = services.tasks.create(CreateTask(plan.id, f"{name} first", duration_days=2), owner)
    second = services.tasks.create(
        CreateTask(plan.id, f"{name} second", duration_days=3, depends_on=(first.id,)), owner
    )
    third = services.tasks.create(CreateTask(plan.id, f"{name} third", duration_days=1), owner)
    dep = services.dependencies.add(AddDependency(second.id, third.id), owner)
    event = services.external_events.ingest(
        IngestExternalEvent(
            plan.id, "supplier_delay", Severity.HIGH, f"{name} late", delay_days=2.0, affected_task_ids=(first.id,)
        ),
        owner,
    )
    run = services.simulations.request(RunSimulation(plan.id, iterations=100, seed=7), owner)
    return PlanWorld(name, plan.id, [first.id, second.id, third.id], event.id, run.id, dep.id)


@pytest.fixture
def world(app: Application, client: TestClient) -> World:
    found = World(app, client)
    found.plans["A"] = _plan(app, "A", OLIVE, "A")
    found.plans["B"] = _plan(app, "B", BOB, "B")
    return found


def _outcome_of_payload(payload: dict[str, Any]) -> str:
    errors = payload["userErrors"]
    if not errors:
        return OK
    assert len(errors) == 1, errors
    return str(errors[0]["code"])


def _read(value: Any) -> str:
    return HIDDEN if value is None else OK


PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")
GRAPH = operation("graph.graphql")
SIM = operation("simulation.graphql")
ACTIONS = operation("actions.graphql")


# Each case: (what it needs, the operation names it covers, a function of world, plan, principal).

Case = Callable[[World, str, str], str]


def _plan_tasks(w: World, plan: str, who: str) -> str:
    data = w.gql(who)(PLANS, {"planId": w.plans[plan].id}, "PlanTasks")["plan"]
    if data is not None:
        own = {to_global_id("Task", t) for t in w.plans[plan].tasks}
        nodes = [e["node"] for e in data["tasks"]["edges"]]
        assert {n["id"] for n in nodes} >= own
        for node in nodes:  # nested fields stay in the plan
            for other in node["dependsOn"] + node["dependents"]:
                assert _task_plan(w, other["id"]) == w.plans[plan].raw
    return _read(data)


def _task_plan(w: World, task_id: str) -> str:
    [task] = w.app.services.tasks.get_many(SETUP, [_raw(task_id)])
    assert task is not None
    return task.plan_id


def _task_detail(w: World, plan: str, who: str) -> str:
    node = w.gql(who)(PLANS, {"id": w.plans[plan].task(1)}, "TaskDetail")["node"]
    if node is not None:
        assert node["plan"]["id"] == w.plans[plan].id
        assert [t["id"] for t in node["dependsOn"]] == [w.plans[plan].task(0)]
        assert [t["id"] for t in node["dependents"]] == [w.plans[plan].task(2)]
    return _read(node)


def _plan_dependencies(w: World, plan: str, who: str) -> str:
    data = w.gql(who)(PLANS, {"planId": w.plans[plan].id}, "PlanDependencies")["plan"]
    if data is not None:
        for dep in data["dependencies"]:
            assert _task_plan(w, dep["predecessor"]["id"]) == w.plans[plan].raw
            assert _task_plan(w, dep["successor"]["id"]) == w.plans[plan].raw
    return _read(data)


def _create_task(w: World, plan: str, who: str) -> str:
    payload = w.gql(who)(
        PLANS,
        {"input": {"planId": w.plans[plan].id, "title": "New", "dependsOn": [w.plans[plan].task(0)]}},
        "CreateTask",
    )["createTask"]
    return _outcome_of_payload(payload)


def _update_task(w: World, plan: str, who: str) -> str:
    payload = w.gql(who)(PLANS, {"input": {"id": w.plans[plan].task(0), "title": f"By {who}"}}, "UpdateTask")
    return _outcome_of_payload(payload["updateTask"])


def _delete_task(w: World, plan: str, who: str) -> str:
    task = w.fresh_task(plan)
    return _outcome_of_payload(w.gql(who)(PLANS, {"input": {"id": task}}, "DeleteTask")["deleteTask"])


def _add_dependency(w: World, plan: str, who: str) -> str:
    a, b = w.fresh_task(plan), w.fresh_task(plan)
    payload = w.gql(who)(PLANS, {"input": {"predecessorId": a, "successorId": b}}, "AddDependency")
    return _outcome_of_payload(payload["addDependency"])


def _remove_dependency(w: World, plan: str, who: str) -> str:
    dep = w.fresh_dependency(plan)
    payload = w.gql(who)(PLANS, {"input": {"id": dep}}, "RemoveDependency")["removeDependency"]
    return _outcome_of_payload(payload)


def _plan_events(w: World, plan: str, who: str) -> str:
    data = w.gql(who)(EVENTS, {"planId": w.plans[plan].id}, "PlanEvents")["plan"]
    if data is not None:
        [edge] = data["externalEvents"]["edges"]
        assert edge["node"]["id"] == to_global_id("ExternalEvent", w.plans[plan].event)
        assert [t["id"] for t in edge["node"]["affectedTasks"]] == [w.plans[plan].task(0)]
    return _read(data)


def _ingest(w: World, plan: str, who: str) -> str:
    payload = w.gql(who)(
        EVENTS,
        {
            "input": {
                "planId": w.plans[plan].id,
                "eventType": "strike",
                "severity": "LOW",
                "title": f"By {who}",
                "affectedTaskIds": [w.plans[plan].task(0)],
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    return _outcome_of_payload(payload)


def _critical_path(w: World, plan: str, who: str) -> str:
    data = w.gql(who)(GRAPH, {"planId": w.plans[plan].id}, "CriticalPath")["plan"]
    if data is not None:
        own = {to_global_id("Task", t) for t in w.plans[plan].tasks}
        assert {t["id"] for t in data["criticalPath"]["tasks"]} <= own
        assert data["criticalPath"]["tasks"]
    return _read(data)


def _task_impact(w: World, plan: str, who: str) -> str:
    node = w.gql(who)(GRAPH, {"id": w.plans[plan].task(1)}, "TaskImpact")["node"]
    if node is not None:
        assert [t["id"] for t in node["upstream"]] == [w.plans[plan].task(0)]
        assert [t["id"] for t in node["downstream"]] == [w.plans[plan].task(2)]
    return _read(node)


def _event_impact(w: World, plan: str, who: str) -> str:
    node = w.gql(who)(GRAPH, {"id": to_global_id("ExternalEvent", w.plans[plan].event)}, "EventImpact")["node"]
    if node is not None:
        own = {to_global_id("Task", t) for t in w.plans[plan].tasks}
        assert {t["id"] for t in node["impact"]["downstreamTasks"]} <= own
        assert node["impact"]["affectedTaskCount"] == 1
    return _read(node)


def _run_simulation(w: World, plan: str, who: str) -> str:
    runs = w.app.services.simulations.count(SETUP, w.plans[plan].raw)
    payload = w.gql(who)(SIM, {"input": {"planId": w.plans[plan].id, "iterations": 50, "seed": 1}}, "RunSimulation")
    outcome = _outcome_of_payload(payload["runSimulation"])
    assert w.app.services.simulations.count(SETUP, w.plans[plan].raw) == runs + (outcome == OK)
    return outcome


def _simulation_detail(w: World, plan: str, who: str) -> str:
    node = w.gql(who)(SIM, {"id": to_global_id("Simulation", w.plans[plan].simulation)}, "SimulationDetail")["node"]
    if node is not None:
        assert node["plan"]["id"] == w.plans[plan].id
    return _read(node)


def _plan_simulations(w: World, plan: str, who: str) -> str:
    data = w.gql(who)(SIM, {"planId": w.plans[plan].id}, "PlanSimulations")["plan"]
    if data is not None:
        ids = [e["node"]["id"] for e in data["simulations"]["edges"]]
        assert to_global_id("Simulation", w.plans[plan].simulation) in ids
        assert data["latestSimulation"]["id"] in ids
        assert all(_simulation_plan(w, i) == w.plans[plan].raw for i in ids)
    return _read(data)


def _simulation_plan(w: World, simulation_id: str) -> str:
    [run] = w.app.services.simulations.get_many(SETUP, [_raw(simulation_id)])
    assert run is not None
    return run.plan_id


# The mutations of plans, members, events and runs beyond the contract files

UPDATE_PLAN = "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { id name } userErrors { code } } }"
DELETE_PLAN = "mutation($i: DeletePlanInput!) { deletePlan(input: $i) { deletedPlanId userErrors { code } } }"
RESOLVE = """mutation($i: ResolveExternalEventInput!) {
  resolveExternalEvent(input: $i) { externalEvent { id status } userErrors { code } } }"""
CANCEL = """mutation($i: CancelSimulationInput!) {
  cancelSimulation(input: $i) { simulation { id status } userErrors { code } } }"""
MEMBER_FIELDS = "plan { id } member { userId role addedBy } userErrors { field message code }"
ADD_MEMBER = f"mutation($i: AddPlanMemberInput!) {{ addPlanMember(input: $i) {{ {MEMBER_FIELDS} }} }}"
UPDATE_MEMBER = f"mutation($i: UpdatePlanMemberInput!) {{ updatePlanMember(input: $i) {{ {MEMBER_FIELDS} }} }}"
REMOVE_MEMBER = f"mutation($i: RemovePlanMemberInput!) {{ removePlanMember(input: $i) {{ {MEMBER_FIELDS} }} }}"
PLAN_ACCESS = """query($id: ID!) {
  plan(id: $id) { id myRole members { userId role } activity(first: 5) { totalCount edges { node { kind } } } } }"""


def _update_plan(w: World, plan: str, who: str) -> str:
    payload = w.gql(who)(UPDATE_PLAN, {"i": {"id": w.plans[plan].id, "name": f"{plan} by {who}"}})["updatePlan"]
    return _outcome_of_payload(payload)


def _delete_plan(w: World, plan: str, who: str) -> str:
    doomed = w.fresh_plan(plan)
    outcome = _outcome_of_payload(w.gql(who)(DELETE_PLAN, {"i": {"id": doomed}})["deletePlan"])
    still_there = w.app.services.plans.get_many(SETUP, [_raw(doomed)])[0] is not None
    assert still_there is (outcome != OK)
    return outcome


def _resolve_event(w: World, plan: str, who: str) -> str:
    event = to_global_id("ExternalEvent", w.plans[plan].event)
    status = "WITHDRAWN" if who in (ADMIN, EDITOR) else "OPEN"  # changes (or keeps) the status
    payload = w.gql(who)(RESOLVE, {"i": {"id": event, "status": status}})["resolveExternalEvent"]
    return _outcome_of_payload(payload)


def _cancel_simulation(w: World, plan: str, who: str) -> str:
    run = w.fresh_queued_run(plan)
    payload = w.gql(who)(CANCEL, {"i": {"id": run}})["cancelSimulation"]
    if not payload["userErrors"]:
        assert payload["simulation"]["status"] == "CANCELLED"
    return _outcome_of_payload(payload)


def _add_member(w: World, plan: str, who: str) -> str:
    user = f"{w.unique('new')}@example.com"
    payload = w.gql(who)(ADD_MEMBER, {"i": {"planId": w.plans[plan].id, "userId": user, "role": "VIEWER"}})
    if not payload["addPlanMember"]["userErrors"]:
        assert payload["addPlanMember"]["member"] == {"userId": user, "role": "VIEWER", "addedBy": USERS[who][0]}
    return _outcome_of_payload(payload["addPlanMember"])


def _update_member(w: World, plan: str, who: str) -> str:
    user = w.fresh_member(plan)
    payload = w.gql(who)(UPDATE_MEMBER, {"i": {"planId": w.plans[plan].id, "userId": user, "role": "EDITOR"}})
    return _outcome_of_payload(payload["updatePlanMember"])


def _remove_member(w: World, plan: str, who: str) -> str:
    user = w.fresh_member(plan)
    payload = w.gql(who)(REMOVE_MEMBER, {"i": {"planId": w.plans[plan].id, "userId": user}})
    return _outcome_of_payload(payload["removePlanMember"])


def _propose_actions(w: World, plan: str, who: str) -> str:
    event = to_global_id("ExternalEvent", w.plans[plan].event)
    payload = w.gql(who)(ACTIONS, {"input": {"externalEventId": event}}, "ProposeActions")["proposeActions"]
    if not payload["userErrors"]:
        assert payload["actions"]
        assert all(a["externalEvent"]["id"] == event for a in payload["actions"])
    return _outcome_of_payload(payload)


def _plan_actions(w: World, plan: str, who: str) -> str:
    w.fresh_action(plan)
    data = w.gql(who)(ACTIONS, {"planId": w.plans[plan].id, "status": "PENDING"}, "PlanActions")["plan"]
    if data is not None:
        assert data["proposedActions"]["totalCount"] >= 1
        own = {to_global_id("Task", t) for t in w.plans[plan].tasks}
        assert all(e["node"]["task"]["id"] in own for e in data["proposedActions"]["edges"])
    return _read(data)


def _approve_action(w: World, plan: str, who: str) -> str:
    action = w.fresh_action(plan)
    return _outcome_of_payload(w.gql(who)(ACTIONS, {"input": {"id": action}}, "ApproveAction")["approveAction"])


def _reject_action(w: World, plan: str, who: str) -> str:
    action = w.fresh_action(plan)
    payload = w.gql(who)(ACTIONS, {"input": {"id": action, "reason": "no"}}, "RejectAction")["rejectAction"]
    return _outcome_of_payload(payload)


CASES: dict[str, tuple[str, Case]] = {
    # schema/operations/plans.graphql (PlanList and CreatePlan have tests of their own, below)
    "PlanTasks": ("read", _plan_tasks),
    "TaskDetail": ("read", _task_detail),
    "PlanDependencies": ("read", _plan_dependencies),
    "CreateTask": ("edit", _create_task),
    "UpdateTask": ("edit", _update_task),
    "DeleteTask": ("edit", _delete_task),
    "AddDependency": ("edit", _add_dependency),
    "RemoveDependency": ("edit", _remove_dependency),
    # schema/operations/events.graphql
    "PlanEvents": ("read", _plan_events),
    "IngestExternalEvent": ("edit", _ingest),
    # schema/operations/graph.graphql
    "CriticalPath": ("read", _critical_path),
    "TaskImpact": ("read", _task_impact),
    "EventImpact": ("read", _event_impact),
    # schema/operations/simulation.graphql
    "RunSimulation": ("edit", _run_simulation),
    "SimulationDetail": ("read", _simulation_detail),
    "PlanSimulations": ("read", _plan_simulations),
    # schema/operations/actions.graphql
    "ProposeActions": ("edit", _propose_actions),
    "PlanActions": ("read", _plan_actions),
    "ApproveAction": ("edit", _approve_action),
    "RejectAction": ("edit", _reject_action),
    # the other mutations of a plan's life and of its members
    "updatePlan": ("manage", _update_plan),
    "deletePlan": ("manage", _delete_plan),
    "resolveExternalEvent": ("edit", _resolve_event),
    "cancelSimulation": ("edit", _cancel_simulation),
    "addPlanMember": ("manage", _add_member),
    "updatePlanMember": ("manage", _update_member),
    "removePlanMember": ("manage", _remove_member),
}
OWN_TESTS = {"PlanList", "CreatePlan", "OnPlanEvent", "OnSimulationProgress"}
# OnPlanEvent and OnSimulationProgress: tests/e2e/test_subscriptions.py (a stranger, a member of
# another plan, and a member who loses access, over websockets).


def test_the_matrix_covers_every_contract_operation() -> None:
    names = set()
    for path in sorted(OPERATIONS.glob("*.graphql")):
        if path.name in NOT_YET:
            continue
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name is not None
                names.add(definition.name.value)
    assert names - OWN_TESTS <= set(CASES)
    assert names >= OWN_TESTS


@pytest.mark.parametrize("name", list(CASES))
def test_each_principal_gets_exactly_what_its_role_allows(world: World, name: str) -> None:
    needs, case = CASES[name]
    for plan in ("A", "B"):
        got = {}
        for who in WHO:
            world.mark = world.outbox_position()
            got[who] = case(world, plan, who)
            if got[who] in (FORBIDDEN, NOT_FOUND):
                assert world.written_since(world.mark) == [], f"{who}'s refused {name} wrote something"
        assert got == EXPECTED[(needs, plan)], f"{name} on plan {plan}"


def test_plans_lists_exactly_the_callers_plans(world: World) -> None:
    mine = world.app.services.plans.create(CreatePlan("Stan's own"), Principal(*_principal(STRANGER)))
    expected = {
        ADMIN: {world.plans["A"].id, world.plans["B"].id, to_global_id("Plan", mine.id)},
        OWNER: {world.plans["A"].id},
        EDITOR: {world.plans["A"].id, world.plans["B"].id},
        STRANGER: {to_global_id("Plan", mine.id)},
    }
    listed = "query { plans { totalCount edges { node { id } } } me { plans { totalCount edges { node { id } } } } }"
    for who in WHO:
        gql = world.gql(who)
        data = gql(listed)
        ids = {e["node"]["id"] for e in data["plans"]["edges"]}
        assert ids == expected[who], who
        assert data["plans"]["totalCount"] == len(expected[who])
        assert {e["node"]["id"] for e in data["me"]["plans"]["edges"]} == ids
        assert data["me"]["plans"]["totalCount"] == len(ids)
        # The contract's list, page by page, says the same.
        first = gql(PLANS, {"first": 1}, "PlanList")["plans"]
        assert len(first["edges"]) == min(1, len(ids))
        assert first["pageInfo"]["hasNextPage"] is (len(ids) > 1)


def _principal(who: str) -> tuple[str, frozenset[str]]:
    user, groups = USERS[who]
    return user, frozenset({groups})


def test_only_admins_and_planners_create_plans_and_each_owns_what_it_creates(world: World) -> None:
    create = {"input": {"name": "Launch"}}
    for who in WHO:
        payload = world.gql(who)(PLANS, create, "CreatePlan")["createPlan"]
        assert payload["userErrors"] == [], who
        created = payload["plan"]["id"]
        role = world.gql(who)(PLAN_ACCESS, {"id": created})["plan"]
        assert role["myRole"] == "OWNER"
        assert role["members"] == [{"userId": USERS[who][0], "role": "OWNER"}]
        others = [o for o in WHO if o not in (who, ADMIN)]
        assert all(world.gql(o)(PLAN_ACCESS, {"id": created})["plan"] is None for o in others)
    before = world.outbox_position()
    gql = GraphQL(world.client)
    for refused in (gql.as_("viewer", "vera@example.com"), GraphQL(world.client, ANONYMOUS_HEADERS)):
        payload = refused(PLANS, create, "CreatePlan")["createPlan"]
        assert payload["plan"] is None
        assert [e["code"] for e in payload["userErrors"]] == [FORBIDDEN]
    assert world.written_since(before) == []


def test_node_of_another_teams_things_is_null_as_for_an_id_that_does_not_exist(world: World) -> None:
    b = world.plans["B"]
    things = [
        b.id,
        b.task(0),
        to_global_id("ExternalEvent", b.event),
        to_global_id("Simulation", b.simulation),
        to_global_id("Dependency", b.dependency),
    ]
    query = "query($id: ID!) { node(id: $id) { id } }"
    for thing in things:
        assert _answer(world.gql(OWNER).raw(query, {"id": thing})) == {"data": {"node": None}}
        assert _answer(world.gql(STRANGER).raw(query, {"id": thing})) == {"data": {"node": None}}
        assert world.gql(EDITOR)(query, {"id": thing})["node"] == {"id": thing}
    missing = to_global_id("Task", "00000000-0000-7000-8000-000000000000")
    hidden = world.gql(STRANGER).raw(query, {"id": b.task(0)})
    assert _answer(world.gql(STRANGER).raw(query, {"id": missing})) == _answer(hidden)
    plan = world.gql(STRANGER).raw("query($id: ID!) { plan(id: $id) { id } }", {"id": b.id})
    assert _answer(plan) == {"data": {"plan": None}}


def _answer(result: dict[str, Any]) -> dict[str, Any]:
    """What the API answered (data and errors), without the cost it reports."""
    return {k: v for k, v in result.items() if k != "extensions"}


def test_refusals_do_not_tell_a_stranger_that_a_thing_exists(world: World) -> None:
    """A mutation on another team's task answers what it answers for an id nobody has."""
    stranger = world.gql(STRANGER)
    missing = to_global_id("Task", "00000000-0000-7000-8000-000000000000")
    answers = [
        stranger(PLANS, {"input": {"id": task, "title": "Mine now"}}, "UpdateTask")["updateTask"]
        for task in (world.plans["A"].task(0), missing)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["userErrors"][0]["code"] == NOT_FOUND
    # A task of plan B in dependsOn of the stranger's own plan: NOT_FOUND too, never CROSS_PLAN.
    own = stranger(PLANS, {"input": {"name": "Stan's"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    payload = stranger(
        PLANS, {"input": {"planId": own, "title": "T", "dependsOn": [world.plans["B"].task(0)]}}, "CreateTask"
    )["createTask"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(NOT_FOUND, ["input", "dependsOn"])]
    # The editor may read B: there the same request is CROSS_PLAN, as before.
    editor = world.gql(EDITOR)
    payload = editor(
        PLANS,
        {"input": {"planId": world.plans["A"].id, "title": "T", "dependsOn": [world.plans["B"].task(0)]}},
        "CreateTask",
    )["createTask"]
    assert [e["code"] for e in payload["userErrors"]] == ["CROSS_PLAN"]


def test_members_my_role_and_activity_by_role(world: World) -> None:
    a = world.plans["A"]
    expected_members = [
        {"userId": USERS[OWNER][0], "role": "OWNER"},
        {"userId": USERS[EDITOR][0], "role": "EDITOR"},
    ]
    roles = {ADMIN: None, OWNER: "OWNER", EDITOR: "EDITOR"}
    for who, role in roles.items():
        result = world.gql(who).raw(PLAN_ACCESS, {"id": a.id})
        plan = result["data"]["plan"]
        assert plan["myRole"] == role, who
        assert plan["members"] == expected_members, who
        if who == EDITOR:
            assert plan["activity"] is None
            [error] = result["errors"]
            assert error["path"] == ["plan", "activity"]
            assert error["extensions"]["code"] == FORBIDDEN
        else:
            assert "errors" not in result
            assert plan["activity"]["totalCount"] == 2
            assert [e["node"]["kind"] for e in plan["activity"]["edges"]] == ["MEMBER_ADDED", "MEMBER_ADDED"]
    assert _answer(world.gql(STRANGER).raw(PLAN_ACCESS, {"id": a.id})) == {"data": {"plan": None}}
    viewer = world.gql(EDITOR)("query($id: ID!) { plan(id: $id) { myRole } }", {"id": world.plans["B"].id})
    assert viewer["plan"]["myRole"] == "VIEWER"


def test_me_says_who_the_caller_is(world: World) -> None:
    for who in WHO:
        me = world.gql(who)("query { me { id groups } }")["me"]
        assert me == {"id": USERS[who][0], "groups": [USERS[who][1]]}
    anonymous = GraphQL(world.client, ANONYMOUS_HEADERS)("query { me { id groups plans { totalCount } } }")
    assert anonymous["me"] == {"id": "anonymous", "groups": [], "plans": {"totalCount": 0}}


def test_activity_payload_is_json(world: World) -> None:
    """before/after are AWSJSON: JSON in a string, as AppSync sends it."""
    query = "query($id: ID!) { plan(id: $id) { activity { edges { node { before after } } } } }"
    edges = world.gql(OWNER)(query, {"id": world.plans["A"].id})["plan"]["activity"]["edges"]
    newest = edges[0]["node"]
    assert newest["before"] is None
    assert json.loads(newest["after"]) == {"userId": USERS[EDITOR][0], "role": "EDITOR"}
