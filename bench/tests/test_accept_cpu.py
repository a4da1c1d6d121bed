"""bench.accept_cpu posts the J1 bodies through Django's WSGI handler, as granian calls it."""

from __future__ import annotations

import threading

import pytest
from django.core.handlers.wsgi import WSGIHandler

from bench.accept_cpu import post_all, post_environ
from bench.capture_load import create_form, make_bodies
from tandem.capture import inbox

pytestmark = pytest.mark.django_db(transaction=True)  # the drain timer's own connection


def test_the_environ_is_a_browsers_urlencoded_post():
    environ = post_environ("/f/demo-guide", b"email=a%40example.com")
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/f/demo-guide"
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert environ["CONTENT_LENGTH"] == "21"
    assert environ["wsgi.input"].read() == b"email=a%40example.com"


def test_each_post_is_answered_303_and_waits_in_the_inbox(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    key, token, with_consent = create_form("guide")
    texts, _ = make_bodies(total=3, repeat_share=0.0, token=token, with_consent=with_consent)

    answered = post_all(WSGIHandler(), f"/f/{key}", [t.encode() for t in texts])

    for timer in threading.enumerate():  # the posts' drain timer only enqueues a task
        if timer.name == "tandem-capture-drain":
            timer.join()
    assert answered == 3
    assert inbox.waiting_count() == 3
    assert post_all(WSGIHandler(), "/f/no-such-form", [texts[0].encode()]) == 0
