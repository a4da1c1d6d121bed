"""A write left uncommitted in another thread, for tests of what commits late."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def left_open(write: Callable[[], object], *, seconds: float = 10) -> Iterator[None]:
    """Run `write` in a transaction of another thread and keep it open while the block
    runs; it commits when the block ends (before this returns). Needs a transactional
    test (`django_db(transaction=True)`): the two threads have their own connections."""
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def body() -> None:
        try:
            with transaction.atomic():
                write()
                holding.set()
                release.wait(seconds)
        except BaseException as exc:  # reported in the test's thread below
            errors.append(exc)
        finally:
            holding.set()
            connections.close_all()
            done.set()

    thread = threading.Thread(target=body)
    thread.start()
    try:
        assert holding.wait(seconds), "the other transaction did not start"
        yield
    finally:
        release.set()
        assert done.wait(seconds), "the other transaction did not end"
        thread.join()
    if errors:
        raise errors[0]
