"""Sessions expire and end; CSRF tokens compare exactly; failed logins lock a client out
with a doubling wait, per client, cleared by a success."""

from __future__ import annotations

from camera_service.settings_page.sessions import LoginLimiter, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_session_lives_for_its_lifetime_then_is_gone():
    clock = Clock()
    store = SessionStore(lifetime=60, clock=clock)
    session = store.create("alice")
    assert store.get(session.id) is session
    clock.now += 59
    assert store.get(session.id) is session and store.remaining(session) == 1
    clock.now += 1
    assert store.get(session.id) is None


def test_ended_session_and_unknown_ids_are_refused():
    store = SessionStore(lifetime=60)
    session = store.create("alice")
    store.end(session.id)
    assert store.get(session.id) is None
    assert store.get("") is None and store.get(None) is None and store.get("guess") is None


def test_ids_and_csrf_tokens_are_random_and_checked_exactly():
    store = SessionStore(lifetime=60)
    one, two = store.create("a"), store.create("a")
    assert len({one.id, two.id, one.csrf_token, two.csrf_token}) == 4
    assert one.csrf_ok(one.csrf_token)
    assert not one.csrf_ok(two.csrf_token)
    assert not one.csrf_ok("") and not one.csrf_ok(None)
    assert not one.csrf_ok(one.csrf_token[:-1])


def test_limiter_locks_after_allowed_failures_and_doubles():
    clock = Clock()
    limiter = LoginLimiter(allowed=3, lockout=10, max_lockout=25, clock=clock)
    for _ in range(2):
        limiter.failed("10.0.0.1")
        assert limiter.wait_seconds("10.0.0.1") == 0
    limiter.failed("10.0.0.1")
    assert limiter.wait_seconds("10.0.0.1") == 10
    assert limiter.wait_seconds("10.0.0.2") == 0  # per client
    clock.now += 10
    assert limiter.wait_seconds("10.0.0.1") == 0
    for _ in range(3):
        limiter.failed("10.0.0.1")
    assert limiter.wait_seconds("10.0.0.1") == 20
    clock.now += 20
    for _ in range(3):
        limiter.failed("10.0.0.1")
    assert limiter.wait_seconds("10.0.0.1") == 25  # capped


def test_success_clears_the_count():
    limiter = LoginLimiter(allowed=2, lockout=10)
    limiter.failed("c")
    limiter.succeeded("c")
    limiter.failed("c")
    assert limiter.wait_seconds("c") == 0


# -- issue 23, defect 6: attempts counted before they are made -------------------------------
def test_attempts_in_flight_count_before_they_fail():
    limiter = LoginLimiter(allowed=3, lockout=10, clock=Clock())
    begun = [limiter.begin("c") for _ in range(10)]  # 10 parallel attempts, none answered
    assert begun == [0.0] * 3 + [10.0] * 7  # only 3 may reach the robot
    for _ in range(3):
        limiter.failed("c")
    assert limiter.begin("c") > 0  # locked out now
    other = LoginLimiter(allowed=2, lockout=10)
    assert other.begin("k") == 0.0
    other.abandoned("k")  # the robot could not be asked: the attempt does not count
    assert other.begin("k") == 0.0 and other.begin("k") == 0.0 and other.begin("k") > 0


def test_the_key_table_is_bounded_and_keeps_lockouts():
    limiter = LoginLimiter(allowed=1, lockout=60, max_keys=4)
    limiter.begin("locked")
    limiter.failed("locked")
    for index in range(100):  # a spray of user names
        limiter.begin(f"user{index}")
        limiter.succeeded(f"user{index}") if index % 2 else limiter.abandoned(f"user{index}")
    assert len(limiter._clients) <= 4
    assert limiter.begin("locked") > 0
