"""docs/BENCHMARKS.md: the tables of one ``python -m bench`` run with how they were made."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench import latency_report
from bench.plots import MATRIX, PLOT_DIR, markdown, matrix_plot
from bench.report import Results, figures_table, machine, ratio_rows, ratios_table
from bench.tablet_report import existing_section

# Sections written by other runs (e.g. tests/reliability/test_memory_budget.py's figures) sit
# between these markers at the end of the document; a bench run keeps them as they are.
KEPT_START = "<!-- kept-sections:start -->"
KEPT_END = "<!-- kept-sections:end -->"
PLOT_ALT = "Server CPU per response, service and baseline, per workload row (log scale)"

METHOD = """\
## What is measured

- **Service as shipped** ("ours"): the camera service (`python -m camera_service --config ...`)
  as a child process, registered with the robot simulator (`python -m robot_sim`, also a
  child process). Each frame is turned into each requested output at most once.
- **Baseline**: the same service run as `python -m bench.baseline` (the service's wiring
  with `bench.baseline.ReencodeEveryRequest` in place of its output cache): every GetImage
  decodes the camera's JPEG and encodes it again, as the SDK's
  `custom_parameter_image_server` example does. Same process, same capture, same gRPC server:
  the ratio isolates the per-request work.
- **Sources**: 1280x720 and 1920x1080 at 30 frames/s. *synthetic*: the synthetic camera in
  native-JPEG mode delivering JPEG quality 90 with `jpeg_passthrough: never`, so every
  client's quality-75 image is a re-encode (once per frame in the service, once per request
  in the baseline); *ipcam*: the fake IP camera (`python -m fake_cameras.ip_camera`, its own
  process, quality 90) read through the `url` source (HTTP multipart MJPEG), policy `auto`:
  the service sends the camera's bytes; *passthrough*: the synthetic camera delivering
  quality 75, what the clients ask for: the service sends the camera's own bytes. The
  baseline decodes and re-encodes every one of them.
- **Clients**: 1 or 4 concurrent clients in the benchmark process, each on its own channel,
  asking for JPEG quality 75 (as the tablet does) in a closed loop (next request as soon as
  the answer arrives). *direct*: raw `ImageServiceStub` to the service's port; *routed*: the
  SDK's `ImageClient` through the simulator, which forwards the call over gRPC to the
  registered service as the robot does for payloads.
- **Figures** (medians of the repeated runs, each figure separately):
  resp/s = GetImage answers per second, all clients together; frames/s = distinct camera
  frames each client received per second (30 = every frame); p50/p99 ms = round trip;
  age ms = median of receipt time minus the frame's acquisition time (the simulator's clock
  is set equal to the local clock); CPU ms/resp = service CPU time (user + system) during the
  run per response, of every thread but the capture threads (those busy while no client
  asks, found before the runs): what serving costs, camera capture excluded;
  encodes/resp = JPEG encodes per response (service counters, SIGUSR1); peak RSS = the
  service's VmHWM, reset before each run.
- Routed throughput is bound by the simulator's forwarding (Python; the robot forwards in
  native code). Where a service answers fewer requests per second than the camera delivers
  frames, nearly every response is a new frame, so encoding once per frame saves little and
  the CPU ratio approaches 1; the *passthrough* rows show what a camera delivering the
  requested quality saves even then.
- The clients, the simulator, the fake camera and the service share one machine: with
  2 cores the absolute figures are bound by the machine (the clients' own CPU competes), the
  ratios of one run are what to compare. CPU per response is the figure that carries over to
  the CORE I/O, whose ARM cores are several times slower per encode.
"""


def summary(results: Results) -> str:
    """The headline sentence: CPU ratio range and the 4-client latency ratios."""
    rows = ratio_rows(results)
    if not rows:
        return "No workload ran in both modes."
    cpu = [r["cpu"] for _, r in rows]
    lines = [f"- Server CPU per response: the baseline needs **{min(cpu):.1f}x to "
             f"{max(cpu):.1f}x** (median {statistics.median(cpu):.1f}x) the CPU of the service."]
    four = [(w, r) for w, r in rows if w.clients > 1]
    if four:
        p50 = statistics.median(r["p50"] for _, r in four)
        thr = statistics.median(r["throughput"] for _, r in four)
        lines.append(f"- With several clients: median p50 latency ratio (baseline÷ours) "
                     f"**{p50:.1f}x**, throughput ratio (ours÷baseline) **{thr:.1f}x**.")
    frames = [results[(w, "ours")].frames_per_s for w, _ in rows]
    lines.append(f"- Distinct frames per client per second (service as shipped): "
                 f"{min(frames):.1f} to {max(frames):.1f} of 30.")
    return "\n".join(lines)


def write_document(path: Path, results: Results, command: str,
                   args: argparse.Namespace) -> None:
    """Write the Markdown report of ``results`` to ``path``, and its plot of the same
    ``results`` (``bench.plots.MATRIX``) into ``PLOT_DIR`` beside it."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kept = existing_section(path)  # the tablet workload's section, written on its own
    latency = existing_section(path, latency_report.START, latency_report.END)
    kept = "\n\n".join(part for part in (kept, latency) if part)
    kept_tail = existing_section(path, KEPT_START, KEPT_END)
    text = f"""# Benchmarks

Generated by `make bench` / `{command}` on {stamp}.

Machine: {machine()}.
Runs: {args.repeats} x {args.seconds:g} s per figure (medians).

{kept + chr(10) + chr(10) if kept else ""}## Summary

{summary(results)}

{markdown(MATRIX, PLOT_ALT)}

## Ratios (above 1 = the service beats the re-encode-every-request baseline)

{ratios_table(results)}

## All figures

{figures_table(results)}

{METHOD}
## Reliability suite (runs in CI: `pytest tests/reliability`)

- `test_soak_endurance.py`: 100,000 GetImage calls over several sources and formats; RSS, thread and
  file-descriptor counts at start and end, with bounds.
- `test_fuzz_requests.py`: hypothesis-generated GetImage / ListImageSources requests; the service
  always answers in time with the status the input calls for.
- `test_fault_loop.py`: robot down at start, 10 robot reboots, 10 camera failures and
  recoveries; times to re-register and to recover are printed.
- `test_secrets_never_leak.py`: every error path run with a known secret; it appears in no log line,
  error or response.
{chr(10) + kept_tail + chr(10) if kept_tail else ""}"""
    path.parent.mkdir(parents=True, exist_ok=True)
    matrix_plot(results, path.parent / PLOT_DIR)
    path.write_text(text, encoding="utf-8")
