"""The config file watcher: one call per settled change, none for content already seen."""

from __future__ import annotations

import threading
import time

from camera_service.config.watch import FileWatcher
from service_test_helpers import wait_for


def test_change_is_reported_once_settled(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("a: 1\n")
    calls = []
    watcher = FileWatcher(path, lambda: calls.append(path.read_text()), interval=0.02)
    watcher.start()
    try:
        time.sleep(0.1)
        assert calls == []
        path.write_text("a: 2\n")
        wait_for(lambda: calls == ["a: 2\n"])
        time.sleep(0.1)
        assert calls == ["a: 2\n"]
    finally:
        watcher.stop()


def test_content_marked_seen_is_not_reported(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("a: 1\n")
    called = threading.Event()
    watcher = FileWatcher(path, called.set, interval=0.02)
    path.write_text("a: 2\n")
    watcher.mark_seen()  # e.g. the settings page saved and applied it already
    watcher.start()
    try:
        assert not called.wait(0.2)
        path.unlink()  # a missing file is no change to apply
        assert not called.wait(0.2)
    finally:
        watcher.stop()


def test_a_file_ending_mid_line_waits_longer_than_a_whole_one(tmp_path, monkeypatch):
    """Issue 23: a writer cut off mid-line (no newline at the end yet) is given
    UNFINISHED_CHECKS checks to finish before the content counts as settled."""
    from camera_service.config import watch

    path = tmp_path / "config.yaml"
    path.write_text("a: 1\n")
    seen = []
    checks = []
    real_read = watch._read

    def counting(target):
        checks.append(1)
        return real_read(target)

    monkeypatch.setattr(watch, "_read", counting)  # observes the checks, changes nothing
    watcher = FileWatcher(path, lambda: seen.append((path.read_text(), len(checks))),
                          interval=0.02)
    watcher.start()
    try:
        checks.clear()
        path.write_text("a: 2\nsources:\n  - name: fr")  # cut mid-line
        wait_for(lambda: seen)
        assert seen[0][1] >= watch.UNFINISHED_CHECKS
        checks.clear()
        path.write_text("a: 3\n")
        wait_for(lambda: len(seen) == 2)
        assert seen[1][1] < watch.UNFINISHED_CHECKS
    finally:
        watcher.stop()
