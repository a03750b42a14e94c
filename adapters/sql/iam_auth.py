"""RDS IAM authentication: a fresh token as the password of every new connection.

``PLANNER_DATABASE_IAM_AUTH=1`` (set by the CDK app for RDS Proxy) means the database URL has no
password: each new DBAPI connection gets one from ``rds.generate_db_auth_token`` (valid 15
minutes, so never cached beyond a connection), through SQLAlchemy's ``do_connect`` event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def use_iam_auth(engine: Engine, rds_client: Any, region: str | None = None) -> None:
    """Make ``engine`` connect with an RDS IAM token for its URL's host, port and user."""
    url = engine.url
    if not url.host or not url.username:
        raise ValueError("IAM database auth needs a host and a user in PLANNER_DATABASE_URL")

    @event.listens_for(engine, "do_connect")
    def _token(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = rds_client.generate_db_auth_token(
            DBHostname=url.host,
            Port=url.port or 5432,
            DBUsername=url.username,
            **({"Region": region} if region else {}),
        )
