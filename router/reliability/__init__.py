"""Retries, fallbacks, circuit breakers and load shedding (README, "Reliability")."""
