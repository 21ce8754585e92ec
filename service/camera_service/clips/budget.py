"""How much memory the pre-roll rings may hold, and the one line when a pre-roll does not fit.

The rings share ``RING_SHARE`` of the working room (memory limit minus the idle service's
baseline, as in ``core.memory_limits``), split evenly between the clip-enabled sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from camera_service.core.memory_limits import BASELINE_MIB, MIB, BudgetLimits, mib_text

RING_SHARE = 0.25  # of the working room, for all pre-roll rings together
MIN_RING_BYTES = 4 * MIB


@dataclass(frozen=True)
class RingBudget:
    """The byte cap of one source's ring and where it comes from (for messages)."""

    max_bytes: int
    memory_limit: int
    limit_origin: str

    @classmethod
    def share_of(cls, limits: BudgetLimits, clip_sources: int,
                 limit_origin: str = "the memory limit") -> RingBudget:
        """One source's share when ``clip_sources`` sources keep a ring."""
        room = max(32 * MIB, limits.memory_limit - BASELINE_MIB * MIB)
        share = int(room * RING_SHARE) // max(1, clip_sources)
        return cls(max(MIN_RING_BYTES, share), limits.memory_limit, limit_origin)

    def does_not_fit(self, source: str, pre_roll_s: float, bytes_per_second: float,
                     margin_s: float = 0.0) -> str:
        """The one line for a pre-roll of ``pre_roll_s`` (kept ``margin_s`` longer) that
        needs more than ``max_bytes`` at ``bytes_per_second``: names the limit and the
        setting to change."""
        held = self.max_bytes / bytes_per_second if bytes_per_second > 0 else pre_roll_s
        keeps = max(0.0, held - margin_s)
        needs = int((pre_roll_s + margin_s) * bytes_per_second)
        return (f"clips of camera {source!r}: pre-roll of {pre_roll_s:g} s needs about "
                f"{mib_text(needs)} MiB but its share of the "
                f"memory limit ({mib_text(self.memory_limit)} MiB from {self.limit_origin}) "
                f"is {mib_text(self.max_bytes)} MiB, so clips start at most {keeps:.1f} s "
                f"before the action; set sources.{source}.clips.pre_roll_s to {keeps:.1f} or "
                "less, or raise service.memory_limit_mib")
