"""Property-based fuzzing of every reader of hand-typed input (tests/support/fuzz_targets.py): no
unhandled exception, errors that name the file / line / field, valid JobSpecs that round-trip through YAML
and JSON. Derandomized (the same inputs on every run, so CI is reproducible) and small here; the long run
is bench/fuzz_long.py. Below it, one regression test per bug the fuzzing found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.fuzz_targets import TARGETS, run_target
from transcript_foundry.contract.lenient_transcripts import TranscriptRecordError, read_transcript_record
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.formats.custom_mapping.model import load_mapping
from transcript_foundry.formats.custom_mapping.templates import MappingError
from transcript_foundry.pool.node_spec import NodeConfigError, load_nodes_file
from transcript_foundry.request.parser import RequestError, load_job_spec_file, parse_request
from transcript_foundry.settings.store import SettingsError, SettingsStore

EXAMPLES = 150  # per target: seconds each on two cores


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target(name: str) -> None:
    assert run_target(TARGETS[name], EXAMPLES) >= EXAMPLES // 2  # hypothesis may stop early on a small space


# --- what the fuzzing found ---------------------------------------------------------------------------

NOT_UTF8 = b"count: 5\ndomain: \x80\xff\n"


def test_a_job_spec_file_that_is_not_utf8_is_named(tmp_path: Path, packs: dict[str, DomainPack]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(RequestError, match=r"spec\.yaml: not UTF-8 text .*save the job spec file as UTF-8"):
        load_job_spec_file(path, packs)


def test_a_nodes_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nodes.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(
        NodeConfigError, match=r"nodes file .*nodes\.yaml: not UTF-8 text .*save the nodes file as UTF-8"
    ):
        load_nodes_file(path)


def test_a_mapping_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(MappingError, match=r"mine\.yaml: \(file\): not UTF-8 text"):
        load_mapping(path)


def test_a_settings_file_that_is_not_utf8_or_unreadable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(SettingsError, match=r"settings\.yaml: not UTF-8 text"):
        SettingsStore(None, environ={}, config_file=path).load()
    with pytest.raises(SettingsError, match=r"missing\.yaml: settings file not found; check the path"):
        SettingsStore(None, environ={}, config_file=tmp_path / "missing.yaml").load()


def test_a_one_turn_record_is_refused_before_an_export_rejects_it() -> None:
    record = {"id": "0", "turns": [{"speaker": "AGENT", "text": "0"}]}
    with pytest.raises(TranscriptRecordError, match=r"^turns: a call needs at least 2 turns, this one has 1"):
        read_transcript_record(json.loads(json.dumps(record)))


def test_a_number_word_that_is_no_number_alone_is_named(packs: dict[str, DomainPack]) -> None:
    with pytest.raises(RequestError, match=r"exchanges: 'dozen' is not a number of turns; give one, e\.g\."):
        parse_request("Generate 5 retail calls of dozen turns", packs, semantic=False)
    assert parse_request("Generate 5 retail calls of a dozen turns", packs, semantic=False).exchanges == (
        12,
        12,
    )
