"""GET /admin/spend: ledger totals by team, routed model or UTC day, for `tokenwise spend --url`.

Query: `by` (team | model | day, default team), `since` and `until` (ISO date or time, or epoch
seconds; `since` inclusive, `until` exclusive). Answers the document `tokenwise spend --json`
prints, amounts as exact decimal strings. Protected by the master key, as the rest of the admin
API (`router.api.admin.require_master`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router.api.admin import require_master
from router.api.json import json_response
from router.errors import InvalidRequest
from router.spend import SpendError, document, parse_bound
from router.store.ledger import check_group_by

FLUSH_SECONDS = 1.0  # wait this long for records still on their way to the store


async def admin_spend(request: Request) -> Response:
    services = require_master(request)
    query = request.query_params
    try:
        by = check_group_by(query.get("by", "team"))
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="by") from None
    bounds: dict[str, float | None] = {}
    for name in ("since", "until"):
        text = query.get(name)
        try:
            bounds[name] = parse_bound(text, until=name == "until") if text else None
        except SpendError as exc:
            raise InvalidRequest(str(exc), param=name) from None
    await services.ledger.flush(FLUSH_SECONDS)
    totals = await services.store.ledger_totals(by, bounds["since"], bounds["until"])
    return json_response(document(totals, by, bounds["since"], bounds["until"]))
