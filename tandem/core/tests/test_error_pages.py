"""Refusals look like Tandem, not like a framework default."""


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
