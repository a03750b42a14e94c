"""Thin resolvers: plain async functions of (context, parent, arguments) over planning services.

They know nothing of Strawberry's executor, so the local server's Strawberry fields and the
AppSync Lambda dispatcher (which receives type name, field name, source and arguments) call the
same functions. Arguments come as GraphQL shapes: camelCase keys, scalars either parsed or in
their wire form (ISO dates, JSON strings), omitted keys meaning "not sent".
"""
