"""Versioned JSON API (read side). Every read goes through federation/policy.py."""
