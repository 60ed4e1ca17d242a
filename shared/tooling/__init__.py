"""Tooling around the layer programs: tasks, orchestration, offline planner, guardrails, docs, capacity model."""
