"""Prometheus metrics of the running hotline (see README, "Metrics")."""
