"""Secrets never travel on the command line, where ``ps`` and the shell history show them: no option of
any command takes a token, secret, password, key or webhook as its value (they name a file or an
environment variable instead), and ``config set`` refuses a secret given as VALUE."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from transcript_assets.cli.main import main

SECRET_WORDS = re.compile(r"token|secret|password|passwd|api_?key|private_?key|webhook|credential", re.I)
# A parameter may carry one of those words when what it takes is not the secret itself.
WHERE_IT_IS_READ = re.compile(r"(_file|_env|_path|_dir)$")


def _commands(group: click.Command, path: str = "transcripts") -> Iterator[tuple[str, click.Command]]:
    yield path, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):  # the commands are loaded lazily
            command = group.get_command(ctx, name)
            assert command is not None, name
            yield from _commands(command, f"{path} {name}")


def test_the_command_tree_is_walked() -> None:
    names = {path for path, _ in _commands(main)}
    assert {"transcripts agent", "transcripts agent token", "transcripts config set"} <= names


def test_no_option_takes_a_secret_as_its_value() -> None:
    offenders = []
    for path, command in _commands(main):
        for param in command.params:
            if not SECRET_WORDS.search(param.name or ""):
                continue
            flag = isinstance(param, click.Option) and param.is_flag
            a_path = isinstance(param.type, click.Path)
            if not (flag or a_path or WHERE_IT_IS_READ.search(param.name or "")):
                offenders.append(f"{path}: {param.opts} takes the secret itself")
    assert offenders == []


@pytest.mark.parametrize(
    "args",
    [
        ["config", "set", "alerting.smtp_password", "hunter2"],
        ["config", "set", "alerting.slack_webhook_url", "https://hooks.example/T1"],
        ["config", "set", "profiles.box-1.alerting.smtp_password", "hunter2"],
        ["config", "set", "alerting.smtp_host", "mail.example", "--secret"],
    ],
)
def test_config_set_refuses_a_secret_on_the_command_line(project_home: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "a secret is never given on the command line" in result.output
    assert "pipe it on stdin" in result.output


def test_config_set_reads_a_secret_from_stdin_and_shows_it_masked(project_home: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["config", "set", "alerting.smtp_password"], input="marker-pw-51\n")
    assert done.exit_code == 0, done.output
    assert "(encrypted)" in done.output
    shown = runner.invoke(main, ["config", "show"])
    assert shown.exit_code == 0 and "marker-pw-51" not in shown.output
    empty = runner.invoke(main, ["config", "set", "alerting.smtp_password"], input="\n")
    assert empty.exit_code == 2 and "no value on stdin" in empty.output
