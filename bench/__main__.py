"""`python -m bench <command>`: generate, load, people, consent.

python -m bench generate --people 1000000 --out DIR   (same as python -m bench.generate)
python -m bench load DIR                              load the CSVs into the database
python -m bench people                                time the people pages and API
python -m bench consent                               time the consent filter and export
"""

from __future__ import annotations

import sys

COMMANDS = ("generate", "load", "people", "consent")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    command, rest = argv[0], argv[1:]
    if command == "generate":
        from bench import generate

        return generate.main(rest)
    if command == "load":
        from bench import load

        return load.main(rest)
    if command == "consent":
        from bench import consent

        return consent.main(rest)
    from bench import people

    return people.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
