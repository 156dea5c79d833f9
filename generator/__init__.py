"""The traffic generator: realistic log events to the log volume and/or the backend."""
