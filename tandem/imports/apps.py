from typing import Any

from django.apps import AppConfig
from django.db.models.signals import pre_migrate


def _restore_deferred_indexes(using: str = "default", **kwargs: Any) -> None:
    """Migrations expect the schema they made: build any index a killed import left dropped."""
    from tandem.imports.bulk.indexes import restore_all_if_any

    restore_all_if_any(using=using)


class ImportsConfig(AppConfig):
    name = "tandem.imports"
    label = "imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tandem.core.worker_start import register_worker_start

        pre_migrate.connect(_restore_deferred_indexes, sender=self)
        # An import killed half-way may have left the people tables without their
        # secondary indexes (imports/bulk/indexes.py): a starting worker builds them.
        register_worker_start("imports.restore_indexes", _restore_deferred_indexes)
