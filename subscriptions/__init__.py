"""Subscription fields and the event broker port (live updates arrive with their own issue)."""
