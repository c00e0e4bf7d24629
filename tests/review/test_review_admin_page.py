"""/admin/review: held attempts with their images, per center; never for candidates."""

from __future__ import annotations

import re

import requests
from review_helpers import admin_session, csrf_of, jpeg, login

from client.review.outbox import identity_item
from server.base_photos import put_base_photo
from server.keys import load_keys
from server.passwords import hash_password


def held_by_identity(srv):
    alice = login(srv)
    capture, evidence = jpeg(width=200), jpeg(width=360)
    item = identity_item(passed=False, reason="match.not_matched", score=0.2, threshold=0.363,
                         record={}, at_ms=srv.clock.now_ms(), approved_by_proctor=True,
                         proctor_id="p-07", captures=[capture], evidence=evidence)
    alice.post("/attempt/identity", item.request_entry()).raise_for_status()
    return alice, capture, evidence


def image_urls(html: str) -> list[str]:
    return re.findall(r'src="(/admin/review/image/\d+)"', html)


def test_the_page_shows_the_hold_and_its_images(srv):
    alice, capture, evidence = held_by_identity(srv)
    put_base_photo(srv.db, load_keys(srv.data_dir), candidate_id=alice.candidate_id,
                   jpeg=jpeg(width=300), now_ms=1, uploaded_by="test")
    admin = admin_session(srv)
    page = admin.get(f"{srv.url}/admin/review", timeout=10)
    assert page.status_code == 200
    assert "img-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.text
    row = html[html.index(f'data-student="{alice.student_no}"'):]
    assert 'data-pending="1"' in row[:200]
    assert "人脸识别认证未通过" in row and "待审核" in row and "p-07" in row
    urls = image_urls(html)
    assert len(urls) == 2
    images = [admin.get(f"{srv.url}{url}", timeout=10) for url in urls]
    assert {r.content for r in images} == {capture, evidence}
    assert all(r.headers["content-type"] == "image/jpeg" for r in images)
    assert all(r.headers["cache-control"] == "no-store" for r in images)
    base = admin.get(f"{srv.url}/admin/review/base-photo/{alice.attempt().id}", timeout=10)
    assert base.status_code == 200 and base.content.startswith(b"\xff\xd8\xff")

    # Marking it reviewed releases the result; the page says so.
    cleared = admin.post(f"{srv.url}/admin/review/clear", timeout=10,
                         data={"csrf": csrf_of(html), "attempt": alice.attempt().id})
    assert cleared.status_code == 200 and 'id="message"' in cleared.text
    assert alice.attempt().review_status == "none"
    assert "已审核（web:admin）" in cleared.text
    assert alice.submit_and_result()["status"] != "pending_review"


def test_clearing_needs_the_csrf_token(srv):
    alice, _capture, _evidence = held_by_identity(srv)
    admin = admin_session(srv)
    response = admin.post(f"{srv.url}/admin/review/clear", timeout=10,
                          data={"csrf": "forged", "attempt": alice.attempt().id})
    assert response.status_code == 403
    assert alice.attempt().review_status == "pending_review"


def test_another_centers_admin_sees_nothing(srv):
    alice, _capture, _evidence = held_by_identity(srv)
    srv.db.upsert_center(center_id="north", name="北区考点", allowed_ips=[])
    srv.db.upsert_admin(username="north-admin", password_hash=hash_password("north-pw-1"),
                        center_id="north")
    urls = image_urls(admin_session(srv).get(f"{srv.url}/admin/review", timeout=10).text)
    north = admin_session(srv, username="north-admin", password="north-pw-1")
    page = north.get(f"{srv.url}/admin/review?exam={srv.demo.exam_id}", timeout=10).text
    assert alice.student_no not in page and not image_urls(page)
    for url in urls:
        assert north.get(f"{srv.url}{url}", timeout=10).status_code == 404
    attempt_id = alice.attempt().id
    assert north.get(f"{srv.url}/admin/review/base-photo/{attempt_id}",
                     timeout=10).status_code == 404
    csrf = csrf_of(page)
    assert north.post(f"{srv.url}/admin/review/clear", data={"csrf": csrf,
                      "attempt": attempt_id}, timeout=10).status_code == 404
    assert alice.attempt().review_status == "pending_review"


def test_a_candidate_token_reaches_nothing(srv):
    alice, _capture, _evidence = held_by_identity(srv)
    urls = image_urls(admin_session(srv).get(f"{srv.url}/admin/review", timeout=10).text)
    for kwargs in ({"headers": alice.headers()}, {"cookies": {"exam_admin": alice.token}}):
        page = requests.get(f"{srv.url}/admin/review", timeout=10, allow_redirects=False,
                            **kwargs)
        assert page.status_code == 303 and page.headers["location"] == "/admin/login"
        for url in urls:
            image = requests.get(f"{srv.url}{url}", timeout=10, **kwargs)
            assert image.status_code == 401 and not image.content.startswith(b"\xff\xd8")
        clear = requests.post(f"{srv.url}/admin/review/clear", timeout=10,
                              data={"csrf": "x", "attempt": alice.attempt().id}, **kwargs)
        assert clear.status_code == 401
    assert alice.attempt().review_status == "pending_review"


def test_values_in_the_page_are_escaped(srv):
    alice = login(srv)
    item = identity_item(passed=False, reason="<script>alert(1)</script>", score=None,
                         threshold=None, record={}, at_ms=None, approved_by_proctor=True,
                         proctor_id="<img src=x onerror=alert(2)>")
    alice.post("/attempt/identity", item.request_entry()).raise_for_status()
    html = admin_session(srv).get(f"{srv.url}/admin/review", timeout=10).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
