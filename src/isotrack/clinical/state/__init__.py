"""The patient record's data model: the commands and the state they build."""
