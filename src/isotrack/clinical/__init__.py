"""The pure clinical domain: snapshot model, rules, dosing, monitoring, triage.

Nothing here reads a clock, the environment, files or the network: the
evaluation date and the knowledge base are arguments.
"""
