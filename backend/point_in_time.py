"""A point in time on the data stream, paged with search_after: what GET /logs/export reads through.

Elasticsearch's API (`POST /<index>/_pit`, a search naming `pit`, `DELETE /_pit`). The test engine, OpenSearch,
names the open and close calls differently; the test-only compatibility proxy translates those two
(tests/support/es_compat_proxy.py), the searches are the same on both.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.errors import engine_errors

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

KEEP_ALIVE = "2m"  # per page: the view lives while the export reads on
SORT = [{"@timestamp": {"order": "desc"}}, {"_shard_doc": {"order": "desc"}}]


@dataclass
class Page:
    hits: list[dict[str, Any]]
    total: int


class PointInTime:
    def __init__(self, client: AsyncElasticsearch, index: str, refused_field: str | None = None) -> None:
        self.client = client
        self.index = index
        self.refused_field = refused_field  # the parameter a query the engine refuses came from (a 400 naming it)
        self.pit_id: str | None = None

    async def first_page(self, query: dict[str, Any], size: int) -> Page:
        """Opens the view and reads its first page; no data stream yet is an empty view."""
        from elasticsearch import NotFoundError

        with engine_errors():
            try:
                opened = await self.client.open_point_in_time(index=self.index, keep_alive=KEEP_ALIVE)
            except NotFoundError:
                return Page([], 0)
        self.pit_id = opened["id"]
        try:
            return await self._search(query, size, None, total=True)
        except BaseException:
            await self.close()
            raise

    async def next_page(self, query: dict[str, Any], size: int, after: list[Any]) -> list[dict[str, Any]]:
        return (await self._search(query, size, after, total=False)).hits

    async def close(self) -> None:
        if self.pit_id is not None:
            pit_id, self.pit_id = self.pit_id, None
            with contextlib.suppress(Exception):  # the engine frees it after KEEP_ALIVE anyway
                await self.client.close_point_in_time(id=pit_id)

    async def _search(self, query: dict[str, Any], size: int, after: list[Any] | None, total: bool) -> Page:
        assert self.pit_id is not None
        with engine_errors(self.refused_field):
            resp = await self.client.search(
                pit={"id": self.pit_id, "keep_alive": KEEP_ALIVE},
                query=query,
                sort=SORT,
                size=size,
                track_total_hits=total,
                search_after=after,
            )
        self.pit_id = resp.get("pit_id", self.pit_id)  # the engine may hand back a newer id
        hits: list[dict[str, Any]] = resp["hits"]["hits"]
        return Page(hits, int(resp["hits"]["total"]["value"]) if total else 0)
