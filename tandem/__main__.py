"""The `tandem` command: every Django management command, plus Tandem's own."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tandem", *sys.argv[1:]])


if __name__ == "__main__":
    main()
