"""Why a comment is not published: the codes moderators pick and the words citizens read.

The wording is bilingual because the notice a citizen receives quotes it as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.models import RejectCode


@dataclass(frozen=True)
class RejectReason:
    code: RejectCode
    sq: str
    en: str

    @property
    def label(self) -> str:
        return f"{self.sq} / {self.en}"


REJECT_REASONS: dict[RejectCode, RejectReason] = {
    reason.code: reason
    for reason in (
        RejectReason(RejectCode.SPAM, "Mesazh i padëshiruar (spam)", "Spam"),
        RejectReason(RejectCode.ABUSIVE, "Gjuhë fyese ose kërcënuese",
                     "Abusive or threatening language"),
        RejectReason(RejectCode.OFF_TOPIC, "Jashtë temës së konsultimit",
                     "Off the topic of the consultation"),
        RejectReason(RejectCode.DUPLICATE, "Përsëritje e një komenti të dërguar më parë",
                     "A duplicate of a comment already received"),
        RejectReason(RejectCode.PERSONAL_DATA,
                     "Përmban të dhëna personale që nuk mund të botohen",
                     "Contains personal data that cannot be published"),
        RejectReason(RejectCode.NOT_ABOUT_PLAN, "Nuk ka të bëjë me Planin e Veprimit",
                     "Not about the Action Plan"),
        RejectReason(RejectCode.OTHER, "Arsye tjetër", "Another reason"),
    )
}


def parse_reject_code(value: str) -> RejectCode:
    """A code from a form or the command line; ``ValueError`` names the known ones."""
    try:
        return RejectCode(value.strip().lower())
    except ValueError:
        known = ", ".join(code.value for code in RejectCode)
        raise ValueError(f"unknown reason code {value!r}; use one of {known}") from None
