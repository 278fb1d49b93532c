"""Activity probes: each reports what it saw, or that it is unavailable on this platform and why."""
