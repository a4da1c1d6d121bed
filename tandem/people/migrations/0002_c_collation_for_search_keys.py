"""Search keys compare byte-wise on PostgreSQL too (ADR 0004).

Prefix search is a range (`key >= 'smi' AND key < 'smj'`) that an index can
seek. That equals "starts with" only under a byte-wise collation: SQLite's
default BINARY is one; on PostgreSQL a server created with, say, en_US would
ignore punctuation at the first level. So the key columns use "C" there.
"""

from django.db import migrations

COLUMNS = [
    ("people_person", "first_name_key", 100),
    ("people_person", "last_name_key", 100),
    ("people_person", "email", 254),
    ("people_company", "name_key", 200),
    ("people_company", "domain", 253),
]


def to_c_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "C"'
        )


def to_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(to_c_collation, to_default_collation)]
