"""The `tandem` command: every Django management command, plus Tandem's own."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["tandem", *sys.argv[1:]])
    except ImproperlyConfigured as exc:  # a setting the environment got wrong: one line
        sys.exit(f"tandem: {exc}")


if __name__ == "__main__":
    main()
