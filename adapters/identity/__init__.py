"""Who is calling: bearer tokens (Cognito, any OIDC issuer, the local development signer) and,
in development only, identity headers. ``build_identity`` wires them from the settings."""

from __future__ import annotations

from adapters.config import Settings
from adapters.identity.authenticator import Authenticator
from adapters.identity.local import LOCAL_CLIENT_ID, LOCAL_ISSUER, LocalSigner, local_verifier
from adapters.identity.tokens import (
    KeysUnavailable,
    TokenPolicy,
    TokenVerifier,
    key_source,
    principal_from_claims,
)
from planning.ports.identity import Credentials, Unauthenticated

__all__ = [
    "LOCAL_CLIENT_ID",
    "LOCAL_ISSUER",
    "Authenticator",
    "Credentials",
    "KeysUnavailable",
    "LocalSigner",
    "TokenPolicy",
    "TokenVerifier",
    "Unauthenticated",
    "build_identity",
    "local_signer",
    "principal_from_claims",
]

#: Clock skew forgiven on an external issuer's tokens (the local signer shares our clock).
EXTERNAL_LEEWAY_S = 10.0


def local_signer(settings: Settings) -> LocalSigner:
    """The development signer of this data folder (``planner token issue`` and the server agree)."""
    return LocalSigner(settings.local_data_dir)


def build_identity(settings: Settings) -> Authenticator:
    """Production trusts the configured issuer only and requires a token; development trusts the
    configured issuer (if any) and the local signer, then headers (if allowed), then nobody."""
    verifiers = []
    if settings.auth_issuer and settings.auth_jwks_url:
        policy = TokenPolicy(
            issuer=settings.auth_issuer,
            audience=frozenset(settings.auth_audience),
            token_use=frozenset(settings.auth_token_use),
            groups_claim=settings.auth_groups_claim,
            leeway_s=EXTERNAL_LEEWAY_S,
        )
        verifiers.append(TokenVerifier(policy, key_source(settings.auth_jwks_url)))
    if not settings.production:
        verifiers.append(local_verifier(local_signer(settings)))
    return Authenticator(
        verifiers,
        require_token=settings.production,
        trust_headers=settings.identity_headers and not settings.production,
    )
