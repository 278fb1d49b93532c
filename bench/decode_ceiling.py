"""The decode ceiling of this CPU for the embedded model: tokens/s at batch 1, 2, 4, 8, 16 from llama.cpp's
own ``llama-batched-bench`` (built by tools/build-llama-server.sh from the same vendored sources, same
flags), and prompt processing speed. The pipeline's share of the ceiling at its batch size is what
``bench/embedded_throughput.py --peer`` compares against.

    .venv/bin/python bench/decode_ceiling.py [--threads N] [--batches 1,2,4,8,16] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llama_server_peer import server_bin  # noqa: E402  (bench/, the script's folder)
from machine_description import describe_machine  # noqa: E402

_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|" + r"\s*([\d.]+)\s*\|" * 6)


def ceiling(
    threads: int, batches: list[int], prompt: int = 128, generate: int = 64
) -> dict[int, dict[str, float]]:
    from transcript_foundry.llm.embedded_model import ensure_embedded_model

    done = subprocess.run(
        [
            str(server_bin() / "llama-batched-bench"),
            "-m", str(ensure_embedded_model()),
            "-c", str((prompt + generate) * max(batches) + 256),
            "-b", "2048", "-ub", "512",
            "-npp", str(prompt), "-ntg", str(generate),
            "-npl", ",".join(map(str, batches)),
            "-t", str(threads), "-tb", str(threads),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    rows = {}
    for line in done.stdout.splitlines() + done.stderr.splitlines():
        m = _ROW.match(line.strip())
        if m:
            rows[int(m.group(3))] = {
                "pp_tokens_per_s": float(m.group(6)),
                "decode_tokens_per_s": float(m.group(8)),
            }
    if not rows:
        raise SystemExit(
            f"llama-batched-bench printed no table:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batches", default="1,2,4,8,16")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = ceiling(args.threads, [int(b) for b in args.batches.split(",")])
    print(f"machine: {describe_machine('llama-cpp-python')}")
    print(f"{'batch':>6}{'decode tok/s':>14}{'prompt tok/s':>14}")
    for batch, row in sorted(rows.items()):
        print(f"{batch:>6}{row['decode_tokens_per_s']:>14.1f}{row['pp_tokens_per_s']:>14.1f}")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in rows.items()}, indent=2))


if __name__ == "__main__":
    main()
