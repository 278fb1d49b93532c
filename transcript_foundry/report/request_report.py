"""The dataset report of one request, from the ledger: its delivered transcripts (the first ``count``
accepted), what it asked for, what dedup removed, and the planted identifiers each slot's raw call said
and the scrubber left. Written to ``<out>/report/`` (``--out``) or ``$TRANSCRIPTS_HOME/reports/<id>/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.phi.planted import PlantedRecall
from transcript_foundry.report.coverage import requested_from_spec
from transcript_foundry.report.dataset_report import DatasetReport, build_report, dedup_section
from transcript_foundry.report.realism import load_reference
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.state.ledger import RequestLedger, RequestRow


def report_dir(request: RequestRow) -> Path:
    if request.out_dir:
        return Path(request.out_dir) / "report"
    return project_paths().reports_dir / request.request_id


def request_report(
    ledger: RequestLedger, request_id: str, packs: dict[str, DomainPack], *, embeddings: bool = True
) -> DatasetReport:
    """``embeddings`` False skips the MiniLM parts (embedding spread, the classifier test)."""
    request = ledger.get_request(request_id)
    spec = JobSpec.model_validate(request.spec)
    delivered = ledger.accepted_slots(request_id)[: spec.count]
    records = [s.transcript for s in delivered if s.transcript is not None]
    planted = PlantedRecall()
    for slot in delivered:
        if slot.planted is not None:
            planted.add_slot_record(slot.slot_id, slot.planted)
    counts = ledger.state_counts(request_id)
    embed_calls, encode = (None, None)
    if embeddings:
        from transcript_foundry.dedup.call_embeddings import call_embedder
        from transcript_foundry.quality.coherence.embedding import default_encoder

        embed_calls, encode = call_embedder(None)[0], default_encoder()
    return build_report(
        records,
        title=f"{request.request_text} ({request_id})",
        requested=requested_from_spec(spec, packs.get(spec.domain)),
        reference=load_reference(),
        embed_calls=embed_calls,
        encode=encode,
        planted=planted,
        dedup=dedup_section(counts["duplicate"], counts["accepted"], ledger.duplicates_by_rule(request_id)),
    )


def written_headline(request: RequestRow) -> tuple[dict[str, Any], Path] | None:
    """The headline of the request's report.json and its report.html, when the report has been written."""
    path = report_dir(request) / "report.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["headline"], path.with_name("report.html")
