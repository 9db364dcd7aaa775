"""The pregnancy prevention programme: requirements, status, dispensing."""
