"""Aurora PostgreSQL Serverless v2, encrypted, behind RDS Proxy with IAM auth.

The cluster's master credentials are a Secrets Manager secret (rotated); the proxy reads it and
the functions connect to the proxy as ``DATABASE_USER`` with an IAM token instead of a password
(``grant_connect``). The schema is migrated by a one-off function that a CDK trigger runs on
deploy, after the cluster and the proxy exist and whenever the function's code changes.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from .functions import FunctionFactory
from .settings import DATABASE_NAME, DATABASE_USER, MIGRATE_HANDLER, Stage

POSTGRES_PORT = 5432


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        clients: ec2.ISecurityGroup,
        functions: FunctionFactory,
        stage: Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(self, "ClusterSg", vpc=vpc, description="planner Aurora cluster")
        proxy_sg = ec2.SecurityGroup(self, "ProxySg", vpc=vpc, description="planner RDS Proxy")
        proxy_sg.add_ingress_rule(clients, ec2.Port.tcp(POSTGRES_PORT), "functions to the proxy")
        self.security_group.add_ingress_rule(proxy_sg, ec2.Port.tcp(POSTGRES_PORT), "proxy to the cluster")
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_16_6),
            credentials=rds.Credentials.from_generated_secret(DATABASE_USER),
            default_database_name=DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            readers=[rds.ClusterInstance.serverless_v2("Reader", scale_with_writer=True)],
            serverless_v2_min_capacity=0.5,
            serverless_v2_max_capacity=16,
            storage_encrypted=True,
            iam_authentication=True,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.security_group],
            backup=rds.BackupProps(retention=Duration.days(14 if stage.production else 1)),
            cloudwatch_logs_exports=["postgresql"],
            deletion_protection=stage.production,
            removal_policy=RemovalPolicy.SNAPSHOT if stage.production else RemovalPolicy.DESTROY,
        )
        assert self.cluster.secret is not None
        self.secret = self.cluster.secret
        self.cluster.add_rotation_single_user(automatically_after=Duration.days(30))
        self.proxy = self.cluster.add_proxy(
            "Proxy",
            secrets=[self.secret],
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[proxy_sg],
            iam_auth=True,
            require_tls=True,
            debug_logging=False,
        )
        #: What a function needs to reach the database: the SQLAlchemy URL without a password
        #: (the handler signs an IAM token for it) and the secret's ARN for tools that use it.
        self.environment = {
            "PLANNER_DATABASE_URL": (
                f"postgresql+psycopg://{DATABASE_USER}@{self.proxy.endpoint}:{POSTGRES_PORT}/{DATABASE_NAME}"
                "?sslmode=require"
            ),
            "PLANNER_DATABASE_IAM_AUTH": "1",
            "PLANNER_DATABASE_SECRET_ARN": self.secret.secret_arn,
        }
        self.migrate = functions.make(
            self,
            "Migrate",
            handler=MIGRATE_HANDLER,
            description="Runs the Alembic migrations once per deploy (a CDK trigger)",
            in_vpc=True,
            timeout=Duration.minutes(10),
            environment=self.environment,
        )
        self.grant_connect(self.migrate)
        self.migration = triggers.Trigger(
            self,
            "Migration",
            handler=self.migrate,
            execute_after=[self.cluster, self.proxy],
            execute_on_handler_change=True,
            timeout=Duration.minutes(10),
        )

    def grant_connect(self, grantee: iam.IGrantable) -> None:
        """IAM auth through the proxy as the database user; nothing else of the database."""
        self.proxy.grant_connect(grantee, DATABASE_USER)
