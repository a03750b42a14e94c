"""The planning domain: model, commands, ports and services. Standard library only."""
