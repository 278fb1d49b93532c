"""Standing requests: "keep 2,000 healthcare calls" — what the overnight top-up submits.

``schedules.standing_requests`` names, per domain, how many accepted transcripts the library should hold.
``plan_top_ups`` counts what the domain has (accepted slots of all its requests) and what is on its way
(the unfilled part of its submitted and open requests); ``submit_top_ups`` submits one request for each
shortfall with status ``submitted``, which the ``request_intake`` sensor then drives like any other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from transcript_foundry.contract.job_spec import MAX_COUNT, JobSpec
from transcript_foundry.request.lifecycle import submit_request
from transcript_foundry.state.ledger import RequestLedger
from transcript_foundry.state.request_queue import OPEN, SUBMITTED, RequestQueue

TOP_UP_SOURCE = "standing_top_up"


@dataclass(frozen=True)
class TopUp:
    domain: str
    wanted: int
    accepted: int
    pending: int

    @property
    def shortfall(self) -> int:
        return max(0, self.wanted - self.accepted - self.pending)


def plan_top_ups(ledger: RequestLedger, standing: dict[str, int]) -> list[TopUp]:
    accepted = {domain: 0 for domain in standing}
    pending = dict(accepted)
    for request in ledger.list_requests():
        domain = str(request.spec.get("domain"))
        if domain not in standing:
            continue
        have = len(ledger.accepted_slots(request.request_id))
        accepted[domain] += have
        if request.status in (SUBMITTED, OPEN):
            pending[domain] += max(0, request.count - have)
    return [TopUp(d, standing[d], accepted[d], pending[d]) for d in sorted(standing)]


def submit_top_ups(ledger: RequestLedger, standing: dict[str, int], *, tick: str) -> list[tuple[TopUp, str]]:
    """Submit a request for each domain short of its standing count; ``tick`` (the schedule's time) makes
    the request id of each run its own, and the same again when a run is retried."""
    submitted = []
    queue = RequestQueue(ledger.engine)
    for top_up in plan_top_ups(ledger, standing):
        if not top_up.shortfall:
            continue
        count = min(top_up.shortfall, MAX_COUNT)
        seed = int(hashlib.sha256(f"{top_up.domain}|{tick}".encode()).hexdigest()[:7], 16)
        spec = JobSpec(count=count, domain=top_up.domain, seed=seed)
        text = f"standing request top-up ({tick}): {count} {top_up.domain} transcripts"
        request_id, _ = submit_request(ledger, spec, text, None, status=SUBMITTED)
        queue.record_source(request_id, TOP_UP_SOURCE, tick)
        submitted.append((top_up, request_id))
    return submitted
