"""The written report: report.json's sections and headline, and report.html in a real headless Chromium
with every plot rendered (no broken image, no console error), a screenshot kept under the test's folder."""

import json
from pathlib import Path

from tests.support.browser import chromium_page
from tests.support.golden_files import sample_records
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.phi.planted import PlantedRecall
from transcript_foundry.report.coverage import requested_from_spec
from transcript_foundry.report.dataset_report import build_report, dedup_section, write_report
from transcript_foundry.report.realism import load_reference


def _report(tmp_path: Path) -> tuple[dict, Path]:
    records = sample_records()
    planted = PlantedRecall()
    planted.add_slot_record(
        records[0]["id"],
        {
            "said": [
                {"turn": 3, "kind": "member_id", "form": "spoken"},
                {"turn": 5, "kind": "person_name", "form": "written"},
            ],
            "survived": [{"turn": 3, "kind": "member_id", "form": "spoken"}],
        },
    )
    report = build_report(
        records,
        title="sample set",
        requested=requested_from_spec(JobSpec(count=4, domain="healthcare"), None),
        reference=load_reference(),
        planted=planted,
        dedup=dedup_section(1, 4, {"exact": 1}),
    )
    paths = write_report(report, tmp_path / "report")
    return json.loads(paths["json"].read_text()), paths["html"]


def test_report_json_has_every_section_and_the_headline(tmp_path: Path) -> None:
    data, html = _report(tmp_path)
    assert set(data) >= {"headline", "diversity", "coverage", "realism", "planted_phi", "dedup", "plots"}
    headline = data["headline"]
    assert headline["transcripts"] == 4 and headline["duplicates_removed_share"] == 0.2
    assert headline["planted_phi_recall"] == 0.5 and headline["planted_phi_survivors"] == 1
    assert data["planted_phi"]["by_form"]["spoken"] == {"said": 1, "survived": 1, "recall": 0.0}
    assert data["planted_phi"]["by_kind"]["person_name"]["recall"] == 1.0
    # an even mix of tones was asked for (none fixed) and the sample holds one tone: gaps are named
    assert headline["coverage_gaps"] == len(data["coverage"]["gaps"]) > 0
    assert data["realism"]["reference_utterances"] == 2450
    # the reference is a yardstick: no reference line is written into the report
    reference = set(load_reference())
    text = html.read_text() + json.dumps(data)
    assert not [line for line in list(reference)[:500] if len(line) > 40 and line in text]
    for name in data["plots"]:
        assert (html.parent / "plots" / f"{name}.svg").read_text().startswith("<svg")


def test_report_html_renders_every_plot_in_chromium(tmp_path: Path) -> None:
    data, html = _report(tmp_path)
    with chromium_page((1400, 1000)) as (page, log):
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        shown = page.eval_on_selector_all(
            ".plot > svg",
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [e.closest('.plot').id, r.width, r.height]; })",
        )
        broken = page.eval_on_selector_all(
            "img", "els => els.filter(i => !i.complete || i.naturalWidth === 0).length"
        )
        headline = page.inner_text("#headline")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert sorted(name.removeprefix("plot-") for name, _, _ in shown) == sorted(data["plots"])
    assert all(w > 300 and h > 150 for _, w, h in shown), shown
    assert broken == 0 and log.problems() == []
    assert "self-BLEU" in headline and "planted PHI recall" in headline
    assert (tmp_path / "report.png").stat().st_size > 20_000
