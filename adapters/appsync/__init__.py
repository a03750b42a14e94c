"""AWS AppSync: the direct-resolver Lambda handler and what it runs on."""
