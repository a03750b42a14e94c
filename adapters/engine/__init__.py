"""The simulation engine behind the planning ports."""
