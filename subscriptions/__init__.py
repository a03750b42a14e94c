"""Live updates: the event broker port and the streams behind ``onPlanEvent`` and
``onSimulationProgress`` (their GraphQL types are in ``schema.types.live``)."""
