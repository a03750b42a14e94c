"""The demo plan shipped with the local server."""
