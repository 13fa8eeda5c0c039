"""Helpers of the web tests: a console app on a fresh store, and logging in as a browser
would (the login form's CSRF cookie and field, then the session cookie)."""

from __future__ import annotations

import re

import httpx2 as httpx
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    """The CSRF token in a page's first form."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form; returns the answer to the POST."""
    client.cookies.clear()  # a fresh browser
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf": csrf_of(page.text)}, follow_redirects=False)


def page_csrf(client: TestClient) -> str:
    """The logged-in session's CSRF token, from the queue page."""
    return csrf_of(client.get("/queues").text)
