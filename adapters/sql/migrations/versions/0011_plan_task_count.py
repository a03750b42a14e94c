"""plans.task_count: each plan's number of tasks, kept by the database itself

A list of plans with their task counts (the contract's PlanList) then reads one row a plan
instead of counting the tasks of its page in a second statement. Triggers on ``tasks`` move the
count in the transaction of every insert, delete or move of a task, whatever code runs it (an
older release still serving during a deploy, a script): it cannot drift. It is filled from the
tasks already stored here.

On SQLite, a later migration that rebuilds ``tasks`` in batch mode (copy and rename) drops its
triggers with the old table: such a migration must create them again (``TRIGGERS``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _counting(function: str, transition: str, sign: str) -> str:
    """A PostgreSQL trigger function that moves each plan's count by its rows in ``transition``."""
    return f"""
    CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE plans SET task_count = plans.task_count {sign} changed.n
        FROM (SELECT plan_id, count(*) AS n FROM {transition} GROUP BY plan_id) AS changed
        WHERE plans.id = changed.plan_id;
        RETURN NULL;
    END $$
    """


#: PostgreSQL: one update a plan for each statement (a plan import inserts thousands of tasks in
#: one), from the statement's transition tables; a move between plans, row by row.
POSTGRESQL = (
    _counting("plans_count_added_tasks", "added_tasks", "+"),
    _counting("plans_count_removed_tasks", "removed_tasks", "-"),
    """
    CREATE FUNCTION plans_count_moved_task() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE plans SET task_count = task_count - 1 WHERE id = OLD.plan_id;
        UPDATE plans SET task_count = task_count + 1 WHERE id = NEW.plan_id;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER tasks_counted_in AFTER INSERT ON tasks REFERENCING NEW TABLE AS added_tasks"
    " FOR EACH STATEMENT EXECUTE FUNCTION plans_count_added_tasks()",
    "CREATE TRIGGER tasks_counted_out AFTER DELETE ON tasks REFERENCING OLD TABLE AS removed_tasks"
    " FOR EACH STATEMENT EXECUTE FUNCTION plans_count_removed_tasks()",
    "CREATE TRIGGER tasks_counted_moved AFTER UPDATE OF plan_id ON tasks FOR EACH ROW"
    " WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id) EXECUTE FUNCTION plans_count_moved_task()",
)

#: SQLite has row triggers only.
SQLITE = (
    "CREATE TRIGGER tasks_counted_in AFTER INSERT ON tasks"
    " BEGIN UPDATE plans SET task_count = task_count + 1 WHERE id = NEW.plan_id; END",
    "CREATE TRIGGER tasks_counted_out AFTER DELETE ON tasks"
    " BEGIN UPDATE plans SET task_count = task_count - 1 WHERE id = OLD.plan_id; END",
    "CREATE TRIGGER tasks_counted_moved AFTER UPDATE OF plan_id ON tasks WHEN OLD.plan_id IS NOT NEW.plan_id"
    " BEGIN UPDATE plans SET task_count = task_count - 1 WHERE id = OLD.plan_id;"
    " UPDATE plans SET task_count = task_count + 1 WHERE id = NEW.plan_id; END",
)

TRIGGERS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("task_count", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE plans SET task_count = (SELECT count(*) FROM tasks WHERE tasks.plan_id = plans.id)")
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("tasks_counted_in", "tasks_counted_out", "tasks_counted_moved"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON tasks" if _postgresql() else ""))
    if _postgresql():
        for function in ("plans_count_added_tasks", "plans_count_removed_tasks", "plans_count_moved_task"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("task_count")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
