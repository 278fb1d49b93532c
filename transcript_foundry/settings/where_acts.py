"""Where each setting acts: the component that reads it, and when it reads it again (hot reload).

``transcripts config show`` prints this beside every value, and a test holds it to the settings model:
a key without an entry here (a key that acts nowhere) fails the suite, as does an entry for no key.

``PER_NODE_SECTIONS`` are resolved per node, by the node's host profile (``profiles.<host>.<key>``): the
sensors read them per node each tick, the pool per node at each refresh. Every other key is read with
the profile of the machine that acts on it (the daemon's, the orchestrator's).
"""

from __future__ import annotations

PER_NODE_SECTIONS = frozenset({"thermal", "activity", "pool", "circuit"})

_THERMAL_POOL = "pool routing (transcript_foundry/pool/scoring.py) at each refresh"
_THERMAL_SENSOR = "sensors/thermal_guard.py each tick"
_ACTIVITY = "sensors/activity.py each tick"
_INTAKE = "sensors/request_intake.py each tick"
_FLEET = "the pool (transcript_foundry/pool/fleet.py) at each refresh"
_ALERTS = "sensors/alerting.py each tick"
_SCHEDULES = "transcript_assets/schedules.py when the code location loads"

ACTS_IN: dict[str, str] = {
    # thermal: one set of limits, read by the sensor and by routing
    "thermal.cpu_warm_c": f"thermal headroom score starts falling: {_THERMAL_POOL}",
    "thermal.gpu_warm_c": f"thermal headroom score starts falling: {_THERMAL_POOL}",
    "thermal.cpu_throttle_c": f"throttle: {_THERMAL_SENSOR}; headroom 0 and one call in flight: {_THERMAL_POOL}",
    "thermal.gpu_throttle_c": f"throttle: {_THERMAL_SENSOR}; headroom 0 and one call in flight: {_THERMAL_POOL}",
    "thermal.cpu_critical_c": f"pause: {_THERMAL_SENSOR}; node excluded: {_THERMAL_POOL}",
    "thermal.gpu_critical_c": f"pause: {_THERMAL_SENSOR}; node excluded: {_THERMAL_POOL}",
    "thermal.recover_below_c": f"recovery (hysteresis): {_THERMAL_SENSOR}",
    "thermal.throttle_factor": f"concurrency factor of a throttled node: {_THERMAL_SENSOR}",
    "thermal.forecast_horizon_s": f"predictive throttle (cooling-curve forecast), 0 = off: {_THERMAL_SENSOR}",
    "thermal.forecast_min_samples": f"telemetry samples before a node's cooling curve is used: {_THERMAL_SENSOR}",
    # activity
    "activity.gaming_gpu_util_pct": f"gaming probe: {_ACTIVITY}",
    "activity.gaming_gpu_memory_mb": f"gaming probe: {_ACTIVITY}",
    "activity.work_hours": f"work-hours throttle: {_ACTIVITY}",
    "activity.work_days": f"work-hours throttle: {_ACTIVITY}",
    "activity.work_hours_factor": f"work-hours throttle: {_ACTIVITY}",
    "activity.idle_after_s": f"idle probes: {_ACTIVITY}",
    "activity.idle_load_per_cpu": f"load idle probe: {_ACTIVITY}",
    "activity.idle_extra_shards": f"extra shards while idle: {_ACTIVITY}",
    "activity.presence_suspends": f"camera / microphone suspend: {_ACTIVITY}",
    # intake
    "intake.inbox": f"watched folder: {_INTAKE}",
    "intake.max_runs_per_tick": f"run requests per tick: {_INTAKE}",
    "intake.runs_per_node": f"pool capacity for shard runs: {_INTAKE}",
    "intake.shards_per_request": f"shards of one request in flight at once: {_INTAKE}",
    "intake.max_shard_attempts": f"run retries before a request fails: {_INTAKE}",
    "intake.shard_size": f"slots per new shard: {_INTAKE}; `transcripts generate` default --shard-size",
    "intake.budget_factor": f"slot budget: {_INTAKE}; `transcripts generate` default --budget-factor",
    # quality
    "quality.minimum_score": "quality_threshold of a request that names none, when it is submitted "
    "(transcript_foundry/request/lifecycle.py: `transcripts generate`, `submit`, inbox)",
    "quality.naturalness_weight": "scored_transcripts asset each run (run config `weights` overrides)",
    "quality.coherence_weight": "scored_transcripts asset each run (run config `weights` overrides)",
    "quality.domain_accuracy_weight": "scored_transcripts asset each run (run config `weights` overrides)",
    "quality.emotional_consistency_weight": "scored_transcripts asset each run (run config `weights` overrides)",
    # dedup
    "dedup.minhash_threshold": "transcript_library asset each run; `transcripts dedup` default",
    "dedup.flow_content_threshold": "transcript_library asset each run; `transcripts dedup` default",
    "dedup.semantic_threshold": "transcript_library asset each run; `transcripts dedup` default",
    # scoring
    "scoring.thermal": f"score weight: {_FLEET}",
    "scoring.queue": f"score weight: {_FLEET}",
    "scoring.capability": f"score weight: {_FLEET}",
    "scoring.history": f"score weight: {_FLEET}",
    # pool
    "pool.min_concurrency": f"lower concurrency bound of HTTP nodes whose nodes.yaml sets none: {_FLEET}",
    "pool.max_concurrency": f"upper concurrency bound of HTTP nodes whose nodes.yaml sets none: {_FLEET}",
    # retry
    "retry.max_attempts": "attempts per conversation slot: the dispatcher at each outcome",
    "retry.backoff_base_s": "backoff base (x 1, 2, 4, 8): the dispatcher at each retry",
    "retry.backoff_max_s": "backoff ceiling: the dispatcher at each retry",
    "retry.budget_ratio": "retries per request in the window: the dispatcher at each retry",
    "retry.budget_min_retries": "retries always allowed per window: the dispatcher at each retry",
    "retry.budget_window_s": "retry budget window: the dispatcher at each retry",
    "retry.slot_deadline_s": "how long a slot retries transport faults before it fails: the dispatcher at each fault",
    # circuit
    "circuit.failure_threshold": f"consecutive failures that open a node's circuit: {_FLEET}",
    "circuit.failure_rate": f"failure share that opens a node's circuit: {_FLEET}",
    "circuit.min_calls": f"calls before the failure share counts: {_FLEET}",
    "circuit.window_s": f"window of the failure share: {_FLEET}",
    "circuit.open_s": f"first open period: {_FLEET}",
    "circuit.max_open_s": f"longest open period (it doubles per failed probe): {_FLEET}",
    # alerting
    "alerting.slack_webhook_url": f"Slack route: {_ALERTS}",
    "alerting.email_to": f"e-mail route: {_ALERTS}",
    "alerting.email_from": f"e-mail route: {_ALERTS}",
    "alerting.smtp_host": f"e-mail route: {_ALERTS}",
    "alerting.smtp_port": f"e-mail route: {_ALERTS}",
    "alerting.smtp_username": f"e-mail route: {_ALERTS}",
    "alerting.smtp_password": f"e-mail route: {_ALERTS}",
    "alerting.smtp_starttls": f"e-mail route: {_ALERTS}",
    "alerting.cooldown_s": f"repeat suppression: {_ALERTS}",
    "alerting.webserver_base_url": f"run links in alerts: {_ALERTS}",
    # schedules: cron times are read when the code location loads (Reload in the UI, daemon restart)
    "schedules.timezone": f"time zone of every schedule: {_SCHEDULES}",
    "schedules.top_up_cron": f"standing_requests_top_up: {_SCHEDULES}",
    "schedules.standing_requests": "what the top_up_standing_requests job submits, each run",
    "schedules.compaction_cron": f"library_compaction: {_SCHEDULES}",
    "schedules.report_cron": f"report_refresh: {_SCHEDULES}",
    "schedules.retention_cron": f"retention_cleanup: {_SCHEDULES}",
    "schedules.retention_days": "what the retention_cleanup job removes, each run",
}


def acts_in(key: str) -> str:
    """Where ``key`` acts (``profiles.<host>.`` prefixes are ignored)."""
    if key.startswith("profiles."):
        key = key.split(".", 2)[2]
    return ACTS_IN[key]
