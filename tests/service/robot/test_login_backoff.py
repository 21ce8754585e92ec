"""Refused logins back off: >= 15 s, growing, per credentials; injected clock."""

from __future__ import annotations

import pytest
from camera_service.robot.login_backoff import LoginBackoff
from service_test_helpers import ManualClock as Clock


def test_refusals_wait_at_least_15_s_and_grow_to_the_cap():
    policy = LoginBackoff(clock=Clock())
    creds = policy.fingerprint("guid", "wrong-secret")
    delays = [policy.refused(creds) for _ in range(8)]
    assert delays == [15, 30, 60, 120, 240, 300, 300, 300]
    assert policy.refusals == 8


def test_same_credentials_wait_out_the_delay():
    clock = Clock()
    policy = LoginBackoff(clock=clock)
    creds = policy.fingerprint("guid", "wrong-secret")
    assert policy.remaining(creds) == 0  # never refused: try now
    policy.refused(creds)
    assert policy.remaining(creds) == pytest.approx(15)
    clock.now += 14.5
    assert policy.remaining(creds) == pytest.approx(0.5)
    clock.now += 0.5
    assert policy.remaining(creds) == 0


def test_other_credentials_are_tried_at_once_and_start_over():
    policy = LoginBackoff(clock=Clock())
    wrong, fixed = policy.fingerprint("guid", "wrong"), policy.fingerprint("guid", "fixed")
    policy.refused(wrong)
    policy.refused(wrong)
    assert policy.remaining(fixed) == 0
    assert policy.refused(fixed) == 15  # a new refusal starts again at the first step


def test_success_forgets_the_refusals():
    policy = LoginBackoff(clock=Clock())
    creds = policy.fingerprint("user", "pw")
    policy.refused(creds)
    policy.succeeded()
    assert policy.remaining(creds) == 0 and policy.refusals == 0


def test_fingerprints_hide_the_secret_and_separate_the_parts():
    policy = LoginBackoff()
    print_ = policy.fingerprint("guid", "s3cret-value")
    assert b"s3cret-value" not in print_
    assert policy.fingerprint("ab", "c") != policy.fingerprint("a", "bc")
    assert LoginBackoff().fingerprint("guid", "s3cret-value") != print_  # salted per process


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError):
        LoginBackoff(initial=0)
    with pytest.raises(ValueError):
        LoginBackoff(initial=20, maximum=10)
