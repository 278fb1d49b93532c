"""dataset_report[request]: the dataset report of a request's delivered transcripts (diversity, coverage,
realism against real callers, planted-PHI recall) as report.json and a self-contained report.html with its
plots, written beside the request's output (``<out>/report/``) or under ``$TRANSCRIPTS_HOME/reports/``.

The asset's metadata carries the headline numbers (plotted across materializations in the UI) and the
report's plots as Markdown images, so the UI shows them without opening the file."""

import base64

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from resources.ledger import Ledger
from transcript_assets.partitions import request_partitions
from transcript_assets.shard_asset import OWNERS
from transcript_foundry.domains.domain_pack import load_domain_packs
from transcript_foundry.report.dataset_report import write_report
from transcript_foundry.report.request_report import report_dir, request_report

PLOTS_IN_METADATA = ("customer_turn_length", "distinct_n", "coverage_scenario", "coverage_emotional_tone")


def _svg_markdown(name: str, svg: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{name}](data:image/svg+xml;base64,{data})"


@asset(
    partitions_def=request_partitions,
    deps=["transcript_library"],
    group_name="reports",
    kinds={"python", "html"},
    owners=OWNERS,
    description=(
        "The dataset report of a request's delivered transcripts: distinct-n, self-BLEU, embedding spread, "
        "openings; coverage of scenarios, tones, caller types, complexity and turn counts against the "
        "request, gaps named; customer turns against real callers (DSTC11): length KS, style, vocabulary, "
        "a classifier two-sample test; recall on the identifiers the plans planted."
    ),
)
def dataset_report(context: AssetExecutionContext, ledger: Ledger) -> MaterializeResult:
    request = ledger.get_request(context.partition_key)
    report = request_report(ledger, request.request_id, load_domain_packs())
    paths = write_report(report, report_dir(request))
    headline = report.headline()
    metadata: dict[str, object] = {
        key: MetadataValue.float(float(value)) if isinstance(value, float) else value
        for key, value in headline.items()
        if value is not None
    }
    metadata["coverage_gap_list"] = MetadataValue.json(report.coverage["gaps"][:20])
    metadata["report"] = MetadataValue.path(str(paths["html"]))
    metadata["plots"] = MetadataValue.md(
        "\n\n".join(_svg_markdown(n, report.plots[n]) for n in PLOTS_IN_METADATA if n in report.plots)
    )
    return MaterializeResult(metadata=metadata)
