"""A fleet of node agents on separate hosts (tests/support/netns_hosts.py), one Postgres for all of them.

``NetnsFleet`` builds ``count`` hosts, a CA and a certificate per host for its address, a JWT secret and an
operator token, and forwards each host's gateway port 5432 to the root namespace's Postgres. ``start(i)``
runs the real `transcripts agent` inside host i: the embedded model in-process (one thread), HTTPS on
``https://<address>:8765/v1``, registering and heart-beating into ``state_db`` over that forwarder.
``take_away(i)`` kills the agent (SIGKILL, no deregistration) and cuts the host's link; ``bring_back(i)``
restores the link and starts the agent again. Each agent appends one audit line per request to its own
file, so ``served(i)`` counts the completions it answered across restarts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from node_agent.auth import Role, mint_token, new_secret
from tests.support.fleet_pki import FleetCA
from tests.support.netns_hosts import Host, NetnsHosts
from tests.support.tcp_forwarder import TcpForwarder

AGENT_PORT = 8765
COMPLETION_PATHS = ("/v1/chat/completions", "/v1/completions")


class NetnsFleet:
    def __init__(self, count: int, folder: Path, postgres_url: str, state_db: str):
        """``postgres_url``: the server as the root namespace sees it; ``state_db``: the ledger's database."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.secret_file = folder / "agent.secret"
        self.secret_file.write_text(new_secret())
        self.secret_file.chmod(0o600)
        self.operator_token = mint_token(
            Role.operator, "orchestrator", 3600, secret=self.secret_file.read_text()
        )
        self.ca = FleetCA.create(folder / "pki")
        server = make_url(postgres_url)
        self._pg_user = server.username or "postgres"
        self._pg_port = server.port or 5432
        self.state_db = state_db
        self.hosts = NetnsHosts(count)
        try:
            self.forwarder = TcpForwarder(
                [(h.gateway, self._pg_port) for h in self.hosts],
                (server.host or "127.0.0.1", self._pg_port),
            )
        except BaseException:
            self.hosts.close()
            raise

    def node_id(self, i: int) -> str:
        return f"host-{i}"

    def url(self, i: int) -> str:
        return f"https://{self.hosts[i].address}:{AGENT_PORT}/v1"

    def audit_log(self, i: int) -> Path:
        return self.folder / f"host-{i}" / "audit.jsonl"

    def start(self, i: int) -> None:
        host: Host = self.hosts[i]
        home = self.folder / f"host-{i}"
        home.mkdir(exist_ok=True)
        cert, key = self.ca.issue(self.node_id(i), host.address)
        state_url = f"postgresql://{self._pg_user}@{host.gateway}:{self._pg_port}/{self.state_db}"
        argv = [
            str(Path(sys.executable).with_name("transcripts")),
            "agent",
            *("--host", host.address, "--port", str(AGENT_PORT), "--node-id", self.node_id(i)),
            *("--jwt-secret-file", str(self.secret_file), "--tls-cert", str(cert), "--tls-key", str(key)),
            *("--state-url", state_url, "--heartbeat-s", "2", "--threads", "1", "--rate-limit", "0"),
            *("--audit-log", str(self.audit_log(i))),
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "TRANSCRIPTS_HOME": str(home),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        self.hosts.spawn(host, argv, env=env, log=home / "agent.log")

    def wait_healthy(self, i: int, timeout_s: float = 240.0) -> dict[str, Any]:
        """/healthz over HTTPS, verified against the fleet's CA, once the agent answers."""
        deadline = time.monotonic() + timeout_s
        while True:
            for process in self.hosts[i].processes:
                if process.poll() is not None:
                    raise RuntimeError(f"agent on host {i} exited: {self.agent_log(i)[-3000:]}")
            try:
                return httpx.get(
                    self.url(i).removesuffix("/v1") + "/healthz", verify=str(self.ca.cert_path), timeout=3
                ).json()
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"agent on host {i}: no /healthz: {self.agent_log(i)[-3000:]}"
                    ) from None
                time.sleep(0.5)

    def agent_log(self, i: int) -> str:
        path = self.folder / f"host-{i}" / "agent.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def served(self, i: int, since: float = 0.0) -> int:
        """Completions host i answered with 200 (audit lines), optionally only those after ``since`` (epoch s)."""
        path = self.audit_log(i)
        if not path.exists():
            return 0
        count = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            answered = entry.get("path") in COMPLETION_PATHS and entry.get("status") == 200
            count += answered and datetime.fromisoformat(entry["time"]).timestamp() >= since
        return count

    def take_away(self, i: int) -> None:
        self.hosts.kill(self.hosts[i])
        self.hosts.cut(self.hosts[i])

    def bring_back(self, i: int) -> None:
        self.hosts.restore(self.hosts[i])
        self.start(i)

    def close(self) -> None:
        try:
            self.hosts.close()
        finally:
            self.forwarder.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.support.netns_fleet up|down` (tools/netns-fleet.sh): a fleet to try by hand."""
    import argparse
    import signal

    from tests.support.netns_hosts import remove_leftovers

    parser = argparse.ArgumentParser(prog="tools/netns-fleet.sh", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build the hosts, start an agent on each, wait for Ctrl-C, tear down")
    up.add_argument("--hosts", type=int, default=3)
    up.add_argument("--dir", type=Path, default=Path(".transcripts/netns-fleet"))
    up.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/transcripts")
    sub.add_parser("down", help="remove namespaces and routes left by a fleet whose process is gone")
    args = parser.parse_args(argv)
    if args.command == "down":
        print("\n".join(remove_leftovers()) or "nothing left over")
        return 0
    from transcript_foundry.state.state_db import open_state_db

    open_state_db(args.postgres).dispose()  # the ledger's tables, before the agents race to make them
    fleet = NetnsFleet(args.hosts, args.dir.resolve(), args.postgres, make_url(args.postgres).database or "")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for i in range(args.hosts):
            fleet.start(i)
        for i in range(args.hosts):
            fleet.wait_healthy(i)
            print(f"{fleet.node_id(i)}: {fleet.url(i)} (netns {fleet.hosts[i].namespace})", file=sys.stderr)
        print(
            f"export TRANSCRIPTS_STATE_URL={args.postgres}\n"
            f"export TRANSCRIPTS_AGENT_TOKEN={fleet.operator_token}\n"
            f"export SSL_CERT_FILE={fleet.ca.cert_path}",
            flush=True,
        )
        print("the fleet is up; Ctrl-C takes it down", file=sys.stderr)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
