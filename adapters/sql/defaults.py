"""The relational store's defaults, in a module of their own: settings read them without
importing SQLAlchemy (``planner --help`` and the server's import stay fast)."""

DEFAULT_DATABASE_URL = "sqlite:///.planner/planner.db"
