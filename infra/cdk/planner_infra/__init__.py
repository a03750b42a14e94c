"""The planner's AWS deployment as CDK constructs, one capability each, composed by ``PlannerStack``."""
