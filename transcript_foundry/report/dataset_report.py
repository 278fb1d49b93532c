"""The dataset report of one set of transcripts: diversity, coverage, realism and planted-PHI recall, with
the headline numbers, written as ``report.json`` and a self-contained ``report.html`` (plots inline as
SVG, also saved under ``plots/``).

``build_report`` takes the delivered records and what is known about them (the request, dedup counts, the
planted identifiers' slot records); ``write_report`` writes the folder. Used by the ``dataset_report``
asset after every request and by ``transcripts report FILE`` for any transcript file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from transcript_foundry.phi.planted import PlantedRecall
from transcript_foundry.report.call_text import customer_turns
from transcript_foundry.report.coverage import Requested, coverage
from transcript_foundry.report.diversity import CallEmbedder, diversity
from transcript_foundry.report.realism import Encoder, realism
from transcript_foundry.report.svg_plots import bar_chart, histogram

REPORT_VERSION = "report-v1"


@dataclass
class DatasetReport:
    title: str
    transcripts: int
    diversity: dict[str, Any]
    coverage: dict[str, Any]
    realism: dict[str, Any]
    planted_phi: dict[str, Any] | None
    dedup: dict[str, Any] | None
    plots: dict[str, str] = field(default_factory=dict)  # name -> SVG document
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def headline(self) -> dict[str, Any]:
        """The numbers a user looks at first (summary.json, the CLI, the asset's metadata)."""
        return {
            "transcripts": self.transcripts,
            "distinct_2": self.diversity["distinct_2"],
            "self_bleu": self.diversity["self_bleu"],
            "embedding_spread": self.diversity["embedding_spread"],
            "distinct_openings": self.diversity["distinct_openings"],
            "duplicates_removed_share": (self.dedup or {}).get("removed_share"),
            "coverage_gaps": len(self.coverage["gaps"]),
            "realism_classifier_auc": self.realism.get("classifier_auc"),
            "length_ks_statistic": self.realism.get("length", {}).get("ks_statistic"),
            "planted_phi_recall": self.planted_phi["recall"] if self.planted_phi else None,
            "planted_phi_survivors": len(self.planted_phi["survivors"]) if self.planted_phi else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "title": self.title,
            "created_at": self.created_at,
            "headline": self.headline(),
            "diversity": self.diversity,
            "coverage": self.coverage,
            "realism": self.realism,
            "planted_phi": self.planted_phi,
            "dedup": self.dedup,
            "plots": sorted(self.plots),
        }


def dedup_section(duplicates: int, kept: int, by_rule: Mapping[str, int] | None = None) -> dict[str, Any]:
    """What dedup removed before delivery: ``duplicates`` dropped of ``duplicates + kept`` considered."""
    considered = duplicates + kept
    return {
        "considered": considered,
        "removed": duplicates,
        "removed_share": round(duplicates / considered, 4) if considered else 0.0,
        "by_rule": dict(by_rule or {}),
    }


def _plots(
    div: dict[str, Any], cov: dict[str, Any], real: dict[str, Any], planted: dict[str, Any] | None
) -> dict[str, str]:
    plots = {
        "distinct_n": bar_chart(
            "Distinct n-grams by speaker (1 = no repeats)",
            {
                speaker: {f"distinct-{n}": values[f"distinct_{n}"] for n in (1, 2, 3)}
                for speaker, values in div["by_speaker"].items()
            },
            "unique / all n-grams",
        ),
        "turn_counts": bar_chart(
            "Turns per call", {"calls": {str(k): v for k, v in cov["turns"]["histogram"].items()}}, "calls"
        ),
    }
    for name, dim in cov["dimensions"].items():
        expected = dim["expected"] or list(dim["delivered"])
        total = sum(dim["delivered"].values())
        series = {
            "delivered": {
                v: dim["delivered"].get(v, 0)
                for v in expected + [v for v in dim["delivered"] if v not in expected]
            }
        }
        if dim["expected"]:
            series["target"] = {v: round(total / len(dim["expected"]), 2) for v in dim["expected"]}
        plots[f"coverage_{name}"] = bar_chart(f"Coverage: {name.replace('_', ' ')}", series, "calls")
    lengths = real.get("length", {})
    if lengths.get("generated") and lengths.get("reference"):
        plots["customer_turn_length"] = histogram(
            "Customer turn length: generated vs real callers",
            {"generated": lengths["generated"], "real (reference)": lengths["reference"]},
            x_label="words per customer turn",
        )
    if real.get("style"):
        plots["style"] = bar_chart(
            "Speech style: generated vs real callers",
            {"generated": real["style"]["generated"], "real (reference)": real["style"]["reference"]},
        )
    if planted and planted.get("by_kind"):
        plots["planted_phi_recall"] = bar_chart(
            "Planted identifiers replaced, by kind",
            {"recall": {k: v["recall"] for k, v in planted["by_kind"].items()}},
            "recall",
        )
    return plots


def build_report(
    records: Sequence[Mapping[str, Any]],
    *,
    title: str,
    requested: Requested | None = None,
    reference: Sequence[str] = (),
    embed_calls: CallEmbedder | None = None,
    encode: Encoder | None = None,
    planted: PlantedRecall | None = None,
    dedup: dict[str, Any] | None = None,
) -> DatasetReport:
    div = diversity(records, embed_calls)
    cov = coverage(records, requested)
    real = realism(customer_turns(records), reference, encode) if reference else {"note": "no reference"}
    planted_dict = planted.as_dict() if planted is not None and planted.said else None
    plots = _plots(div, cov, real, planted_dict)
    length = real.get("length")
    if isinstance(length, dict):  # the per-turn lengths are for the plot only, not for report.json
        length.pop("generated", None)
        length.pop("reference", None)
    return DatasetReport(title, len(records), div, cov, real, planted_dict, dedup, plots)


def write_report(report: DatasetReport, folder: Path) -> dict[str, Path]:
    """report.json, report.html (self-contained) and plots/<name>.svg under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plots").mkdir(exist_ok=True)
    for name, svg in report.plots.items():
        (folder / "plots" / f"{name}.svg").write_text(svg, encoding="utf-8")
    data = report.as_dict()
    (folder / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    env = Environment(
        loader=PackageLoader("transcript_foundry.report", "templates"), autoescape=select_autoescape()
    )
    html = env.get_template("report.html.j2").render(report=data, plots=report.plots)
    (folder / "report.html").write_text(html, encoding="utf-8")
    return {"json": folder / "report.json", "html": folder / "report.html", "plots": folder / "plots"}
