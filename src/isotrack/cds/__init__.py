"""CDS Hooks 2.0 service: discovery, hooks, cards, feedback, EHR JWT verification."""
