"""AppSync's own directives, as Strawberry schema directives that print no definition.

AppSync declares ``@aws_iam``, ``@aws_cognito_user_pools`` and ``@aws_subscribe`` itself and
refuses a schema that declares them again, so ``print_definition=False``: the types and fields
carry them, ``schema/appsync.graphql`` has no declaration of them. ``schema/schema.graphql`` (for
tools that know nothing of AppSync: the frontend's validation, graphql-core) gets the
declarations of ``DECLARATIONS`` in front (``schema.export``).

Cognito user pools are the API's default authorization mode; a type or field that carries any
auth directive is reachable only by the modes it names, so what the backend publishes through
IAM carries both (``BOTH``), and the publish mutations carry IAM alone.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    name="aws_iam",
    locations=[Location.OBJECT, Location.FIELD_DEFINITION],
    description="Reachable with AWS IAM (SigV4) credentials.",
    print_definition=False,
)
class AwsIam:
    pass


@strawberry.schema_directive(
    name="aws_cognito_user_pools",
    locations=[Location.OBJECT, Location.FIELD_DEFINITION],
    description="Reachable with a Cognito user pools token (the API's default mode).",
    print_definition=False,
)
class AwsCognitoUserPools:
    cognito_groups: list[str] | None = strawberry.UNSET


@strawberry.schema_directive(
    name="aws_subscribe",
    locations=[Location.FIELD_DEFINITION],
    description="The subscription receives what these mutations return.",
    print_definition=False,
)
class AwsSubscribe:
    mutations: list[str]


def both() -> list[object]:
    """A type the backend publishes (IAM) and users subscribe to (Cognito)."""
    return [AwsIam(), AwsCognitoUserPools()]


def iam_only() -> list[object]:
    return [AwsIam()]


def subscribe(*mutations: str) -> list[object]:
    return [AwsSubscribe(mutations=list(mutations))]


#: What AppSync declares for the directives used here, for the schema file read without AppSync.
DECLARATIONS = '''"""Reachable with AWS IAM (SigV4) credentials (AppSync's own directive)."""
directive @aws_iam on OBJECT | FIELD_DEFINITION

"""Reachable with a Cognito user pools token (AppSync's own directive)."""
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION

"""The subscription receives what these mutations return (AppSync's own directive)."""
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
'''
