"""Monitoring: the schedule of tests, side-effect triage, lesion change."""
