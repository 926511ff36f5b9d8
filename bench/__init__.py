"""Benchmarks: scripts that print figures and their method (run from the project root)."""
