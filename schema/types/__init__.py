"""The schema's types: their fields, arguments and descriptions.

How a field with a resolver is resolved is said once, in ``resolvers/registry.py``: the built
schema calls that function directly for every Query and object field it names
(``schema/direct_resolvers.py``), as the AppSync handler does. The methods here declare those
fields to Strawberry (their arguments and types) and call the same function.
"""
