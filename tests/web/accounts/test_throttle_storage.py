"""Where the sign-in throttle keeps its counters: Redis when configured (shared by
every process and host), and per-process memory when Redis stops answering."""

from __future__ import annotations

import contextvars

import pytest
import redis

from tests.conftest import Auth, Client, Forms, make_app
from tests.factories import make_user

#: A database number of the machine's Redis reserved for these tests.
REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    return client


@pytest.fixture
def shared_redis():
    client = redis_or_skip()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app_config():
    return {"RATELIMIT_STORAGE_URL": REDIS_URL}


def fresh_process_auth(database_url: str) -> Auth:
    """Another app process: its own limiter storage object, the same Redis."""
    other = make_app(database_url, RATELIMIT_STORAGE_URL=REDIS_URL)
    other.test_client_class = Client
    return Auth(Forms(other.test_client()))


def test_failed_sign_ins_are_counted_in_redis_and_seen_by_another_process(
    shared_redis, app, auth, database_url
):
    make_user(email="ada@example.org")
    for _ in range(5):
        assert auth.sign_in("ada@example.org", "wrong guess 123").status_code == 401

    assert shared_redis.dbsize() > 0
    # Built in a blank context, as a second gunicorn worker would be.
    second = contextvars.Context().run(fresh_process_auth, database_url)
    assert second.sign_in("ada@example.org").status_code == 429


class TestRedisDown:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_STORAGE_URL": "redis://127.0.0.1:1/0"}

    def test_sign_in_still_works_and_is_still_throttled_in_memory(self, app, auth):
        make_user(email="ada@example.org")

        assert auth.sign_in("ada@example.org").status_code == 302
        auth.sign_out()
        codes = [
            auth.sign_in("ada@example.org", "wrong guess 123").status_code
            for _ in range(6)
        ]

        assert codes == [401] * 5 + [429]
