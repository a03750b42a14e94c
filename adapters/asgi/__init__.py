"""The local server: the schema over HTTP with GraphiQL, plus a health check."""
