"""The outbox as an admin-readable log, oldest first."""

from __future__ import annotations

from reference_app.backends.listing import key_of
from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.access import plausible_id, require_admin
from reference_app.service_layer.context import Services
from reference_app.service_layer.pagination import Page, paginate
from reference_app.service_layer.ports import Principal


def listing(
    svc: Services, principal: Principal, subject: str | None, limit: int, cursor: str | None
) -> Page[OutboxEvent]:
    require_admin(principal)
    if subject is not None and plausible_id(subject) is None:
        return Page([], None)  # no aggregate has such an id
    with svc.backend.unit_of_work() as uow:
        return paginate(
            svc.cursors,
            "events",
            {"subject": subject},
            limit,
            cursor,
            lambda page: uow.list_events(subject, page),
            key_of,
        )
