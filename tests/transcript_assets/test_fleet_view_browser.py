"""The fleet in the Dagster UI, in a real browser: the webserver on a test instance, headless chromium.

The real thermal_guard and fleet_view sensors observe a Pi whose temperature follows its load, throttled before 80 °C
(``tests/support/fleet_scenario.py``); the real ``dagster-webserver`` serves the project's code location
(which defines ``fleet/<node>`` for every known node); Playwright drives Debian's chromium to the Pi's asset
page and checks that its temperature series is plotted and that the throttle and its reason are shown.
Screenshots are saved under the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance
from playwright.sync_api import Page, expect

from tests.support.browser import chromium_page, click_past_dialog, skip_dagster_dialog
from tests.support.dagster_processes import DagsterWebserver
from tests.support.fleet_scenario import PI, run_fleet_scenario

THROTTLE_REASON = "in 45 s at full load >= cpu_throttle_c 80.0"


@pytest.fixture
def fleet_webserver(
    project_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DagsterWebserver]:
    run_fleet_scenario(project_home, DagsterInstance.get())
    monkeypatch.setenv("TRANSCRIPTS_NODES_FILE", str(project_home / "nodes.yaml"))
    server = DagsterWebserver(project_home, tmp_path / "webserver.log")
    yield server
    server.stop()


def open_node_plots(page: Page, base_url: str, node_id: str) -> None:
    page.goto(f"{base_url}/assets/fleet/{node_id}")
    skip_dagster_dialog(page)
    click_past_dialog(page, page.get_by_role("button", name="Plots").first)


OBSERVATIONS = """
query ($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetObservations(limit: 100) { timestamp description } }
  }
}
"""


def observation_time(server: DagsterWebserver, node_id: str, text: str) -> str:
    """The UI's timestamp (ms) of the newest observation of ``fleet/<node_id>`` whose description has ``text``."""
    data = server.graphql(OBSERVATIONS, {"path": ["fleet", node_id]})
    found = [o for o in data["assetOrError"]["assetObservations"] if text in (o["description"] or "")]
    assert found, f"no observation of fleet/{node_id} says {text!r}"
    return str(found[0]["timestamp"])


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_fleet_view_plots_a_nodes_temperature_and_shows_why_it_was_throttled(
    fleet_webserver: DagsterWebserver, tmp_path: Path
) -> None:
    with chromium_page() as (page, log):
        open_node_plots(page, fleet_webserver.url, PI)
        heading = page.get_by_text("cpu_temp_c", exact=True).first
        expect(heading).to_be_visible(timeout=30_000)
        heading.scroll_into_view_if_needed()
        # every numeric metadata label gets its own chart (a <canvas>), temperature among them
        assert page.locator("canvas").count() >= 5
        for label in ("cpu_temp_predicted_c", "concurrency_limit", "score_thermal", "throttle_factor"):
            expect(page.get_by_text(label, exact=True).first).to_be_visible()
        page.screenshot(path=str(tmp_path / "fleet-node-plots.png"))

        throttled_at = observation_time(fleet_webserver, PI, "normal -> throttled")
        page.goto(f"{fleet_webserver.url}/assets/fleet/{PI}?view=events&time={throttled_at}")
        expect(page.get_by_text("thermal_guard: normal -> throttled", exact=False).first).to_be_visible(
            timeout=30_000
        )
        expect(page.get_by_text(THROTTLE_REASON, exact=False).first).to_be_visible()
        page.screenshot(path=str(tmp_path / "fleet-node-throttled.png"))

        page.goto(f"{fleet_webserver.url}/assets/fleet_summary")
        expect(page.get_by_text("nodes_throttled", exact=True).first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "fleet-summary.png"))
    assert (tmp_path / "fleet-node-plots.png").stat().st_size > 10_000
    assert not [p for p in log.problems() if "graphql" in p.lower()], log.problems()
