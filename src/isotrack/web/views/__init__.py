"""View models of the web pages: pure functions from a patient's record (and the
day, and the knowledge base) to what a page shows. No request, no database."""
