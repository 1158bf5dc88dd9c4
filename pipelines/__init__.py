"""Prefect wiring over the dapt library: flows, recipes (recipes/*.yaml) and deployment definitions."""
