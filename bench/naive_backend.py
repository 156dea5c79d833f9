"""The naive design the seed describes, for comparison only: one Elasticsearch index call per HTTP request.

Same pipeline, same data stream, same durability as ours (the client is answered once Elasticsearch
acknowledged the document). Run by bench/backend_ingest.py; never part of the product.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI, Request

app = FastAPI()
es = AsyncElasticsearch(os.environ["NAIVE_ES_URL"], request_timeout=30)
DATA_STREAM = os.environ["NAIVE_DATA_STREAM"]


@app.post("/logs")
async def post_log(request: Request) -> dict:
    event = await request.json()
    event.setdefault("event", {"id": str(uuid.uuid4())})
    event.setdefault("@timestamp", datetime.now(UTC).isoformat())
    resp = await es.index(
        index=DATA_STREAM, document={"message": json.dumps(event)}, pipeline="logs-logplatform", op_type="create"
    )
    return {"result": resp["result"]}
