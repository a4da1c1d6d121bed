"""Free-mail domains now live in people (scoring tests them too); kept for imports' callers."""

from tandem.people.freemail import FREE_MAIL_DOMAINS, is_free_mail, work_domain

__all__ = ["FREE_MAIL_DOMAINS", "is_free_mail", "work_domain"]
