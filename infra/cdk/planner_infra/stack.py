"""The whole deployment: one construct per capability, wired with grant methods (least privilege)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .api import Api
from .database import Database
from .events import Events
from .functions import FunctionFactory
from .graph import Graph
from .identity import Identity
from .network import Network
from .observability import Observability
from .schedules import Schedules
from .settings import APPSYNC_SCHEMA, Stage
from .simulation import Simulation


class PlannerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        dependencies_dir: Path,
        schema_file: Path = APPSYNC_SCHEMA,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.network = Network(self, "Network")
        functions = FunctionFactory(
            self,
            stage,
            dependencies_dir,
            vpc=self.network.vpc,
            security_group=self.network.functions_security_group,
        )
        clients = self.network.functions_security_group
        self.identity = Identity(self, "Identity", stage=stage)
        self.database = Database(
            self, "Database", vpc=self.network.vpc, clients=clients, functions=functions, stage=stage
        )
        self.graph = Graph(self, "Graph", vpc=self.network.vpc, clients=clients, stage=stage)
        stores = {**self.database.environment, **self.graph.environment}

        self.simulation = Simulation(self, "Simulation", functions=functions, environment=stores)
        self.api = Api(
            self,
            "Api",
            schema_file=schema_file,
            user_pool=self.identity.user_pool,
            functions=functions,
            environment={
                **stores,
                **self.identity.environment,
                "PLANNER_SIMULATION_QUEUE_URL": self.simulation.queue.queue_url,
            },
            stage=stage,
        )
        self.events = Events(
            self,
            "Events",
            functions=functions,
            database_environment=self.database.environment,
            publisher_environment={"PLANNER_APPSYNC_URL": self.api.api.graphql_url},
            stage=stage,
        )
        self.schedules = Schedules(self, "Schedules", functions=functions, environment=stores)

        self.api.grant_publish(self.events.publisher)
        self.simulation.grant_enqueue(self.api.handler)
        for function in (
            self.api.handler,
            self.events.relay,
            self.simulation.worker,
            self.simulation.shard,
            self.simulation.merge,
            self.schedules.planner_sync,
        ):
            self.database.grant_connect(function)
        for function in (self.api.handler, self.simulation.worker, self.simulation.shard, self.schedules.planner_sync):
            self.graph.grant_data(function)

        self.observability = Observability(
            self,
            "Observability",
            api=self.api.api,
            functions={
                "Api": self.api.handler,
                **self.events.functions,
                **self.simulation.functions,
                "PlannerSync": self.schedules.planner_sync,
                "Migrate": self.database.migrate,
            },
            dead_letter_queues={
                **self.events.dead_letter_queues,
                "SimulationRuns": self.simulation.dlq,
                "PlannerSync": self.schedules.dlq,
            },
            state_machine=self.simulation.state_machine,
        )
        CfnOutput(self, "GraphqlUrl", value=self.api.api.graphql_url)
        CfnOutput(self, "UserPoolId", value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.identity.client.user_pool_client_id)
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
