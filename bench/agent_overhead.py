"""Benchmark: what the node agent adds to each call, measured side by side in one run.

    .venv/bin/python bench/agent_overhead.py [--calls 300] [--clients 8]

The same OpenAI-compatible upstream (an instant loopback server, so the agent's own cost is all there is
to see) is called directly and through a real agent (uvicorn, JWT auth, rate limiter, admission, audit
log, Prometheus metrics, httpx proxy), first one call at a time, then from ``--clients`` threads at once.
Printed: calls/s and p50/p95 latency of both, the throughput ratio (agent / direct) and the added p50
milliseconds, and the machine. In front of a real model a call takes 0.2-60 s, so these milliseconds
are what the agent costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def _run(url: str, headers: dict[str, str], calls: int, clients: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = calls // clients

    def work() -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = client.post(f"{url}/chat/completions", json=BODY, headers=headers)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "calls_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from tests.support.agent_harness import GatedUpstream, bearer, proxy_config, running_agent

    print(
        f"machine: {platform.machine()} · {os.cpu_count()} CPUs · {platform.python_version()} · load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as folder, GatedUpstream() as upstream:
        config = proxy_config(
            upstream.url,
            Path(folder),
            max_concurrency=args.clients,
            max_queue=args.clients,
            rate_limit_rps=0.0,
        )
        with running_agent(config) as agent:
            headers = bearer("operator", "bench")
            _run(agent.url, headers, 20, 1)  # warm up both paths
            _run(upstream.url, {}, 20, 1)
            for clients in (1, args.clients):
                direct = _run(upstream.url, {}, args.calls, clients)
                via = _run(agent.url, headers, args.calls, clients)
                ratio = via["calls_per_s"] / direct["calls_per_s"]
                print(
                    f"{clients} client(s), {args.calls} calls: direct {direct['calls_per_s']:.0f} calls/s "
                    f"(p50 {direct['p50_ms']:.1f} ms, p95 {direct['p95_ms']:.1f} ms) · through the agent "
                    f"{via['calls_per_s']:.0f} calls/s (p50 {via['p50_ms']:.1f} ms, p95 {via['p95_ms']:.1f} ms) · "
                    f"ratio {ratio:.2f} · agent adds {via['p50_ms'] - direct['p50_ms']:.1f} ms p50"
                )


if __name__ == "__main__":
    main()
