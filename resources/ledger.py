"""The ledger as a Dagster resource: ``RequestLedger`` (transcript_foundry/state/ledger.py) with Dagster's
configuration and lifecycle. Its engine is disposed of when a run's step ends."""

from __future__ import annotations

from dagster import ConfigurableResource, InitResourceContext

from transcript_foundry.state.ledger import RequestLedger


class Ledger(ConfigurableResource, RequestLedger):
    """The state database (SQLAlchemy URL in ``url``: ``sqlite:///path.db`` or ``postgresql://...``)."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.dispose()
