import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
application = get_wsgi_application()


def _settle() -> None:
    """Load the URLs (and with them every view module) now rather than on the first
    request, then keep start-up's objects out of the collector's passes (core/collector.py)."""
    from django.urls import get_resolver

    from tandem.core.collector import freeze_startup

    get_resolver().url_patterns  # noqa: B018 - imports the views
    freeze_startup()


_settle()
