"""Sensors: thermal guard, activity (gaming / work hours / idle / presence), request intake, alerting."""
