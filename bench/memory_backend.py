"""The backend with a sink that acknowledges at once instead of Elasticsearch: the HTTP layer's own ceiling (reading,
validation, micro-batching, answers), for bench/backend_ingest.py. Configured from the environment as
`python -m backend` is."""

from __future__ import annotations

from backend.__main__ import serve
from backend.delivery import INDEXED, ItemStatus
from backend.main import create_app
from backend.settings import get_settings

OK = ItemStatus("ok")


class AcknowledgingSink:
    """Every line acknowledged, none kept (a long run would fill the memory)."""

    stored_as = INDEXED

    async def bulk(self, lines: list[str]) -> list[ItemStatus]:
        return [OK] * len(lines)

    async def close(self) -> None:
        pass


if __name__ == "__main__":
    settings = get_settings()
    serve(create_app(settings, sink=AcknowledgingSink(), search_client=object()), settings)  # type: ignore[arg-type]
