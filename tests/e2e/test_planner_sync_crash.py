"""A ``planner sync`` process killed in the middle of a page: no half page is stored, the plan's
sync lock dies with the process, and the next sync completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.config import Settings
from adapters.sql import SqlUnitOfWork
from planning.commands import CreatePlan
from planning.principal import Principal
from tests.fake_graph import TOKEN, FakeGraphServer, FakeGraphState

PLANNER_PLAN = "crash-plan"
ADMIN = Principal("ada@example.com", frozenset({"admin"}))


def test_a_sync_killed_mid_page_leaves_whole_pages(database_url: str, tmp_path: Path) -> None:
    state = FakeGraphState(page_size=10)
    state.add_user("u1", "ann@contoso.com")
    ids = state.add_plan(PLANNER_PLAN, 25, ["u1"], date(2027, 2, 1))
    # The sixth task of the second page is assigned to someone whose lookup never answers.
    state.add_user("u-slow", "slow@contoso.com")
    state.change(PLANNER_PLAN, ids[15], assignments={"u-slow": {"@odata.type": "#microsoft.graph.plannerAssignment"}})
    state.hold("/users/u-slow")
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db",
    }
    settings = Settings(database_url=database_url, graph_url=f"gremlite:{tmp_path}/graph.db", data_dir=str(tmp_path))

    with FakeGraphServer(state) as fake:
        env |= {"PLANNER_MSGRAPH_URL": fake.url, "PLANNER_MSGRAPH_TOKEN": TOKEN}
        setup = bootstrap(settings)
        plan = setup.services.plans.create(CreatePlan(name="Launch", planner_plan_id=PLANNER_PLAN), ADMIN)
        setup.close()

        command = [sys.executable, "-m", "adapters.cli", "sync", plan.id]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while state.count("/users/u-slow") == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the sync never reached the second page"
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        state.mend()

        app = bootstrap(replace(settings, msgraph_url=fake.url, msgraph_token=TOKEN))
        try:
            stored = {t.planner_task_id for t in app.services.tasks.for_plan(ADMIN, plan.id)}
            assert stored == set(ids[:10])  # the first page whole, nothing of the second
            with SqlUnitOfWork(app.engine) as uow:
                before = uow.outbox.last_position()
            assert app.services.planner_sync is not None
            report = app.services.planner_sync.sync(plan.id, ADMIN)  # the killed holder's lock is gone
            assert (report.created, report.unchanged) == (15, 10)
            with SqlUnitOfWork(app.engine) as uow:
                kinds = Counter(m.event.kind.value for m in uow.outbox.read_after(before, 100))
            assert kinds == Counter({"TASK_CREATED": 15, "PLANNER_SYNC_STARTED": 1, "PLANNER_SYNC_COMPLETED": 1})
            assert len(app.services.tasks.for_plan(ADMIN, plan.id)) == 25
        finally:
            app.close()
