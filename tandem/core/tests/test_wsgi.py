"""The WSGI entry point hands a whole response over as one body and closes it itself;
a streaming response is passed through, for the server to read and close."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory, override_settings
from django.urls import path

from tandem.wsgi import application


def _whole(request: HttpRequest) -> HttpResponse:
    return HttpResponse([b"whole ", b"body"], content_type="text/plain")


def _stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"a,b\n", b"1,2\n"]), content_type="text/csv")


urlpatterns = [path("whole", _whole), path("stream", _stream)]


@pytest.fixture
def finished():
    """One True per request_finished sent while the test runs."""
    sent: list[bool] = []

    def on_finished(**kwargs: Any) -> None:
        sent.append(True)

    request_finished.connect(on_finished, weak=False)
    yield sent
    request_finished.disconnect(on_finished)


def _call(url: str) -> tuple[dict[str, Any], Any]:
    """Call the WSGI application as a server does: (start_response's status and headers,
    the body it returned)."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=status, headers=dict(headers))

    return started, application(RequestFactory().get(url).environ, start_response)


@override_settings(ROOT_URLCONF=__name__)
def test_a_whole_response_is_one_body_and_is_closed_before_it_is_sent(finished):
    started, body = _call("/whole")
    assert started["status"] == "200 OK"
    assert body == [b"whole body"]
    assert finished == [True], "request_finished (connections, caches) ran once"


@override_settings(ROOT_URLCONF=__name__)
def test_a_streaming_response_is_passed_through_and_closed_by_the_server(finished):
    started, body = _call("/stream")
    assert started["headers"]["Content-Type"] == "text/csv"
    assert not isinstance(body, list)
    assert finished == [], "not closed before the server has sent it"
    assert b"".join(body) == b"a,b\n1,2\n"
    body.close()
    assert finished == [True]
