"""Experts: who covers which domain, and when they are on duty."""
