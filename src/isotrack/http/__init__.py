"""What the HTTP surfaces (the API, the web pages, the CDS Hooks service)
share, so that none of them imports another:

- :mod:`.deps`: the request dependencies (engine, knowledge base, clock, settings);
- :mod:`.signin`, :mod:`.passwords`, :mod:`.tokens`: accounts, the credential
  check and the access and refresh tokens;
- :mod:`.authz`: roles, actions and who may read or change which patient;
- :mod:`.access`: reading and storing a patient's record for a caller;
- :mod:`.problems`: errors as RFC 9457 problem+json;
- :mod:`.schemas`: the JSON shapes of findings and stored commands;
- :mod:`.ids`: the identifiers the surfaces issue.

Below the surfaces, above the store and the engine; it imports no surface.
"""
