"""Dosing: capsules, label doses, the course planner, the cumulative dose."""
