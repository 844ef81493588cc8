"""Evidence packs of a group: one self-contained HTML file, or a PDF of it."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from api.audit import record
from api.deps import EnforcementOrInvestigator, EventsDep, SettingsDep, StoreDep
from api.report.gather import gather
from api.report.pdf import to_pdf
from api.report.render import render

router = APIRouter(prefix="/v1/groups", tags=["reports"])

# The pack has no script and loads nothing: opened from the API it gets no rights at all.
PACK_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def _name(group_id: str, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in group_id)[:80]
    return f'attachment; filename="evidence-{safe}.{suffix}"'


@router.get(
    "/{group_id:id}/report.html",
    summary="Evidence pack of a group (self-contained HTML)",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
)
def report_html(
    group_id: str, store: StoreDep, events: EventsDep, caller: EnforcementOrInvestigator
) -> Response:
    page = render(gather(store, events, group_id))
    record(store, caller, "report:html", f"group:{group_id}", "")
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": PACK_POLICY,
                 "content-disposition": _name(group_id, "html").replace("attachment", "inline")},
    )  # fmt: skip


@router.get(
    "/{group_id:id}/report.pdf",
    summary="Evidence pack of a group as PDF (printed by headless Chromium)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def report_pdf(
    group_id: str,
    store: StoreDep,
    events: EventsDep,
    settings: SettingsDep,
    caller: EnforcementOrInvestigator,
) -> Response:
    page = await run_in_threadpool(lambda: render(gather(store, events, group_id)))
    pdf = await run_in_threadpool(to_pdf, page, settings.chromium)
    await run_in_threadpool(record, store, caller, "report:pdf", f"group:{group_id}", "")
    return Response(
        pdf, media_type="application/pdf", headers={"content-disposition": _name(group_id, "pdf")}
    )
