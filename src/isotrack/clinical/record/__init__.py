"""The patient record: apply a command, checked; replay; the course view."""
