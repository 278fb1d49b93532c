"""nodes.yaml: a valid file loads; every error names the file, the node (nodes[i]) and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.node_pool import NodePool
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend
from transcript_foundry.pool.node_spec import NodeConfigError, NodeSpec, load_nodes_file

VALID = """\
nodes:
  - id: local
    backend: llama_cpp
    n_threads: 2
    context_window: 4096
  - id: gpu-box
    backend: openai_compatible
    url: http://127.0.0.1:8080/v1
    model: qwen2.5-7b-instruct
    structured_output: json_object_schema
    timeout_s: 30
  - id: base-server
    backend: openai_compatible
    url: http://127.0.0.1:8081/v1
    model: gemma
    prompt_style: completion
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nodes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(NodeConfigError) as info:
        load_nodes_file(path)
    message = str(info.value)
    assert str(path) in message, f"the error must name the file: {message}"
    return message


def test_valid_file_loads_every_node_with_defaults(tmp_path: Path) -> None:
    nodes = load_nodes_file(_write(tmp_path, VALID))
    assert [n.id for n in nodes] == ["local", "gpu-box", "base-server"]
    local, gpu, base = nodes
    assert local.backend == "llama_cpp" and local.model_path is None and local.n_threads == 2
    assert local.context_window == 4096
    assert local.resolved_prompt_style == "completion"  # auto: base models go turn by turn
    assert gpu.url == "http://127.0.0.1:8080/v1" and gpu.model == "qwen2.5-7b-instruct"
    assert gpu.structured_output == "json_object_schema" and gpu.timeout_s == 30.0
    assert gpu.connect_timeout_s == 5.0 and gpu.context_window == 8192  # defaults
    assert gpu.resolved_prompt_style == "chat_json"  # auto: HTTP servers get JSON batches
    assert base.resolved_prompt_style == "completion"  # an explicit prompt_style wins


def test_pool_reads_the_nodes_file_in_order(tmp_path: Path) -> None:
    pool = NodePool(nodes_file=str(_write(tmp_path, VALID)))
    assert [n.id for n in pool.node_specs()] == ["local", "gpu-box", "base-server"]


def test_openai_node_without_url(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        "nodes:\n  - id: a\n    backend: llama_cpp\n"
        "  - id: b\n    backend: openai_compatible\n    model: m\n",
    )
    assert "nodes[1]" in message and "url" in message and "openai_compatible" in message


def test_openai_node_without_model(tmp_path: Path) -> None:
    message = _error(
        tmp_path, "nodes:\n  - id: b\n    backend: openai_compatible\n    url: http://127.0.0.1:8080/v1\n"
    )
    assert "nodes[0]" in message and "model" in message


def test_unknown_field_is_named(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        "nodes:\n  - id: b\n    backend: openai_compatible\n    url: http://127.0.0.1:8080/v1\n"
        "    model: m\n    timeout_sec: 10\n",
    )
    assert "nodes[0]" in message and "timeout_sec" in message


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("backend: llama_cpp\n    timeout_s: fast", "timeout_s"),
        ("backend: ollama", "backend"),
        ("backend: llama_cpp\n    context_window: 100", "context_window"),
        ("backend: llama_cpp\n    structured_output: xml", "structured_output"),
    ],
)
def test_bad_values_name_node_and_field(tmp_path: Path, line: str, field: str) -> None:
    message = _error(tmp_path, f"nodes:\n  - id: ok\n    backend: llama_cpp\n  - id: bad\n    {line}\n")
    assert "nodes[1]" in message and field in message
    assert "nodes[0]" not in message


def test_missing_id_is_named(tmp_path: Path) -> None:
    message = _error(tmp_path, "nodes:\n  - backend: llama_cpp\n")
    assert "nodes[0]" in message and "id" in message


def test_duplicate_ids(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        "nodes:\n  - id: a\n    backend: llama_cpp\n  - id: b\n    backend: llama_cpp\n"
        "  - id: a\n    backend: llama_cpp\n",
    )
    assert "duplicate" in message and "'a'" in message
    assert "nodes[2]" in message and "id" in message  # the second occurrence is the one to fix


@pytest.mark.parametrize(
    "text",
    [
        "- id: a\n  backend: llama_cpp\n",  # a bare list, no 'nodes:' key
        "nodes:\n  id: a\n  backend: llama_cpp\n",  # 'nodes' is a mapping, not a list
        "nodes: []\n",  # an empty list
        "",  # an empty file
    ],
)
def test_nodes_must_be_a_non_empty_list(tmp_path: Path, text: str) -> None:
    message = _error(tmp_path, text)
    assert "'nodes:' list" in message


def test_node_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = _error(tmp_path, "nodes:\n  - id: a\n    backend: llama_cpp\n  - just-a-string\n")
    assert "nodes[1]" in message


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "nodes:\n  - id: a\n    backend: [llama_cpp\n")
    assert "not valid YAML" in message and "line" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(NodeConfigError, match=r"nodes file .*: nodes file not found; check the path") as info:
        load_nodes_file(path)
    assert str(path) in str(info.value)


def _openai_spec(api_key_env: str | None) -> NodeSpec:
    return NodeSpec(
        id="remote",
        backend="openai_compatible",
        url="http://127.0.0.1:9/v1",
        model="m",
        api_key_env=api_key_env,
    )


def test_api_key_env_naming_an_empty_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_TEST_EMPTY_API_KEY", "")
    with pytest.raises(ValueError, match="TF_TEST_EMPTY_API_KEY") as info:
        OpenAICompatibleBackend(_openai_spec("TF_TEST_EMPTY_API_KEY"))
    assert "remote" in str(info.value)  # names the node too


def test_api_key_env_naming_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_TEST_UNSET_API_KEY", raising=False)
    with pytest.raises(ValueError, match="TF_TEST_UNSET_API_KEY"):
        OpenAICompatibleBackend(_openai_spec("TF_TEST_UNSET_API_KEY"))


def test_api_key_env_with_a_value_builds_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_TEST_API_KEY", "sk-test")
    backend = OpenAICompatibleBackend(_openai_spec("TF_TEST_API_KEY"))  # no network at construction
    try:
        assert backend.info.node_id == "remote" and backend.info.backend == "openai_compatible"
        assert backend.info.prompt_style == "chat_json"
        assert backend.info.details["url"] == "http://127.0.0.1:9/v1"
    finally:
        backend.close()
