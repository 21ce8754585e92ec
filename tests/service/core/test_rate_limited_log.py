"""Log volume bounded per kind (``core.rate_limited_log``): events one line per interval
with the count held back; state changes a burst at once, then a summary that ends on the
current state."""

from __future__ import annotations

import logging

from camera_service.core.rate_limited_log import RateLimitedLog

LOGGER = logging.getLogger("test.rate_limited")


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER.name]


def test_events_are_one_line_per_interval_with_the_count(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    clock = Clock()
    log = RateLimitedLog(10, LOGGER, clock)
    assert log.note("client dropped", "peer 1")
    for _ in range(554):
        clock.now += 0.01
        assert not log.note("client dropped", "peer 2")
    clock.now += 10
    assert log.note("client dropped", "peer 3")
    first, second = _lines(caplog)
    assert "peer 1" in first and "554 more" in second
    assert log.counts() == {"client dropped": 556}


def test_a_flapping_state_is_a_burst_then_one_summary_per_interval(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    clock = Clock()
    log = RateLimitedLog(60, LOGGER, clock, burst=4)
    written = 0
    for second in range(120):  # fails and recovers every second for two minutes
        clock.now += 0.5
        written += log.state("cam", "failing", f"cam failing ({second})")
        clock.now += 0.5
        written += log.state("cam", "delivering", f"cam delivering ({second})")
        log.flush()
    lines = _lines(caplog)
    assert written == 4 + 4 and len(lines) <= 4 + 1 + 4 + 1, lines
    assert any("not logged one by one" in line for line in lines)
    clock.now += 60
    log.flush()  # the log ends on the current state
    assert "cam delivering (119)" in _lines(caplog)[-1]


def test_a_single_failure_and_recovery_are_logged_as_they_happen(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    clock = Clock()
    log = RateLimitedLog(60, LOGGER, clock, burst=4)
    assert log.state("cam", "failing", "cam failing")
    clock.now += 3
    assert log.state("cam", "delivering", "cam delivering again")
    assert _lines(caplog) == ["cam failing", "cam delivering again"]
    assert log.flush() == 0
