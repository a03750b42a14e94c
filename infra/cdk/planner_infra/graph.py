"""Amazon Neptune for the dependency graph: encrypted, IAM database auth on, serverless, in the
isolated subnets, reachable from the functions' security group only."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_neptune as neptune
from constructs import Construct

from .settings import Stage

GREMLIN_PORT = 8182
#: TinkerPop 3.7 (gremlinpython >=3.7.1,<3.8) runs on Neptune 1.3.2.0 and later.
ENGINE_VERSION = "1.3.2.1"
#: Only what the traversals do: connect, read, write and delete through queries.
DATA_ACTIONS = (
    "neptune-db:connect",
    "neptune-db:ReadDataViaQuery",
    "neptune-db:WriteDataViaQuery",
    "neptune-db:DeleteDataViaQuery",
)


class Graph(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, clients: ec2.ISecurityGroup, stage: Stage
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(self, "Sg", vpc=vpc, description="planner Neptune cluster")
        self.security_group.add_ingress_rule(clients, ec2.Port.tcp(GREMLIN_PORT), "functions to Gremlin")
        subnets = neptune.CfnDBSubnetGroup(
            self,
            "Subnets",
            db_subnet_group_description="planner Neptune (isolated subnets)",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.cluster = neptune.CfnDBCluster(
            self,
            "Cluster",
            engine_version=ENGINE_VERSION,
            storage_encrypted=True,
            iam_auth_enabled=True,
            db_subnet_group_name=subnets.ref,
            vpc_security_group_ids=[self.security_group.security_group_id],
            serverless_scaling_configuration=neptune.CfnDBCluster.ServerlessScalingConfigurationProperty(
                min_capacity=1, max_capacity=8
            ),
            backup_retention_period=14 if stage.production else 1,
            deletion_protection=stage.production,
            enable_cloudwatch_logs_exports=["audit"],
            copy_tags_to_snapshot=True,
        )
        self.instance = neptune.CfnDBInstance(
            self,
            "Writer",
            db_instance_class="db.serverless",
            db_cluster_identifier=self.cluster.ref,
            auto_minor_version_upgrade=True,
        )
        #: The Gremlin endpoint as adapters/graph reads it: wss:// means Neptune with SigV4 signing.
        self.environment = {"PLANNER_GRAPH_URL": f"wss://{self.cluster.attr_endpoint}:{GREMLIN_PORT}/gremlin"}

    def grant_data(self, grantee: iam.IGrantable) -> None:
        """Query access to this cluster alone (its resource id), through IAM database auth."""
        stack = Stack.of(self)
        cluster_arn = stack.format_arn(
            service="neptune-db", resource=self.cluster.attr_cluster_resource_id, resource_name="*"
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=list(DATA_ACTIONS), resource_arns=[cluster_arn])
