"""AWS Lambda entry points: the AppSync resolver, the publish path, the simulation fan-out, upkeep."""
