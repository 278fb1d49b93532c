"""Regenerate docs/images/fleet-view.png: the fleet view of a node throttled before its limit, forecast beside actual.

Runs the browser test's scenario (tests/support/fleet_scenario.py: the real thermal_guard and fleet_view
sensors over a Pi whose temperature follows its load) in a temporary home, starts the real
dagster-webserver on it and screenshots the Pi's plots with headless chromium.

    .venv/bin/python tools/fleet_screenshot.py [--out docs/images/fleet-view.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "fleet-view.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / "dagster_home").mkdir(parents=True)
        (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ.update(
            TRANSCRIPTS_HOME=str(home),
            DAGSTER_HOME=str(home / "dagster_home"),
            TRANSCRIPTS_NODES_FILE=str(home / "nodes.yaml"),
        )
        from dagster import DagsterInstance

        from tests.support.browser import chromium_page, click_past_dialog, skip_dagster_dialog
        from tests.support.dagster_processes import DagsterWebserver
        from tests.support.fleet_scenario import PI, run_fleet_scenario

        run_fleet_scenario(home, DagsterInstance.get())
        server = DagsterWebserver(home, Path(tmp) / "webserver.log")
        try:
            with chromium_page(viewport=(1400, 1000)) as (page, _log):
                page.goto(f"{server.url}/assets/fleet/{PI}")
                skip_dagster_dialog(page)
                click_past_dialog(page, page.get_by_role("button", name="Plots").first)
                heading = page.get_by_text("cpu_temp_c", exact=True).first
                heading.wait_for(timeout=30_000)
                heading.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.mouse.wheel(0, -40)
                page.wait_for_timeout(1500)  # let the charts draw
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
        finally:
            server.stop()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
