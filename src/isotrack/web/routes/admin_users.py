"""The admin's users page (``user.manage``): every account, locked or not, with
its role, record, email address and second factor; lock, unlock, and reset the
second factor (:mod:`isotrack.http.user_admin`), each after a confirmation step.

- ``GET /admin/users`` — the table (never a secret).
- ``POST /admin/users/{id}/lock`` / ``.../unlock`` — then back to the table.
- ``POST /admin/users/{id}/totp`` — a new TOTP secret, shown this once as the
  otpauth:// URI to hand over (the page is not cached; reloading it shows nothing).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, NowDep
from isotrack.http.user_admin import lock_user, reset_second_factor, unlock_user
from isotrack.store.users import user_transaction
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.templating import flash, render

router = APIRouter(prefix="/admin", include_in_schema=False)

Admin = Annotated[WebUser, Depends(require_page(Action.USER_MANAGE))]
UserId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


@router.get("/users")
def users_page(request: Request, user: Admin, engine: EngineDep) -> Response:
    with user_transaction(engine) as tx:
        users = tx.users.all()
    return render(request, "admin/users.html", {"users": users, "new_factor": None})


@router.post("/users/{user_id}/lock")
async def lock(
    request: Request, user_id: UserId, _: CsrfDep, user: Admin, engine: EngineDep, now: NowDep
) -> Response:
    response = RedirectResponse("/admin/users", status_code=303)
    try:
        locked = await run_in_threadpool(lock_user, engine, user_id, actor_id=user.id, now=now)
    except InvalidInputError as error:
        flash(request, response, f"Not locked: {error.message}.", "error")
        return response
    flash(request, response, f"{locked.username} is locked: signed out everywhere.")
    return response


@router.post("/users/{user_id}/unlock")
async def unlock(
    request: Request, user_id: UserId, _: CsrfDep, user: Admin, engine: EngineDep, now: NowDep
) -> Response:
    unlocked = await run_in_threadpool(unlock_user, engine, user_id, actor_id=user.id, now=now)
    response = RedirectResponse("/admin/users", status_code=303)
    flash(request, response, f"{unlocked.username} is unlocked and may sign in again.")
    return response


@router.post("/users/{user_id}/totp")
async def new_factor(
    request: Request, user_id: UserId, _: CsrfDep, user: Admin, engine: EngineDep, now: NowDep
) -> Response:
    changed, uri = await run_in_threadpool(
        reset_second_factor, engine, user_id, actor_id=user.id, now=now
    )
    with user_transaction(engine) as tx:
        users = tx.users.all()
    context = {"users": users, "new_factor": (changed, uri)}
    return render(request, "admin/users.html", context)
