"""Refusals look like Tandem, not like a framework default."""

import pytest


def test_a_salesperson_sees_a_tandem_403_page_on_admin_pages(client, salesperson):
    client.force_login(salesperson)
    response = client.get("/admin/users/")
    assert response.status_code == 403
    assert b"Not allowed" in response.content


def test_unknown_pages_get_a_tandem_404(client, salesperson):
    client.force_login(salesperson)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_page_is_the_apps_404_in_the_app_layout_in_debug_mode_too(
    client, salesperson, settings, debug
):
    settings.DEBUG = debug
    client.force_login(salesperson)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "Back to Tandem" in page
    assert 'aria-label="Main"' in page  # the menu: a way on from here
    assert "URLconf" not in page and "DEBUG = True" not in page  # not Django's debug page


@pytest.mark.parametrize("debug", [False, True])
def test_a_deleted_or_missing_person_is_the_apps_404(client, salesperson, settings, debug):
    settings.DEBUG = debug
    client.force_login(salesperson)
    response = client.get("/people/987654/")
    assert response.status_code == 404
    assert "Back to Tandem" in response.content.decode()


def test_debug_mode_still_adds_the_missing_slash(client, salesperson, settings):
    settings.DEBUG = True
    client.force_login(salesperson)
    response = client.get("/people")
    assert response.status_code == 301 and response["Location"] == "/people/"


def test_a_signed_out_visitor_gets_the_404_without_the_menu(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and 'aria-label="Main"' not in page


def test_api_json_not_found_stays_json_in_debug_mode(client, salesperson, settings):
    settings.DEBUG = True
    client.force_login(salesperson)
    response = client.get("/api/v1/people/987654")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_the_favicon_is_served_and_linked(client, salesperson):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    client.force_login(salesperson)
    page = client.get("/people/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page


@pytest.mark.parametrize("path", ["/api/docs", "/api/v1/docs"])
def test_the_api_docs_lead_back_into_the_app(client, salesperson, path):
    client.force_login(salesperson)
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/"' in page and "Back to Tandem" in page
    assert 'id="swagger-ui"' in page  # the docs themselves are still there
