"""Copy the catalogue into the database so comments can reference commitments."""

from __future__ import annotations

from sqlmodel import Session

from config.catalogue import Catalogue
from moderation.models import CommitmentRecord, ComponentRecord


def sync_catalogue(session: Session, catalogue: Catalogue) -> None:
    for position, component in enumerate(catalogue.components):
        session.merge(
            ComponentRecord(
                id=component.id,
                code=component.code,
                title_en=component.title_en,
                title_sq=component.title_sq,
                position=position,
            )
        )
    session.flush()
    for position, label in enumerate(catalogue.labels):
        session.merge(
            CommitmentRecord(
                id=label.id,
                component_id=label.component_id,
                slug=label.slug,
                title_en=label.title_en,
                title_sq=label.title_sq,
                position=position,
            )
        )
