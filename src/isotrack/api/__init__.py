"""The REST API under ``/api/v1``: one router per resource
(:data:`isotrack.api.routes.ROUTERS`), its request and response models, and
the FHIR routes. :func:`isotrack.server.create_app` mounts it beside the web
pages and the CDS Hooks service; what they share (request dependencies,
sign-in, roles, problem+json) is :mod:`isotrack.http`."""
