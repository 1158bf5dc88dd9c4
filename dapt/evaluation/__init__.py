"""Evaluation: task metrics (plain functions, and the same as local ``evaluate`` modules) and test scoring."""
