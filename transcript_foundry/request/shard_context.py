"""Everything a per-shard asset needs to know about its shard, read from the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import (
    DomainPack,
    DomainPackError,
    load_domain_packs,
    unknown_domain_message,
)
from transcript_foundry.state.ledger import RequestLedger, RequestRow


@dataclass(frozen=True)
class ShardContext:
    shard_key: str
    request: RequestRow
    spec: JobSpec
    pack: DomainPack


def load_shard_context(ledger: RequestLedger, shard_key: str) -> ShardContext:
    request = ledger.get_request(ledger.shard_request(shard_key))
    spec = JobSpec.model_validate(request.spec)
    packs = load_domain_packs()
    if spec.domain not in packs:
        raise DomainPackError(unknown_domain_message(spec.domain, packs))
    return ShardContext(shard_key=shard_key, request=request, spec=spec, pack=packs[spec.domain])
