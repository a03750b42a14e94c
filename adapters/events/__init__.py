"""Consumers of the outbox: the graph projection now; subscriptions and EventBridge later."""
