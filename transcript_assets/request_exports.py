"""The export assets: one per format, partitioned by request, each with a blocking file-validity check.

``contact_lens_export``, ``ccai_export`` (with a Dialogflow ES agent), ``rasa_export`` and
``custom_json_export`` write a request's delivered transcripts (its first ``count`` accepted, in library
order) to ``<out>/exports/<format>/`` when the request was generated with ``--out``, else to
``$TRANSCRIPTS_HOME/exports/<format>/<request_id>/``. The check ``files_valid`` validates every file the
asset wrote (JSON Schema and consistency rules, or Rasa's pykwalify schemas) and fails naming file and
field.
"""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from resources.ledger import Ledger
from transcript_assets.partitions import request_partitions
from transcript_assets.shard_asset import OWNERS
from transcript_foundry.formats.export_formats import FORMAT_NAMES, export_format, write_export
from transcript_foundry.phi.planted import planted_mentions
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.state.ledger import RequestRow

CHECK_NAME = "files_valid"
PLANTED_CHECK = "no_planted_phi"
KINDS = {"custom_json": {"json"}, "contact_lens": {"json", "aws"}, "ccai": {"json", "gcp"}, "rasa": {"yaml"}}
DESCRIPTIONS = {
    "custom_json": "JSON / JSONL shaped by a mapping file (default: the output contract; shipped: "
    "openai_chat, sharegpt).",
    "contact_lens": "Amazon Connect Contact Lens voice analysis files (v1.1.0), also Lex V2 automated "
    "chatbot designer input; one file per conversation.",
    "ccai": "Google CCAI conversation JSON (Insights / Agent Assist) and a Dialogflow ES agent of intents "
    "with training phrases.",
    "rasa": "Rasa 3.1 training data: data/nlu.yml, data/stories.yml and domain.yml.",
}


class ExportConfig(Config):
    mapping: str | None = None
    """custom_json only: a shipped mapping name (contract, openai_chat, sharegpt) or a mapping file path."""


def export_dir(request: RequestRow, fmt: str) -> Path:
    if request.out_dir:
        return Path(request.out_dir) / "exports" / fmt
    return project_paths().exports_dir / fmt / request.request_id


def build_export_asset(fmt: str) -> AssetsDefinition:
    name = f"{fmt}_export"

    @asset(
        name=name,
        partitions_def=request_partitions,
        deps=["transcript_library"],
        group_name="exports",
        kinds=KINDS[fmt],
        owners=OWNERS,
        description=DESCRIPTIONS[fmt],
        check_specs=[
            AssetCheckSpec(
                CHECK_NAME, asset=name, blocking=True, description="Every written file validates."
            ),
            AssetCheckSpec(
                PLANTED_CHECK,
                asset=name,
                blocking=True,
                description="No identifier a plan planted (name, member ID, date of birth ...) survives, "
                "written or spoken, in any delivered transcript.",
            ),
        ],
    )
    def _export(context: AssetExecutionContext, config: ExportConfig, ledger: Ledger) -> MaterializeResult:
        request = ledger.get_request(context.partition_key)
        slots = ledger.accepted_slots(request.request_id)[: request.count]
        records = [s.transcript for s in slots if s.transcript is not None]
        leaks = [
            {"id": s.slot_id, "turn": m.turn, "kind": m.kind, "form": m.form}
            for s in slots
            if s.transcript is not None
            for m in planted_mentions(
                (s.plan or {}).get("facts") or {}, [t["text"] for t in s.transcript["turns"]]
            )
        ]
        target = export_dir(request, fmt)
        written, problems = write_export(export_format(fmt, config.mapping), records, target)
        if problems:
            context.log.error(f"{len(problems)} problem(s) in {target}: " + "; ".join(problems[:5]))
        return MaterializeResult(
            metadata={
                "transcripts": len(records),
                "files": len(written),
                "folder": MetadataValue.path(str(target)),
                "sample_files": MetadataValue.json(written[:10]),
            },
            check_results=[
                AssetCheckResult(
                    check_name=CHECK_NAME,
                    passed=not problems,
                    severity=AssetCheckSeverity.ERROR,
                    metadata={"problems": MetadataValue.json(problems[:50]), "files_checked": len(written)},
                    description=problems[0] if problems else f"{len(written)} file(s) valid",
                ),
                AssetCheckResult(
                    check_name=PLANTED_CHECK,
                    passed=not leaks,
                    severity=AssetCheckSeverity.ERROR,
                    metadata={"leaks": MetadataValue.json(leaks[:50]), "transcripts_checked": len(records)},
                    description=(
                        f"planted {leaks[0]['kind']} survives in {leaks[0]['id']} turn {leaks[0]['turn']}"
                        f" ({len(leaks)} in all)"
                        if leaks
                        else f"no planted identifier in {len(records)} transcript(s)"
                    ),
                ),
            ],
        )

    return _export


export_assets = [build_export_asset(fmt) for fmt in FORMAT_NAMES]
