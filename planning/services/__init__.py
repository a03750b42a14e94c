"""Use cases. Each command runs in one unit of work and records its events in the outbox."""
