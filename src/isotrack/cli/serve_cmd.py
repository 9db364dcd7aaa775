"""``isotrack serve``: run the REST API with uvicorn.

The database must be at the newest schema (else: run ``isotrack db upgrade``).
``--demo`` (development and test only) migrates it, loads the demo clinic and
one demo user per role when it holds no patient yet, and prints the users'
passwords that one time. ``--workers N`` (PostgreSQL only) runs N worker
processes under uvicorn (:mod:`isotrack.server.workers`); a worker that dies is
started again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from isotrack.cli.app import PolicyOption, app, knowledge, out, translate_errors
from isotrack.cli.db_cmd import DatabaseOption, now
from isotrack.cli.demo_cmd import _load_patient, print_clinic
from isotrack.demo.clinic import demo_clinic
from isotrack.errors import InvalidInputError
from isotrack.http.passwords import create_demo_users, demo_user_lines
from isotrack.knowledge.base import KnowledgeBase
from isotrack.server import create_app
from isotrack.server.logging_json import logging_config
from isotrack.server.workers import FACTORY
from isotrack.settings import get_settings, normalise_database_url
from isotrack.store import backend_of, create_engine_for, patient_ids, upgrade

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WORKER_HEALTHCHECK_SECONDS = 60
"""How long a worker may take to answer uvicorn's health check before it is killed and
started again: starting one (imports, knowledge base) takes seconds on a busy machine."""


@app.command("serve")
@translate_errors
def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this machine only).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    database: DatabaseOption = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Migrate the database and, when it is empty, load the demo clinic and demo "
            "users, printing their passwords once (ISOTRACK_ENV=development or test only).",
        ),
    ] = False,
    policy: PolicyOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes (PostgreSQL only; they share the rate limits and the CDS "
            "replay cache through the database, or Redis when ISOTRACK_REDIS_URL is set).",
        ),
    ] = 1,
) -> None:
    """Serve the web app (/), the REST API (OpenAPI at /api/v1/openapi.json, docs at /docs)
    and the CDS Hooks service (/cds-services).

    Example: [bold]isotrack serve --port 8000 --database sqlite:///clinic.db[/bold]
    Demo: [bold]ISOTRACK_ENV=development isotrack serve --demo[/bold]
    Many workers: [bold]isotrack serve --workers 4 --database postgresql://…[/bold]
    """
    settings = get_settings()
    if database is not None:
        settings = settings.model_copy(update={"database_url": normalise_database_url(database)})
    if demo and not settings.relaxed:
        raise InvalidInputError(
            "--demo",
            f"creates users whose passwords are printed; refused with ISOTRACK_ENV={settings.env} "
            "(set ISOTRACK_ENV=development)",
        )
    kb = knowledge(policy)
    engine = create_engine_for(settings.database_url)
    try:
        if workers > 1:
            check_workers(engine, workers, policy=policy, demo=demo)
        if demo:
            prepare_demo(engine, kb)
        api = create_app(settings, engine=engine, kb=kb)
        url = f"http://{host}:{port}"
        out.print(
            f"isotrack on {url} · web app {url}/ · API docs {url}/docs · "
            f"CDS Hooks {url}/cds-services · stop with Ctrl-C",
            markup=False,
            soft_wrap=True,
        )
        many = workers > 1
        if many:  # each worker builds its own app from the environment
            os.environ["ISOTRACK_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            FACTORY if many else api,
            factory=many,
            workers=workers if many else None,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            host=host,
            port=port,
            log_config=logging_config(),
            access_log=False,
            proxy_headers=False,  # the app trusts ISOTRACK_TRUSTED_PROXIES only, never localhost
        )
    finally:
        engine.dispose()


def check_workers(engine: Engine, workers: int, *, policy: Path | None, demo: bool) -> None:
    """InvalidInputError unless ``workers`` processes can share this configuration."""
    if backend_of(engine) == "sqlite":
        raise InvalidInputError(
            "--workers",
            f"{workers} workers need PostgreSQL: SQLite serves one worker (set "
            "ISOTRACK_DATABASE_URL=postgresql://… or drop --workers)",
        )
    if policy is not None or demo:
        raise InvalidInputError(
            "--workers",
            "cannot be combined with --policy or --demo (each worker reads its settings "
            "from the environment); load the demo first, then serve with --workers",
        )


def prepare_demo(engine: Engine, kb: KnowledgeBase) -> None:
    """Migrate; load the demo clinic and users into an empty database and print them."""
    upgrade(engine)
    if patient_ids(engine):
        out.print(
            "The database already holds patients: no demo data loaded; the demo users' "
            "passwords were printed when they were created.",
            markup=False,
        )
        return
    moment = now()
    clinic = demo_clinic(moment.date(), kb)
    for patient in clinic:
        _load_patient(engine, patient, moment, kb)
    print_clinic(clinic)
    users = create_demo_users(engine, now=moment)
    out.print("Demo users (passwords shown this once):", markup=False)
    for line in demo_user_lines(engine, users):
        out.print(f"  {line}", markup=False, soft_wrap=True)
