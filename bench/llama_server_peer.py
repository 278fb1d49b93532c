"""The honest throughput peer: llama.cpp's own ``llama-server`` with continuous batching (``--parallel N``),
driven by a plain asyncio ``openai`` client that writes the same planned conversations turn by turn with N
in flight. Built by ``tools/build-llama-server.sh`` from the llama.cpp sources vendored in the pinned
llama-cpp-python (same revision, same flags, AMX off).

What differs from the pipeline's local node: each turn is a separate completion request carrying the whole
conversation so far (the server's prompt cache keeps each slot's prefix, but the shared few-shot prefix is
evaluated once per slot, not once for all); nothing is checked, cleaned or scored (every token counts as
accepted). Sampling is the same: temperature, top_p, repeat penalty, DRY with the same parameters, stop at
the end of the line, the same per-turn seeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def server_bin() -> Path:
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "build-llama-server.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"tools/build-llama-server.sh failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(model: Path, parallel: int, threads: int, ctx_per_slot: int = 4096) -> Iterator[str]:
    """llama-server on 127.0.0.1 with ``parallel`` slots; yields its /v1 base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            str(server_bin() / "llama-server"),
            "-m", str(model),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--parallel", str(parallel),
            "-c", str(ctx_per_slot * parallel),
            "-t", str(threads),
            "-tb", str(threads),
            "--no-webui",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None:
                raise SystemExit(f"llama-server exited with {process.returncode}")
            time.sleep(0.5)
        else:
            raise SystemExit("llama-server did not become healthy within 120 s")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        if process.poll() is None:
            process.kill()


async def _write_conversations(base_url: str, jobs: list[dict[str, Any]], parallel: int) -> int:
    """Each job: {"text": prefix+header, "turns": [(label, seed), ...]}; returns completion tokens."""
    from openai import AsyncOpenAI

    from transcript_foundry.generation.turn_by_turn import TurnByTurnSettings

    settings = TurnByTurnSettings()
    client = AsyncOpenAI(base_url=base_url, api_key="none", timeout=600, max_retries=0)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    tokens = 0

    async def worker() -> None:
        nonlocal tokens
        while not queue.empty():
            job = queue.get_nowait()
            text = job["text"]
            for label, seed in job["turns"]:
                prompt = text + label
                out = await client.completions.create(
                    model="peer",
                    prompt=prompt,
                    max_tokens=settings.max_turn_tokens,
                    temperature=settings.temperature,
                    top_p=settings.top_p,
                    stop=["\n"],
                    seed=seed,
                    extra_body={
                        "repeat_penalty": settings.repeat_penalty,
                        "dry_multiplier": settings.dry_multiplier,
                        "dry_base": settings.dry_base,
                        "dry_allowed_length": settings.dry_allowed_length,
                        "cache_prompt": True,
                    },
                )
                tokens += out.usage.completion_tokens if out.usage else 0
                text = f"{prompt} {out.choices[0].text.strip()}\n"

    await asyncio.gather(*(worker() for _ in range(parallel)))
    await client.close()
    return tokens


def write_with_server(base_url: str, jobs: list[dict[str, Any]], parallel: int) -> int:
    return asyncio.run(_write_conversations(base_url, jobs, parallel))
