"""The Log-Platform backend: `POST /logs` for services that cannot write to the log volume."""
