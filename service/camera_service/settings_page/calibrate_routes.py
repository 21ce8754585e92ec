"""The calibrate panel's API (behind the page's login; every change through its CSRF and
same-origin guard):

- ``GET /api/calibrate``              the run's status (views, coverage grid, pose spread
                                      with hints, solving, result with the RMS's meaning).
- ``GET /api/calibrate/frame``        a fresh JPEG of the run's source with the detected
                                      board drawn; the status in ``X-Calibrate-Views`` /
                                      ``X-Calibrate-Detected``.
- ``POST /api/calibrate/start``       ``{source, board: "9x6", square: 0.025, model,
                                      pattern: "chessboard" | "charuco"}``.
- ``POST /api/calibrate/capture``     keep the last detection as a view.
- ``POST /api/calibrate/auto``        ``{on: bool}``: keep every detection somewhere new.
- ``POST /api/calibrate/clear``       forget the views.
- ``POST /api/calibrate/solve``       solve on a background thread (409 while one runs).
- ``POST /api/calibrate/save``        write the file next to the config, attach, apply.

A refused operation is ``409 {"error": "calibrate", "message": one line}``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Protocol, Tuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camera_service.web.errors import WebError


class CalibrateRefused(WebError, kind="calibrate", http_status=409):
    """The calibrate operation cannot be done now."""


class CalibratorLike(Protocol):
    """What the panel asks of the service (``app.calibrate_backend.Calibrator``)."""

    def start(self, source: str, board: str, square: float, model: str,
              pattern: str) -> Dict[str, Any]: ...

    def status(self) -> Dict[str, Any]: ...

    def look(self) -> Tuple[bytes, Dict[str, Any]]: ...

    def run(self) -> Any: ...

    def save(self, username: str) -> Dict[str, Any]: ...


def calibrate_routes(calibrator: CalibratorLike, signed_in: Callable, post: Callable,
                     answer: Callable[[Any], Response]) -> List[Route]:
    """The panel's routes; ``signed_in``/``post`` are the page's guards, ``answer`` its
    JSON answer (masked, scrubbed)."""

    async def call(function: Callable, *args: Any) -> Any:
        try:
            return await run_in_threadpool(function, *args)
        except RuntimeError as err:  # RunError and its kinds: one line for the page
            raise CalibrateRefused(str(err)) from None

    async def status(request: Request, session) -> Response:
        return answer(await call(calibrator.status))

    async def frame(request: Request, session) -> Response:
        jpeg, state = await call(calibrator.look)
        return Response(jpeg, media_type="image/jpeg", headers={
            "X-Calibrate-Views": str(state["views"]),
            "X-Calibrate-Detected": "1" if state["detected"] else "0"})

    async def start(request: Request, body: Dict[str, Any], session) -> Response:
        return answer(await call(calibrator.start, str(body.get("source", ""))[:200],
                                 str(body.get("board", "9x6")), body.get("square", 0.025),
                                 str(body.get("model", "pinhole_brown_conrady")),
                                 str(body.get("pattern", "chessboard"))))

    async def capture(request: Request, body: Dict[str, Any], session) -> Response:
        run = await call(calibrator.run)
        await call(run.capture)
        return answer(run.status())

    async def auto(request: Request, body: Dict[str, Any], session) -> Response:
        run = await call(calibrator.run)
        run.auto = bool(body.get("on"))
        return answer(run.status())

    async def clear(request: Request, body: Dict[str, Any], session) -> Response:
        run = await call(calibrator.run)
        run.clear()
        return answer(run.status())

    async def solve(request: Request, body: Dict[str, Any], session) -> Response:
        run = await call(calibrator.run)
        await call(run.start_solve)
        return answer(run.status())

    async def save(request: Request, body: Dict[str, Any], session) -> Response:
        return answer(await call(calibrator.save, session.username))

    get, change = ["GET", "HEAD"], ["POST"]
    return [
        Route("/api/calibrate", signed_in(status), methods=get),
        Route("/api/calibrate/frame", signed_in(frame), methods=get),
        Route("/api/calibrate/start", post(start), methods=change),
        Route("/api/calibrate/capture", post(capture), methods=change),
        Route("/api/calibrate/auto", post(auto), methods=change),
        Route("/api/calibrate/clear", post(clear), methods=change),
        Route("/api/calibrate/solve", post(solve), methods=change),
        Route("/api/calibrate/save", post(save), methods=change),
    ]
