"""The one GraphQL schema, served locally by Strawberry and exported for AppSync."""
