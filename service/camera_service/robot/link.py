"""The one thread that keeps the service connected to the robot.

Each round: authenticate if needed, keep the directory registration alive, sync camera
faults, update time sync (at most once per ``TIME_SYNC_SECONDS``, the default keep-alive
period, while it works); then sleep until the next keep-alive (or until a fault changes).
Every call has a deadline and stopping is checked between the steps; the thread unregisters
on its way out. Every
problem is retried with backoff and logged once when it starts and once when it ends, so a
robot that is not up yet, a payload not authorized yet, a reboot or a refused token all heal
by themselves while the service keeps serving images.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Sequence

import grpc
from bosdyn.client.directory import DirectoryClient
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from bosdyn.client.exceptions import Error as SdkError
from bosdyn.client.exceptions import UnauthenticatedError
from bosdyn.client.fault import FaultClient
from bosdyn.client.time_sync import TimeSyncClient

from camera_service.core.backoff import Backoff
from camera_service.robot.faults import FaultReporter
from camera_service.robot.registration import Registration
from camera_service.robot.session import (
    AUTH_TIMEOUT,
    AuthFailure,
    LoginDeferred,
    LoginRefused,
    RobotSession,
)
from camera_service.robot.time_sync import RobotClock

_LOG = logging.getLogger(__name__)
TOKEN_REFRESH_SECONDS = 3600.0  # payload tokens are renewed well before they expire
# While refused credentials are backed off, the credentials file is read again this often
# (locally; the robot is not asked) so a fixed file is tried at once.
CREDENTIALS_POLL_SECONDS = 1.0
# A working time sync is refreshed on the rounds this far apart (less half a keep-alive, so
# rounds on a keep-alive period of this length all sync): each refresh is an RPC, and a
# clock's skew drifts by far less than a frame's time in that span.
TIME_SYNC_SECONDS = 10.0


class _Stopping(Exception):
    """The link is stopping: the round ends here."""


class RobotLink:
    """Runs the robot lifecycle in a daemon thread; ``stop`` ends it within ``timeout``.

    Every robot call carries a deadline (``rpc_timeout``; time sync at most
    ``time_sync_budget`` per round, so a stalled time-sync answer never delays the next
    keep-alive past the robot's liveness timeout; a working sync refreshed every
    ``time_sync_seconds``, a failing or lost one every round), and stopping is checked
    between steps.
    After its last round the link thread itself unregisters and clears this service's
    faults, within what is left of the stop's ``timeout``: nothing can register again or
    raise a fault after ``stop`` returned. ``connected`` tells whether the last round fully
    succeeded (healthcheck, tests). ``round_tasks`` run at the end of every successful round
    with the session (e.g. reading
    the payload's pose); they must not raise.
    """

    def __init__(self, session: RobotSession, registration: Registration,
                 faults: FaultReporter, clock: RobotClock, keepalive_seconds: float = 10.0,
                 rpc_timeout: float = 3.0, backoff: Backoff | None = None,
                 round_tasks: Sequence[Callable[[RobotSession], None]] = (),
                 time_sync_seconds: float = TIME_SYNC_SECONDS) -> None:
        self.session = session
        self.registration = registration
        self.faults = faults
        faults.follow(registration)  # re-raises every fault after each fresh registration
        self.clock = clock
        self.keepalive_seconds = keepalive_seconds
        self.rpc_timeout = rpc_timeout
        self.time_sync_budget = min(rpc_timeout, keepalive_seconds)
        self.time_sync_seconds = time_sync_seconds
        self._synced_round = float("-inf")  # start of the last round whose time sync worked
        self.connected = False
        self.round_tasks = list(round_tasks)
        # Retrying costs one small RPC; a robot that comes up must see us within ~1 s.
        self._backoff = backoff or Backoff(initial=0.25, maximum=1.0)
        self._problem: str | None = None
        self._time_sync_problem: str | None = None
        self._wake = threading.Event()
        self._republish = threading.Event()
        self._stopping = threading.Event()
        self._stop_deadline = float("inf")  # time.monotonic() by which the thread must end
        self._watched_channel = None  # the robot channel whose connectivity wakes the loop
        self._thread = threading.Thread(target=self._run, name="robot-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        """True until the link thread has ended (after ``stop``, nothing talks to the robot)."""
        return self._thread.is_alive()

    def wake(self) -> None:
        """Run a round now (a fault changed)."""
        self._wake.set()

    def republish(self) -> None:
        """The source list changed: in the next round (now), unregister, wait until the
        robot's directory has dropped the entry, and register again."""
        self._republish.set()
        self._wake.set()

    @property
    def problem(self) -> str | None:
        """The current robot problem (one line), None while connected."""
        return self._problem

    def stop(self, timeout: float = 4.0) -> None:
        """End the loop; the link thread then unregisters and clears this service's faults
        (best effort). Returns within ``timeout`` seconds."""
        self._stop_deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            _LOG.warning("robot link did not finish within %.1f s; leaving it", timeout)

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            delay = self._round(time.monotonic())
            self._wake.wait(delay)
            self._wake.clear()
        self._leave()

    def _timeout(self, budget: float | None = None) -> float:
        """The deadline of the next call: ``budget`` (default ``rpc_timeout``), cut to what
        is left before the stop deadline."""
        budget = self.rpc_timeout if budget is None else budget
        return max(0.05, min(budget, self._stop_deadline - time.monotonic()))

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise _Stopping

    def _round(self, started: float) -> float:
        """One round, begun at ``started``; returns the seconds to wait before the next."""
        try:
            self._ensure_token()
            self._check_stopping()
            if not self.registration.registered and not self.clock.established:
                # Sync before registering, so no client ever sees a local-time timestamp.
                self.clock.update(self._client(TimeSyncClient), self._timeout(
                    self.time_sync_budget), self._stopping.is_set)
                self._check_stopping()
            if self._republish.is_set():
                self._unregister_for_new_list()
                self._check_stopping()
            if self.registration.keep_alive(self._client(DirectoryRegistrationClient),
                                            self._timeout()):
                # The robot rebooted between two rounds: its faults and clock are new too.
                self.faults.robot_forgot()
                self.clock.reset()
            self._check_stopping()
            self.faults.sync(self._client(FaultClient), self._timeout())
            self._check_stopping()
            self._update_clock(started)
            for task in self.round_tasks:
                self._check_stopping()
                task(self.session)
        except _Stopping:
            return 0.0
        except LoginDeferred as err:  # refused credentials, waiting out their back-off
            self.connected = False
            return min(err.retry_in, CREDENTIALS_POLL_SECONDS)
        except LoginRefused as err:
            self._failed(str(err), f"next attempt in {err.retry_in:.0f} s, then at growing "
                         "intervals (a refused login is not retried quickly: account lockout)")
            return min(err.retry_in, CREDENTIALS_POLL_SECONDS)
        except AuthFailure as err:
            return self._failed(str(err))
        except UnauthenticatedError:
            self.session.invalidate()
            self._failed("robot refused the service's token")
            return 0.1
        except SdkError as err:
            # Keep the clock estimate: while the robot is away it is the best there is.
            self.faults.robot_forgot()
            return self._failed(self.session.describe_rpc_error(err))
        except Exception as err:  # a bug must not end the link: report it, keep retrying
            if self._problem != f"bug: {err!r}":
                _LOG.exception("unexpected error talking to the robot")
            self.faults.robot_forgot()
            self._problem = f"bug: {err!r}"
            self.connected = False
            return self._backoff.next_delay()
        self._watch_connection()
        if self._problem is not None:
            _LOG.info("robot %s reachable again; service registered", self.session.target)
            self._problem = None
        self._backoff.reset()
        self.connected = True
        # The keep-alive period counts from the start of the round, so a slow round (a
        # stalled time sync) does not stretch the gap between two keep-alives.
        delay = max(0.0, started + self.keepalive_seconds - time.monotonic())
        held = self.faults.next_sync_in()  # a flapping camera's fault due to be cleared
        return delay if held is None else min(delay, held)

    def _update_clock(self, started: float) -> None:
        """Time sync while registered, in the round begun at ``started``: skipped while the
        last one worked less than ``time_sync_seconds`` (less half a keep-alive) ago; a
        failure keeps the last estimate and the round goes on (the keep-alive matters more);
        logged once when it starts and once when it ends."""
        fresh = started - self._synced_round < (self.time_sync_seconds
                                                - self.keepalive_seconds / 2)
        if fresh and self._time_sync_problem is None and self.clock.established:
            return
        try:
            self.clock.update(self._client(TimeSyncClient),
                              self._timeout(self.time_sync_budget), self._stopping.is_set)
        except UnauthenticatedError:
            raise
        except SdkError as err:
            problem = self.session.describe_rpc_error(err)
            if self._time_sync_problem is None:
                _LOG.warning("time sync with the robot failing (%s); acquisition times use "
                             "the last estimate", problem)
            self._time_sync_problem = problem
            return
        self._synced_round = started
        if self._time_sync_problem is not None:
            _LOG.info("time sync with the robot working again")
            self._time_sync_problem = None

    def _leave(self) -> None:
        """After the last round, on this thread: unregister and clear this service's faults
        within what is left before the stop deadline."""
        self.connected = False
        if not self.session.authenticated:
            return
        try:
            budget = (self._stop_deadline - time.monotonic()) / 2
            if budget < 0.05:
                raise TimeoutError("no time left before the stop deadline")
            self.registration.unregister(self._client(DirectoryRegistrationClient),
                                         min(self.rpc_timeout, budget))
            budget = self._stop_deadline - time.monotonic()
            if budget < 0.05:
                raise TimeoutError("no time left before the stop deadline")
            self.faults.clear_all(self._client(FaultClient), min(self.rpc_timeout, budget))
        except (SdkError, TimeoutError) as err:
            reason = (self.session.describe_rpc_error(err) if isinstance(err, SdkError)
                      else str(err))
            _LOG.warning("could not unregister from the robot at shutdown: %s", reason)

    def _unregister_for_new_list(self) -> None:
        """First half of republishing (``republish``); the round's keep-alive then
        registers the new list. Raises the SDK's errors (the next round tries again)."""
        if self.registration.registered:
            self.registration.unregister(self._client(DirectoryRegistrationClient),
                                         self._timeout())
            if not self.registration.wait_dropped(self._client(DirectoryClient),
                                                  timeout=self._timeout(5.0)):
                _LOG.warning("the robot's directory still lists %r 5 s after unregistering;"
                             " registering the new source list anyway",
                             self.registration.endpoint.name)
        self._republish.clear()

    def _watch_connection(self) -> None:
        """Wake the loop the moment the robot drops its connection (reboot, network loss),
        so re-registration does not wait for the next keep-alive period."""
        channel = self._client(DirectoryRegistrationClient).channel
        if channel is self._watched_channel:
            return
        self._watched_channel = channel
        was_ready = [False]

        def on_change(state: grpc.ChannelConnectivity) -> None:
            if state is grpc.ChannelConnectivity.READY:
                was_ready[0] = True
            elif was_ready[0]:
                was_ready[0] = False
                self._wake.set()

        channel.subscribe(on_change, try_to_connect=False)

    def _ensure_token(self) -> None:
        session = self.session
        stale = (session.authenticated_at is not None and
                 time.monotonic() - session.authenticated_at > TOKEN_REFRESH_SECONDS)
        if session.authenticated and not stale:
            return
        session.authenticate(self._timeout(AUTH_TIMEOUT))
        self.faults.payload_guid = session.payload_guid or ""
        who = f"payload {session.payload_guid}" if session.payload_guid else "user"
        _LOG.info("authenticated to robot %s as %s", session.target, who)

    def _failed(self, problem: str, retry: str = "retrying in the background") -> float:
        """Note a failed round: one warning per change of problem. Returns the usual delay."""
        self.connected = False
        if problem != self._problem:
            _LOG.warning("%s; %s", problem, retry)
            self._problem = problem
        else:
            _LOG.debug("still failing: %s", problem)
        return self._backoff.next_delay()

    def _client(self, client_class):
        return self.session.client(client_class)
