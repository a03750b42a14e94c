"""The AppSync API: the schema of ``schema/appsync.graphql``, Cognito user pools by default and IAM
for the backend's publish mutations, a query depth limit, introspection off in production,
field logs and X-Ray.

One Lambda data source (the direct-resolver handler) serves every field that needs data
(``resolver_fields``); nested fields are batched. The publish mutations resolve on a NONE data
source that hands their input back, which is all AppSync needs to push it to subscribers.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .functions import FunctionFactory
from .resolver_fields import PUBLISH_MUTATIONS, ResolverPlan, plan_resolvers_from_file
from .settings import API_HANDLER, Stage

#: Deeper documents are refused by AppSync before any resolver runs (the contract needs 9).
QUERY_DEPTH_LIMIT = 12
#: The publish mutations return their input as the payload AppSync fans out.
PUBLISH_CODE = """
export function request(ctx) {
  return { payload: ctx.args.input ?? ctx.args };
}

export function response(ctx) {
  return ctx.result;
}
"""


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schema_file: Path,
        user_pool: cognito.IUserPool,
        functions: FunctionFactory,
        environment: dict[str, str],
        stage: Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = appsync.GraphqlApi(
            self,
            "Api",
            name=f"planner-{stage.name}",
            definition=appsync.Definition.from_file(str(schema_file)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.USER_POOL,
                    user_pool_config=appsync.UserPoolConfig(user_pool=user_pool),
                ),
                additional_authorization_modes=[
                    appsync.AuthorizationMode(authorization_type=appsync.AuthorizationType.IAM)
                ],
            ),
            log_config=appsync.LogConfig(
                field_log_level=appsync.FieldLogLevel.ERROR,
                exclude_verbose_content=True,
                retention=logs.RetentionDays.ONE_MONTH,
            ),
            xray_enabled=True,
            query_depth_limit=QUERY_DEPTH_LIMIT,
            introspection_config=(
                appsync.IntrospectionConfig.DISABLED if stage.production else appsync.IntrospectionConfig.ENABLED
            ),
        )
        self.handler = functions.make(
            self,
            "Handler",
            handler=API_HANDLER,
            description="AppSync direct resolver: every field that needs data",
            in_vpc=True,
            timeout=Duration.seconds(30),
            memory_size=1769,
            environment=environment,
        )
        self.resolvers = plan_resolvers_from_file(schema_file)
        self.lambda_source = self.api.add_lambda_data_source("Resolvers", self.handler)
        self.publish_source = self.api.add_none_data_source("Publish")
        self._add_resolvers(self.resolvers)

    def _add_resolvers(self, plan: ResolverPlan) -> None:
        for field in plan.lambda_fields:
            self.lambda_source.create_resolver(
                f"{field.type_name}{field.field_name[0].upper()}{field.field_name[1:]}",
                type_name=field.type_name,
                field_name=field.field_name,
                max_batch_size=field.max_batch_size,
            )
        for field in plan.publish_fields:
            self.publish_source.create_resolver(
                f"{field.type_name}{field.field_name[0].upper()}{field.field_name[1:]}",
                type_name=field.type_name,
                field_name=field.field_name,
                runtime=appsync.FunctionRuntime.JS_1_0_0,
                code=appsync.Code.from_inline(PUBLISH_CODE),
            )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """The backend may call the publish mutations, and nothing else of the API."""
        self.api.grant_mutation(grantee, *PUBLISH_MUTATIONS)
