"""Aurora behind RDS Proxy, Neptune and Cognito in the synthesized template."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized


def _only(synthesized: Synthesized, cfn_type: str) -> tuple[str, dict]:
    ((logical_id, resource),) = synthesized.resources(cfn_type).items()
    return logical_id, resource["Properties"]


def test_aurora_postgresql_serverless_v2_encrypted_with_iam_auth_and_a_secret(synthesized: Synthesized) -> None:
    _, cluster = _only(synthesized, "AWS::RDS::DBCluster")
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["StorageEncrypted"] is True
    assert cluster["EnableIAMDatabaseAuthentication"] is True
    assert cluster["DeletionProtection"] is True
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16}
    assert "{{resolve:secretsmanager:" in str(cluster["MasterUserPassword"])
    instances = synthesized.resources("AWS::RDS::DBInstance").values()
    assert {i["Properties"]["DBInstanceClass"] for i in instances} == {"db.serverless"}
    assert all(i["Properties"]["PubliclyAccessible"] is False for i in instances)
    synthesized.template.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule",
        {"RotationRules": {"ScheduleExpression": "rate(30 days)"}},
    )


def test_rds_proxy_requires_iam_auth_and_tls(synthesized: Synthesized) -> None:
    _, proxy = _only(synthesized, "AWS::RDS::DBProxy")
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    (auth,) = proxy["Auth"]
    assert auth["AuthScheme"] == "SECRETS"
    assert auth["IAMAuth"] == "REQUIRED"


def test_functions_connect_to_the_proxy_as_the_database_user_only(synthesized: Synthesized) -> None:
    proxy_id, _ = _only(synthesized, "AWS::RDS::DBProxy")
    connect = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "rds-db:connect"
    ]
    assert len(connect) == 7  # the handler, relay, worker, shard, merge, Planner sync and migration
    for statement in connect:
        parts = statement["Resource"]["Fn::Join"][1]
        assert parts[-3:-1] == [
            ":dbuser:",
            {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [proxy_id, "DBProxyArn"]}]}]},
        ]
        assert parts[-1] == "/planner"


def test_neptune_encrypted_with_iam_auth(synthesized: Synthesized) -> None:
    cluster_id, cluster = _only(synthesized, "AWS::Neptune::DBCluster")
    assert cluster["StorageEncrypted"] is True
    assert cluster["IamAuthEnabled"] is True
    assert cluster["EngineVersion"].startswith("1.3.")
    _, instance = _only(synthesized, "AWS::Neptune::DBInstance")
    assert instance["DBClusterIdentifier"] == {"Ref": cluster_id}
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "adapters.appsync.handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "PLANNER_GRAPH_URL": {
                            "Fn::Join": ["", ["wss://", {"Fn::GetAtt": [cluster_id, "Endpoint"]}, ":8182/gremlin"]]
                        }
                    }
                )
            },
        },
    )


def test_graph_access_is_the_query_actions_on_this_cluster(synthesized: Synthesized) -> None:
    cluster_id, _ = _only(synthesized, "AWS::Neptune::DBCluster")
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "neptune-db:connect" in statement["Action"]
    ]
    assert len(statements) == 4  # the handler, worker, shard and Planner sync
    for statement in statements:
        assert all(a.startswith("neptune-db:") and "*" not in a for a in statement["Action"])
        assert {"Fn::GetAtt": [cluster_id, "ClusterResourceId"]} in statement["Resource"]["Fn::Join"][1]


def test_cognito_groups_and_an_app_client_without_a_secret(synthesized: Synthesized) -> None:
    pool_id, pool = _only(synthesized, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON"
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in synthesized.resources("AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == {"admin", "planner", "viewer"}
    assert all(g["UserPoolId"] == {"Ref": pool_id} for g in groups.values())
    _, client = _only(synthesized, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": pool_id}
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]


def test_private_subnets_with_endpoints(synthesized: Synthesized) -> None:
    endpoints = [e["Properties"] for e in synthesized.resources("AWS::EC2::VPCEndpoint").values()]
    names = {str(e["ServiceName"]) for e in endpoints}
    for service in ("secretsmanager", "sqs", "events", "states", "s3"):
        assert any(service in name for name in names), service
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert interface
    assert all(e["PrivateDnsEnabled"] is True for e in interface)
    subnets = synthesized.resources("AWS::EC2::Subnet").values()
    public = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(public) == 2
    assert len(subnets) == 6
    for function in synthesized.resources("AWS::Lambda::Function").values():
        handler = function["Properties"].get("Handler", "")
        if handler.startswith("adapters.appsync.") and handler != "adapters.appsync.publisher.handler":
            assert function["Properties"]["VpcConfig"]["SubnetIds"], handler
