"""IO managers: where asset values are stored."""
