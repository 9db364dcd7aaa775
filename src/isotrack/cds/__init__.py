"""CDS Hooks 2.0 service: discovery, hooks, cards, feedback, EHR JWT verification.

The service of ``contracts/cds-hooks.md``, mounted on the API app by
:func:`isotrack.server.app.create_app` (see ``docs/cds-hooks.md``)::

    GET  /cds-services                       discovery (discovery.py)
    POST /cds-services/{id}                  a hook: request → cards (routes.py → service.py)
    POST /cds-services/{id}/feedback         card outcomes → audit trail (feedback.py)

Modules, one concept each: ``models`` (the JSON as msgspec Structs),
``discovery`` (service ids, prefetch templates, usage requirements), ``prefetch``
(checking and decoding the prefetch: data, ``null``, OperationOutcome, absent),
``outcomes`` (what an EHR's OperationOutcome says), ``fhir_server`` (reading
absent keys from ``fhirServer``), ``drafts`` (the draft orders: the isotretinoin
order, and those that could not be read), ``service`` (the use cases: screen the
draft order or assess the course; 412 when a hook cannot answer), ``cards`` and
``suggestions`` (findings to cards), ``feedback``, ``routes`` (FastAPI), and
``security`` / ``jwks`` (the EHR's JWT).
"""
