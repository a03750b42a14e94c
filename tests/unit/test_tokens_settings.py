"""The identity settings: a Cognito user pool or any OIDC issuer, the local data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.config import Settings
from adapters.identity import LOCAL_ISSUER, build_identity


def test_a_cognito_user_pool_gives_issuer_jwks_and_token_uses() -> None:
    settings = Settings.from_env(
        {"PLANNER_COGNITO_USER_POOL_ID": "eu-west-1_AbC123", "PLANNER_AUTH_AUDIENCE": "client-1, client-2"}
    )
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    assert settings.auth_issuer == issuer
    assert settings.auth_jwks_url == f"{issuer}/.well-known/jwks.json"
    assert settings.auth_audience == ("client-1", "client-2")
    assert settings.auth_token_use == ("id", "access")
    assert settings.auth_groups_claim == "cognito:groups"
    in_region = Settings.from_env(
        {"PLANNER_COGNITO_USER_POOL_ID": "eu-west-1_AbC123", "AWS_REGION": "eu-west-1", "PLANNER_AUTH_AUDIENCE": "c"}
    )
    assert in_region.auth_issuer == issuer


def test_any_oidc_issuer() -> None:
    settings = Settings.from_env(
        {
            "PLANNER_AUTH_ISSUER": "https://login.example.com/",
            "PLANNER_AUTH_AUDIENCE": "web",
            "PLANNER_AUTH_GROUPS_CLAIM": "groups",
            "PLANNER_AUTH_JWKS_URL": "/etc/planner/jwks.json",
        }
    )
    assert settings.auth_issuer == "https://login.example.com"
    assert settings.auth_jwks_url == "/etc/planner/jwks.json"
    assert settings.auth_token_use == ()  # other issuers do not say token_use
    assert settings.auth_groups_claim == "groups"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLANNER_COGNITO_USER_POOL_ID": "AbC123", "PLANNER_AUTH_AUDIENCE": "c"}, "must look like"),
        ({"PLANNER_COGNITO_USER_POOL_ID": "eu-west-1_AbC123"}, "PLANNER_AUTH_AUDIENCE"),
        ({"PLANNER_AUTH_ISSUER": "https://login.example.com"}, "PLANNER_AUTH_AUDIENCE"),
        ({"PLANNER_AUTH_ISSUER": "login.example.com", "PLANNER_AUTH_AUDIENCE": "c"}, "issuer's URL"),
        ({"PLANNER_AUTH_AUDIENCE": "c"}, "need PLANNER_AUTH_ISSUER"),
        (
            {
                "PLANNER_AUTH_ISSUER": "https://x.example.com",
                "PLANNER_AUTH_AUDIENCE": "c",
                "PLANNER_AUTH_TOKEN_USE": "refresh",
            },
            "id and access",
        ),
        (
            {
                "PLANNER_COGNITO_USER_POOL_ID": "eu-west-1_AbC123",
                "PLANNER_AUTH_ISSUER": "https://login.example.com",
                "PLANNER_AUTH_AUDIENCE": "c",
            },
            "not the user pool's issuer",
        ),
    ],
)
def test_incomplete_or_contradictory_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_the_local_data_folder() -> None:
    assert Settings.from_env({}).local_data_dir == Path(".planner")
    assert Settings.from_env({"PLANNER_DATABASE_URL": "sqlite:////srv/p/planner.db"}).local_data_dir == Path("/srv/p")
    on_postgres = {"PLANNER_DATABASE_URL": "postgresql+psycopg://u:p@db/planner"}
    assert Settings.from_env(on_postgres).local_data_dir == Path(".planner")
    assert Settings.from_env({**on_postgres, "PLANNER_DATA_DIR": "/var/lib/planner"}).local_data_dir == Path(
        "/var/lib/planner"
    )


def test_production_trusts_only_the_configured_issuer_and_never_headers() -> None:
    env = {"PLANNER_ENV": "production", "PLANNER_IDENTITY_HEADERS": "1"}
    bare = build_identity(Settings.from_env(env))
    assert bare.require_token
    assert not bare.trust_headers
    assert bare.verifiers == ()
    configured = build_identity(
        Settings.from_env({**env, "PLANNER_COGNITO_USER_POOL_ID": "eu-west-1_AbC123", "PLANNER_AUTH_AUDIENCE": "c"})
    )
    assert [v.issuer for v in configured.verifiers] == ["https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"]


def test_development_trusts_the_local_signer_and_headers_unless_turned_off() -> None:
    development = build_identity(Settings.from_env({}))
    assert [v.issuer for v in development.verifiers] == [LOCAL_ISSUER]
    assert development.trust_headers
    assert not development.require_token
    assert not build_identity(Settings.from_env({"PLANNER_IDENTITY_HEADERS": "0"})).trust_headers
