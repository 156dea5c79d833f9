"""python -m backend: serve with uvicorn, logging as ECS JSON to the log volume."""

from __future__ import annotations

import os

import uvicorn

from backend.main import create_app
from backend.settings import get_settings
from logplatform.ecs_logging import setup_logging


def main() -> None:
    settings = get_settings()
    setup_logging(
        "backend", settings.log_dir if settings.log_to_file else None, settings.log_level, settings.log_console_format
    )
    uvicorn.run(
        create_app(settings),
        host=os.environ.get("LOGPLATFORM_HOST", "0.0.0.0"),
        port=int(os.environ.get("LOGPLATFORM_PORT", "8000")),
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
        limit_concurrency=settings.max_connections,
    )


if __name__ == "__main__":
    main()
