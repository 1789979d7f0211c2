"""The public forms under a flood: serving them writes nothing, and what the limits,
the typing-time check and the backpressure refuse stores nothing.

The app is composed as ``ogp-feedback serve`` composes it; without a broker a stored
submission would be processed in the request, so most tests leave processing out
(``enqueue=None``) and count rows, and one test runs with Redis as the broker.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from moderation.models import InboundMessage, InboundStatus
from moderation.web.app import create_app
from moderation.web.form_tokens import FORM_COOKIE, sign
from tests.conftest import derive
from tests.row_counts import row_counts
from tests.unit.factories import SQLITE_ONLY, plain_mail, store
from tests.unit.moderation.web.staff import CSRF_FIELD, TestClient
from workers.runtime import Runtime

COMMENT = "Buxhetet e bashkive duhet të publikohen në format të hapur, çdo muaj."
ONE_CLIENT = ("198.51.100.23", 41000)
MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings, engine: Engine) -> Iterator[MakeClient]:
    """A browser without JavaScript at a client address, on an app with these settings."""
    opened: list[TestClient] = []

    def make(peer: tuple[str, int] = ONE_CLIENT, enqueue: Any = None,
             **changes: object) -> TestClient:
        app = create_app(derive(settings, **changes), engine=engine, enqueue=enqueue)
        client = TestClient(app, follow_redirects=False, client=peer)
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def token_of(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def fields(token: str, email: str = "ana@example.org", **changes: str) -> dict[str, str]:
    return {"name": "Ana Hoxha", "email": email, "subject": "Buxhetet", "commitment": "9",
            "comment": COMMENT, "website": "", "csrf_token": token, **changes}


def form_messages(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage)))


def test_five_hundred_cookieless_gets_write_nothing(make_client: MakeClient,
                                                    engine: Engine) -> None:
    browser = make_client()
    before = row_counts(engine)
    for n in range(500):
        browser.cookies.clear()
        path = ("/contact", "/login", "/contact?commitment=4", "/login?next=/queue",
                "/contact/confirm?token=unknown")[n % 5]
        response = browser.get(path)
        assert response.status_code in (200, 404), path  # an unknown link is "not found"
        assert CSRF_FIELD.search(response.text) or "unknown" in path
    assert row_counts(engine) == before


@SQLITE_ONLY
def test_two_hundred_posts_from_one_address_are_cut_at_the_limit(
        make_client: MakeClient, engine: Engine) -> None:
    browser = make_client(form_min_seconds=0, form_client_limit_per_hour=20)
    token = token_of(browser.get("/contact"))
    answers: list[httpx.Response] = []
    counts_at_limit: dict[str, int] = {}
    for n in range(200):
        answers.append(browser.post("/contact",
                                    data=fields(token, email=f"qytetar{n}@example.org")))
        if n == 19:
            counts_at_limit = row_counts(engine)
    statuses = [answer.status_code for answer in answers]
    assert statuses == [303] * 20 + [429] * 180
    assert len(form_messages(engine)) == 20
    assert row_counts(engine) == counts_at_limit  # the 180 refusals stored nothing
    refused = answers[-1]
    assert "20 komente brenda një ore" in refused.text
    assert "20 comments were sent from this internet connection within one hour" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert COMMENT in refused.text  # the citizen's text is still in the form


@SQLITE_ONLY
def test_the_limit_for_everyone_stops_many_addresses(make_client: MakeClient,
                                                     engine: Engine) -> None:
    first = make_client(peer=("203.0.113.1", 1000), form_min_seconds=0,
                        form_global_limit_per_minute=3)
    # Every client of one app shares its counts (in Redis when configured).
    app = first.app
    answers = []
    for n in range(5):
        with TestClient(app, follow_redirects=False, client=(f"203.0.113.{n + 10}", 1000)) as c:
            answers.append(c.post("/contact", data=fields(token_of(c.get("/contact")),
                                                          email=f"q{n}@example.org")))
    assert [a.status_code for a in answers] == [303, 303, 303, 429, 429]
    assert "Po marrim shumë komente njëkohësisht" in answers[-1].text
    assert "We are receiving very many comments at once" in answers[-1].text
    assert len(form_messages(engine)) == 3


@SQLITE_ONLY
def test_a_form_sent_faster_than_a_person_types_is_refused(make_client: MakeClient,
                                                           engine: Engine,
                                                           settings: Settings) -> None:
    browser = make_client(form_min_seconds=30)
    before = row_counts(engine)
    refused = browser.post("/contact", data=fields(token_of(browser.get("/contact"))))
    assert refused.status_code == 400
    assert "faster than a person types" in refused.text
    assert "më shpejt se sa shkruan një njeri" in refused.text
    assert COMMENT in refused.text
    assert row_counts(engine) == before
    # The same browser's form, served 31 seconds ago: a person had time to write.
    nonce = browser.cookies[FORM_COOKIE]
    served_earlier = sign(settings.secret_key, nonce, int(time.time()) - 31)
    assert browser.post("/contact", data=fields(served_earlier)).status_code == 303
    assert len(form_messages(engine)) == 1


@SQLITE_ONLY
@pytest.mark.parametrize("forgery", ["another key", "another cookie", "expired", "garbage"])
def test_a_forged_or_stale_form_token_is_refused(make_client: MakeClient, engine: Engine,
                                                 settings: Settings, forgery: str) -> None:
    browser = make_client(form_min_seconds=0)
    browser.get("/contact")
    nonce = browser.cookies[FORM_COOKIE]
    now = int(time.time())
    token = {"another key": sign("some-other-secret-key-0123456789", nonce, now - 10),
             "another cookie": sign(settings.secret_key, "x" * 32, now - 10),
             "expired": sign(settings.secret_key, nonce,
                             now - settings.session_max_age_seconds - 60),
             "garbage": "1.2"}[forgery]
    response = browser.post("/contact", data=fields(token))
    assert response.status_code == 403
    assert "Reload the form page" in response.text
    assert form_messages(engine) == []


@SQLITE_ONLY
def test_when_too_much_waits_the_form_says_so_and_stores_nothing(make_client: MakeClient,
                                                                 engine: Engine) -> None:
    store(engine, plain_mail("Një."), plain_mail("Dy."))  # two messages wait for processing
    browser = make_client(form_min_seconds=0, backpressure_max_unprocessed=2)
    before = row_counts(engine)
    response = browser.post("/contact", data=fields(token_of(browser.get("/contact"))))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "300"
    assert "We are receiving more comments than we can process right now" in response.text
    assert "Po marrim më shumë komente se sa mund të përpunojmë tani" in response.text
    assert COMMENT in response.text
    assert row_counts(engine) == before


@SQLITE_ONLY
def test_with_a_broker_the_submission_is_queued_not_processed_in_the_request(
        settings: Settings, engine: Engine, redis_url: str, make_runtime: Any) -> None:
    queue = f"ogp-form-{time.time_ns()}"
    runtime: Runtime = make_runtime(derive(settings, broker_url=redis_url, celery_queue=queue,
                                           form_min_seconds=0))
    broker = redis.Redis.from_url(redis_url)
    try:
        with TestClient(runtime.web_app(), follow_redirects=False, client=ONE_CLIENT) as c:
            response = c.post("/contact", data=fields(token_of(c.get("/contact"))))
        assert response.status_code == 303
        [message] = form_messages(engine)
        assert message.status == InboundStatus.RECEIVED  # a worker will process it
        [task] = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
        assert task["headers"]["task"].startswith("ogp.process")
        assert re.fullmatch(rf"\[+{message.id}\]+", task["headers"]["argsrepr"])
    finally:
        broker.delete(queue)
        broker.close()
