"""Printing benchmark figures: one table row per measurement, and target verdicts that say
by how much a target was missed (benchmarks print, they never assert)."""

from __future__ import annotations

from loadgen import Stats

HEADER = (
    f"{'measurement':<34} {'conns':>5} {'requests':>8} {'errors':>6} "
    f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
)


def row(stats: Stats) -> str:
    """One aligned line of figures for ``stats``."""
    worst = max(stats.latencies_ms) if stats.latencies_ms else float("nan")
    line = (
        f"{stats.name:<34} {stats.connections:>5} {stats.requests:>8} {stats.errors:>6} "
        f"{stats.rps:>8.1f} {stats.percentile(50):>8.2f} {stats.percentile(99):>8.2f} "
        f"{worst:>8.2f}"
    )
    if stats.first_error:
        line += f"   first error: {stats.first_error}"
    return line


def at_least(label: str, measured: float, target: float, unit: str) -> str:
    """A verdict for a "higher is better" target."""
    if measured >= target:
        return f"  target met   : {label} {measured:.1f} {unit} >= {target:g} {unit}"
    short = target - measured
    return (
        f"  TARGET MISSED: {label} {measured:.1f} {unit} < {target:g} {unit} "
        f"(short by {short:.1f} {unit}, {short / target:.0%})"
    )


def at_most(label: str, measured: float, target: float, unit: str) -> str:
    """A verdict for a "lower is better" target."""
    if measured <= target:
        return f"  target met   : {label} {measured:.2f} {unit} <= {target:g} {unit}"
    over = measured - target
    return (
        f"  TARGET MISSED: {label} {measured:.2f} {unit} > {target:g} {unit} "
        f"(over by {over:.2f} {unit}, {measured / target:.1f}x the target)"
    )


def none(label: str, count: int) -> str:
    """A verdict for a target of zero (errors, orphans)."""
    if count == 0:
        return f"  target met   : {label}: 0"
    return f"  TARGET MISSED: {label}: {count} (target 0)"
