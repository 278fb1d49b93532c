"""Hosts on one machine: a network namespace per host, joined to the root namespace by a veth pair.

``NetnsHosts(count)`` makes ``count`` namespaces named ``tfn-<pid>-<i>``. Host i gets a point-to-point
/30 out of ``10.231.<octet>.0/24``: the root end of its veth pair is ``gateway`` (``.4i+1``), the host's
end ``address`` (``.4i+2``). The root namespace plays the orchestrator: it reaches each host at its
``address`` and each host reaches the orchestrator (and anything it forwards, e.g. Postgres) at its
``gateway``. Traffic only ever goes to these addresses and to loopback.

``cut(host)`` takes the link down on the root side (the host's route goes with it, and an "unreachable"
route for the whole /24 makes calls to it fail at once instead of leaving the machine); ``restore(host)`` brings it back. ``spawn(host, argv)`` starts a process
inside the host's namespace. ``close()`` kills those processes and deletes the namespaces (which deletes
their veth pairs); ``remove_leftovers()`` does the same for namespaces of earlier runs whose process is
gone, so a crashed run never blocks the next one. Needs root (``ip netns``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "tfn"
_NAME = re.compile(rf"^{PREFIX}-(\d+)-(\d+)$")
# The routing protocol number on the fleet's /24 "unreachable" routes, so leftovers can be found.
ROUTE_PROTO = "231"


def octet_of(pid: int) -> int:
    """The third octet of the 10.231.x.0/24 a run owned by ``pid`` uses (two runs at once: two subnets)."""
    return 100 + pid % 150


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def netns_available() -> str | None:
    """None when this process can make network namespaces; otherwise why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    try:
        ip("netns", "list")
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"`ip netns` does not work here: {exc}"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_namespace(name: str) -> None:
    """Kill every process in the namespace, then delete it (its veth pairs go with it)."""
    listed = ip("netns", "pids", name, check=False).stdout.split()
    for pid in (int(p) for p in listed if p.isdigit()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    ip("netns", "del", name, check=False)


def remove_leftovers() -> list[str]:
    """Delete the namespaces and routes of earlier runs whose owning process is gone; what was deleted."""
    removed, live = [], set()
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        found = _NAME.match(name)
        if not found:
            continue
        if _pid_alive(int(found.group(1))):
            live.add(octet_of(int(found.group(1))))
        else:
            _delete_namespace(name)
            removed.append(name)
    for line in ip("route", "show", "proto", ROUTE_PROTO, check=False).stdout.splitlines():
        found = re.match(r"unreachable (10\.231\.(\d+)\.0/24)", line)
        if found and int(found.group(2)) not in live:
            ip("route", "del", "unreachable", found.group(1), check=False)
            removed.append(found.group(1))
    return removed


@dataclass
class Host:
    index: int
    namespace: str
    link: str  # the root end of the veth pair
    address: str  # the host's own address
    gateway: str  # the root namespace's address on this host's link
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


class NetnsHosts:
    def __init__(self, count: int, *, octet: int | None = None):
        remove_leftovers()
        pid = os.getpid()
        # A third octet per owning process, so two runs at once do not claim the same addresses.
        self.octet = octet if octet is not None else octet_of(pid)
        self.subnet = f"10.231.{self.octet}.0/24"
        self.hosts: list[Host] = []
        # Without a host's own /30 route (its link cut), its address must not fall through to the default
        # route and leave the machine: the whole /24 is unreachable unless a host's link is up.
        ip("route", "replace", "unreachable", self.subnet, "proto", ROUTE_PROTO)
        try:
            for i in range(count):
                # Listed before it exists, so close() also removes a half-built host.
                self.hosts.append(self._host(pid, i))
                self._build(self.hosts[-1], peer=f"{PREFIX}{pid}n{i}")
        except BaseException:
            self.close()
            raise

    def _host(self, pid: int, i: int) -> Host:
        return Host(
            index=i,
            namespace=f"{PREFIX}-{pid}-{i}",
            link=f"{PREFIX}{pid}h{i}",
            address=f"10.231.{self.octet}.{4 * i + 2}",
            gateway=f"10.231.{self.octet}.{4 * i + 1}",
        )

    @staticmethod
    def _build(host: Host, peer: str) -> None:
        ip("netns", "add", host.namespace)
        ip("-n", host.namespace, "link", "set", "lo", "up")
        ip("link", "add", host.link, "type", "veth", "peer", "name", peer, "netns", host.namespace)
        ip("addr", "add", f"{host.gateway}/30", "dev", host.link)
        ip("link", "set", host.link, "up")
        ip("-n", host.namespace, "addr", "add", f"{host.address}/30", "dev", peer)
        ip("-n", host.namespace, "link", "set", peer, "up")

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts)

    def __getitem__(self, i: int) -> Host:
        return self.hosts[i]

    def spawn(
        self, host: Host, argv: Sequence[str], *, env: dict[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        """``argv`` inside the host's namespace (``ip netns exec`` execs it: the pid is the program's)."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", host.namespace, *argv],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        host.processes.append(process)
        return process

    def kill(self, host: Host) -> None:
        """SIGKILL every process started on the host: a crash, not a clean shutdown."""
        for process in host.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        host.processes.clear()

    def cut(self, host: Host) -> None:
        ip("link", "set", host.link, "down")

    def restore(self, host: Host) -> None:
        ip("link", "set", host.link, "up")

    def close(self) -> None:
        for host in self.hosts:
            self.kill(host)
            _delete_namespace(host.namespace)
            ip("link", "del", host.link, check=False)  # gone with the namespace; a half-built one may not be
        self.hosts.clear()
        ip("route", "del", "unreachable", self.subnet, check=False)

    def __enter__(self) -> NetnsHosts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
