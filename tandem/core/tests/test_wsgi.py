"""The WSGI entry point hands a whole response over as one body and closes it itself;
a streaming response is passed through, for the server to read and close."""

from __future__ import annotations

from typing import Any

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


def _call(url: str) -> tuple[dict[str, Any], Any, list[bool], Any]:
    """Call the WSGI application as a server does: (start_response's status and headers,
    the body it returned, one True per request_finished so far, the receiver to disconnect)."""
    environ = RequestFactory().get(url).environ
    started: dict[str, Any] = {}
    finished: list[bool] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=status, headers=dict(headers))

    def on_finished(**kwargs: Any) -> None:
        finished.append(True)

    request_finished.connect(on_finished, weak=False)
    try:
        body = application(environ, start_response)
    except BaseException:
        request_finished.disconnect(on_finished)
        raise
    return started, body, finished, on_finished


@override_settings(ROOT_URLCONF=__name__)
def test_a_whole_response_is_one_body_and_is_closed_before_it_is_sent():
    started, body, finished, receiver = _call("/whole")
    request_finished.disconnect(receiver)
    assert started["status"] == "200 OK"
    assert body == [b"whole body"]
    assert finished == [True], "request_finished (connections, caches) ran once"


@override_settings(ROOT_URLCONF=__name__)
def test_a_streaming_response_is_passed_through_and_closed_by_the_server():
    started, body, finished, receiver = _call("/stream")
    try:
        assert started["headers"]["Content-Type"] == "text/csv"
        assert not isinstance(body, list)
        assert finished == [], "not closed before the server has sent it"
        assert b"".join(body) == b"a,b\n1,2\n"
        body.close()
        assert finished == [True]
    finally:
        request_finished.disconnect(receiver)
