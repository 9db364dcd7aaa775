"""Order screening: the context every rule reads, and the rules."""
