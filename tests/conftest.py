"""Fixtures live in tests/support/ and are registered here once: the search engine under test, the backend
(`memory_backend`) and the real Filebeat (`filebeat`, `stream`)."""

pytest_plugins = [
    "tests.support.search_engine",
    "tests.support.backend_app",
    "tests.support.filebeat",
    "tests.support.queue",
]
