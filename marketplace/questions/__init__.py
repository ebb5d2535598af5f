"""Clarification questions on jobs and their published answers."""
