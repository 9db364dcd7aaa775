"""CDS Hooks 2.0 service: discovery, hooks, cards, feedback, EHR JWT verification.

The service of ``contracts/cds-hooks.md``, mounted on the API app by
:func:`isotrack.api.app.create_app` (see ``docs/cds-hooks.md``)::

    GET  /cds-services                       discovery (discovery.py)
    POST /cds-services/{id}                  a hook: request → cards (routes.py → service.py)
    POST /cds-services/{id}/feedback         card outcomes → audit trail (feedback.py)

Modules, one concept each: ``models`` (the JSON as msgspec Structs),
``discovery`` (service ids, prefetch templates), ``prefetch`` (checking and
decoding the prefetch, reading missing keys from ``fhirServer``), ``service``
(the use cases: screen the draft order or assess the course), ``cards`` and
``suggestions`` (findings to cards), ``feedback``, ``routes`` (FastAPI), and
``security`` / ``jwks`` (the EHR's JWT).
"""
