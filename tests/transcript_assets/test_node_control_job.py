"""node_control: pause, resume, drain and re-weight a node through the real job and its typed run config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, build_sensor_context
from dagster._core.errors import DagsterInvalidConfigError

from resources.ledger import Ledger
from sensors.thermal_guard import build_thermal_guard_sensor
from transcript_assets.node_control_job import node_control
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.settings.environment import project_paths


class Fleet:
    """gpu-box from nodes.yaml and the agent pi-4 (heartbeats made up), on the project's state DB."""

    def __init__(self, home: Path):
        nodes_file = home / "nodes.yaml"
        nodes_file.write_text(
            yaml.safe_dump(
                {
                    "nodes": [
                        {
                            "id": "gpu-box",
                            "backend": "openai_compatible",
                            "url": "http://127.0.0.1:9/v1",
                            "model": "m",
                        }
                    ]
                }
            )
        )
        self.ledger = Ledger(url=project_paths().state_url)
        self.pool = NodeFleet(state_url=self.ledger.url, nodes_file=str(nodes_file))
        self.registry = NodeRegistry(self.ledger.engine)
        spec = NodeSpec(id="pi-4", backend="openai_compatible", url="http://127.0.0.1:9/v1", model="m")
        self.registry.register(spec, None, live=LiveState(cpu_temp_c=50.0))
        self.controls = NodeControls(self.ledger.engine)

    def run(self, raise_on_error: bool = True, **config: Any):  # type: ignore[no-untyped-def]
        return node_control.execute_in_process(
            run_config={"ops": {"control_node": {"config": config}}},
            resources={"ledger": self.ledger, "llm_pool": self.pool},
            instance=DagsterInstance.get(),
            raise_on_error=raise_on_error,
        )

    def ranked(self) -> dict[str, Any]:
        self.pool.refresh(force=True)  # what the dispatcher does every refresh_interval_s
        return {r.node_id: r for r in self.pool.rank_nodes(refresh=False)}


@pytest.fixture
def fleet(project_home: Path) -> Fleet:
    return Fleet(project_home)


def test_pause_and_resume_are_recorded_with_who_and_kept_by_the_sensors(fleet: Fleet) -> None:
    result = fleet.run(node_id="pi-4", action="pause", operator="alice", reason="replacing the fan")
    assert result.success
    control = fleet.controls.get("pi-4")
    assert control.paused and control.source == "operator"
    assert "pause by alice" in (control.reason or "") and "replacing the fan" in (control.reason or "")
    event = fleet.controls.events("pi-4")[0]
    assert (event["source"], event["from_state"], event["to_state"]) == ("operator", "normal", "paused")
    assert "alice" in event["reason"]
    assert not fleet.ranked()["pi-4"].eligible and "alice" in fleet.ranked()["pi-4"].excluded_because

    # a cool node: the thermal guard's tick lifts only its own restriction, not the operator's pause
    thermal = build_thermal_guard_sensor()
    with build_sensor_context(
        instance=DagsterInstance.get(), resources={"ledger": fleet.ledger, "llm_pool": fleet.pool}
    ) as context:
        thermal(context)
    assert fleet.controls.get("pi-4").paused

    assert fleet.run(node_id="pi-4", action="resume", operator="bob").success
    assert fleet.controls.get("pi-4").state == "normal" and fleet.ranked()["pi-4"].eligible
    resumed = fleet.controls.events("pi-4")[0]
    assert (resumed["from_state"], resumed["to_state"]) == (
        "paused",
        "normal",
    ) and "resume by bob" in resumed["reason"]


def test_reweight_changes_the_score_at_the_next_decision_and_back(fleet: Fleet) -> None:
    before = fleet.ranked()["gpu-box"].score
    assert fleet.run(node_id="gpu-box", action="reweight", operator="carol", weight=0.25).success
    assert fleet.ranked()["gpu-box"].score == pytest.approx(before * 0.25, abs=1e-3)
    event = fleet.controls.events("gpu-box")[0]
    assert (
        event["to_state"] == "reweighted"
        and event["from_state"] == "weight default"
        and "carol" in event["reason"]
    )
    assert fleet.run(
        node_id="gpu-box", action="reweight", operator="carol"
    ).success  # no weight: nodes.yaml's
    assert fleet.ranked()["gpu-box"].score == pytest.approx(before, abs=1e-3)
    assert fleet.controls.events("gpu-box")[0]["from_state"] == "weight 0.25"


def test_drain_waits_for_idle_and_says_when_it_is_not(fleet: Fleet) -> None:
    fleet.registry.heartbeat("pi-4", LiveState(cpu_temp_c=50.0, in_flight=3))
    busy = fleet.run(
        raise_on_error=False, node_id="pi-4", action="drain", operator="dave", drain_timeout_s=0.5, poll_s=0.1
    )
    assert not busy.success
    assert "still has 3 call(s) in flight after drain_timeout_s 0.5" in str(busy.all_events)
    assert fleet.controls.get("pi-4").paused  # it takes no new work meanwhile

    fleet.registry.heartbeat("pi-4", LiveState(cpu_temp_c=50.0, in_flight=0))
    assert fleet.run(node_id="pi-4", action="drain", operator="dave", poll_s=0.1).success
    assert fleet.controls.events("pi-4")[0]["to_state"] == "drained"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"node_id": "nope", "action": "pause", "operator": "eve"},
            "node_id 'nope' is not a known node; known: gpu-box, pi-4",
        ),
        ({"node_id": "pi-4", "action": "pause", "operator": "  "}, "operator is empty"),
        (
            {"node_id": "pi-4", "action": "pause", "operator": "eve", "weight": 0.5},
            "weight is only for action reweight",
        ),
        ({"node_id": "pi-4", "action": "reweight", "operator": "eve", "weight": 1.5}, "give 0 < weight <= 1"),
    ],
)
def test_bad_config_fails_naming_the_field_and_the_fix(
    fleet: Fleet, config: dict[str, Any], message: str
) -> None:
    result = fleet.run(raise_on_error=False, **config)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert message in failure.step_failure_data.error.to_string()  # type: ignore[union-attr]


def test_the_launchpad_offers_the_actions_and_refuses_others(fleet: Fleet) -> None:
    with pytest.raises(DagsterInvalidConfigError, match="explode"):
        fleet.run(node_id="pi-4", action="explode", operator="eve")
