"""Every resolver by GraphQL type and field name.

The AppSync Lambda handler receives ``info.parentTypeName``, ``info.fieldName``, the source and
the arguments of one field; it looks the function up here. Every other field is a plain
attribute of its parent (``title``, ``status``…), in the parent's GraphQL shape.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from resolvers import (
    actions,
    dependencies,
    external_events,
    graph,
    live,
    members,
    node,
    planner_sync,
    plans,
    publish,
    simulations,
    tasks,
)
from resolvers.codec import parent_of
from resolvers.context import RequestContext
from resolvers.ids import to_global_id

#: ``(context, parent, arguments)`` to the field's value, or to an awaitable of it: a field whose
#: answer the request holds already (an id, a page's prefetched neighbours, the plan's forecast)
#: answers at once, which saves an await per object in a list of hundreds.
Resolver = Callable[[RequestContext, Any, dict[str, Any]], Any]


def _global_id(type_name: str) -> Resolver:
    def resolve_id(_ctx: RequestContext, parent: Any, _args: dict[str, Any]) -> str:
        return to_global_id(type_name, parent.id)

    return resolve_id


def _simulation_result(_ctx: RequestContext, parent: Any, _args: dict[str, Any]) -> Any:
    return simulations.result(parent)


#: The types whose ``id`` is the global id of the parent's own id.
GLOBAL_ID_TYPES = ("Plan", "Task", "Dependency", "ExternalEvent", "Simulation", "PlanActivity", "ProposedAction")

RESOLVERS: dict[tuple[str, str], Resolver] = {
    **{(t, "id"): _global_id(t) for t in GLOBAL_ID_TYPES},
    ("Query", "node"): node.node,
    ("Query", "plans"): plans.plans,
    ("Query", "plan"): plans.plan,
    ("Query", "me"): members.me,
    ("Me", "plans"): members.my_plans,
    ("Mutation", "createPlan"): plans.create_plan,
    ("Mutation", "updatePlan"): plans.update_plan,
    ("Mutation", "deletePlan"): plans.delete_plan,
    ("Mutation", "createTask"): tasks.create_task,
    ("Mutation", "updateTask"): tasks.update_task,
    ("Mutation", "deleteTask"): tasks.delete_task,
    ("Mutation", "addDependency"): dependencies.add_dependency,
    ("Mutation", "removeDependency"): dependencies.remove_dependency,
    ("Mutation", "ingestExternalEvent"): external_events.ingest_external_event,
    ("Mutation", "resolveExternalEvent"): external_events.resolve_external_event,
    ("Mutation", "runSimulation"): simulations.run_simulation,
    ("Mutation", "cancelSimulation"): simulations.cancel_simulation,
    ("Mutation", "addPlanMember"): members.add_plan_member,
    ("Mutation", "updatePlanMember"): members.update_plan_member,
    ("Mutation", "removePlanMember"): members.remove_plan_member,
    ("Plan", "taskCount"): plans.task_count,
    ("Plan", "tasks"): plans.tasks,
    ("Plan", "dependencies"): plans.dependencies,
    ("Plan", "externalEvents"): plans.external_events,
    ("Plan", "criticalPath"): graph.critical_path,
    ("Plan", "forecastFinishDate"): graph.forecast_finish_date,
    ("Plan", "latestSimulation"): simulations.latest_simulation,
    ("Plan", "simulations"): simulations.simulations,
    ("Plan", "members"): members.members,
    ("Plan", "myRole"): members.my_role,
    ("Plan", "activity"): members.activity,
    ("Task", "plan"): tasks.plan,
    ("Task", "dependsOn"): tasks.depends_on,
    ("Task", "dependents"): tasks.dependents,
    ("Task", "externalEvents"): tasks.external_events,
    ("Task", "slackDays"): graph.slack_days,
    ("Task", "isCritical"): graph.is_critical,
    ("Task", "forecastStart"): graph.forecast_start,
    ("Task", "forecastFinish"): graph.forecast_finish,
    ("Task", "riskScore"): graph.risk_score,
    ("Task", "upstream"): graph.upstream,
    ("Task", "downstream"): graph.downstream,
    ("Dependency", "predecessor"): dependencies.predecessor,
    ("Dependency", "successor"): dependencies.successor,
    ("ExternalEvent", "affectedTasks"): external_events.affected_tasks,
    ("ExternalEvent", "impact"): graph.impact,
    ("Simulation", "plan"): simulations.plan,
    ("Simulation", "result"): _simulation_result,
    ("TaskCriticality", "task"): simulations.share_task,
    ("TaskSensitivity", "task"): simulations.share_task,
    ("ProposedAction", "parameters"): actions.parameters,
    ("ProposedAction", "expectedImpact"): actions.expected_impact,
    ("ProposedAction", "task"): actions.task,
    ("ProposedAction", "externalEvent"): actions.external_event,
    ("Plan", "proposedActions"): actions.proposed_actions,
    ("Mutation", "proposeActions"): actions.propose_actions,
    ("Mutation", "approveAction"): actions.approve_action,
    ("Mutation", "rejectAction"): actions.reject_action,
    ("Mutation", "syncPlannerPlan"): planner_sync.sync_planner_plan,
    ("Plan", "plannerSync"): planner_sync.planner_sync,
    # The backend's IAM publish mutations: a NONE data source on AppSync; refused everywhere else.
    ("Mutation", "publishPlanEvent"): publish.publish_plan_event,
    ("Mutation", "publishSimulationProgress"): publish.publish_simulation_progress,
    # On AppSync, run once when a client subscribes: who may (the local server's streams check it themselves).
    ("Subscription", "onPlanEvent"): live.may_subscribe_to_plan_events,
    ("Subscription", "onSimulationProgress"): live.may_subscribe_to_simulation_progress,
}


async def resolve(ctx: RequestContext, type_name: str, field_name: str, source: Any, args: dict[str, Any]) -> Any:
    """Resolve one field the way the AppSync handler does: ``source`` is the parent's JSON (see
    ``resolvers.codec``) or, from Python callers, the parent object itself."""
    try:
        resolver = RESOLVERS[(type_name, field_name)]
    except KeyError:
        raise LookupError(f"no resolver for {type_name}.{field_name}") from None
    value = resolver(ctx, parent_of(source), args)
    return await value if inspect.isawaitable(value) else value
