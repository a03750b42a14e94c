"""Adapters: the outside world (SQL, Gremlin, HTTP, AWS) plugged into the planning ports."""
