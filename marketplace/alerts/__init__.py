"""Alerts: saved searches of jobs delivered by email, so the work reaches the co-ops."""
