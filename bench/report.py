"""The figures as a terminal table and as bench/results.md."""

import math
from datetime import UTC, datetime
from pathlib import Path

from bench.load import Measured

MB = 1024 * 1024
COLUMNS = ["scenario", "clients", "units", "units/s", "p50 ms", "p90 ms", "p99 ms", "errors",
           "/health req/s", "× /health", "API CPU ms/unit", "DB CPU ms/unit", "client CPU ms/unit",
           "other load (cores)", "API RSS MB", "DB RSS MB"]


def _num(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def row(measured: Measured, health_rate: float) -> list[str]:
    reference = measured.reference_rate or health_rate
    ratio = measured.rate / reference if reference else float("nan")
    return [
        measured.name, str(measured.clients), str(measured.units), _num(measured.rate),
        _num(measured.percentile(0.5)), _num(measured.percentile(0.9)),
        _num(measured.percentile(0.99)), str(measured.errors), _num(reference, 0),
        _num(ratio, 4),
        _num(measured.cpu_ms_per_unit("api"), 2), _num(measured.cpu_ms_per_unit("db"), 2),
        _num(measured.cpu_ms_per_unit("client"), 2), _num(measured.other_cores, 2),
        _num(measured.api_rss_peak / MB, 0), _num(measured.db_rss_peak / MB, 0),
    ]


def table(results: list[Measured], health_rate: float) -> str:
    rows = [COLUMNS, *(row(m, health_rate) for m in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def details(results: list[Measured]) -> list[str]:
    lines = []
    for m in results:
        extra = list(m.notes)
        if m.errors:
            shown = ", ".join(f"{label}×{count}" for label, count in m.outcomes.most_common())
            extra.append(f"answers: {shown}; first error: {m.first_error[:300]}")
        if m.drain_seconds > 1:
            extra.append(f"{m.drain_seconds:.1f} s past the window to answer the last requests")
        if m.http_per_unit > 1:
            extra.append(f"one unit = {m.http_per_unit} HTTP requests")
        lines.extend(f"- **{m.name}**: {note}" for note in extra)
    return lines


def markdown(results: list[Measured], health_rate: float, machine: dict[str, str],
             settings: dict[str, str], peaks: tuple[int, int]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|"
    body = ["| " + " | ".join(row(m, health_rate)) + " |" for m in results]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Run {now} by `{settings['command']}` (see bench/README.md).",
        "",
        f"- Machine: **{machine['cores']} cores** ({machine['cpu']}), {machine['memory']} RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}",
        f"- Server: `{settings['server']}` (a separate process) on SecantusDB "
        "(EmbeddedMongo, its own process, data on a temporary directory); the load generator "
        "runs on the same machine and shares its cores",
        f"- Load: closed loop, {settings['clients']} keep-alive aiohttp clients, "
        f"{settings['seconds']} s per scenario; {settings['products']} products seeded",
        f"- Peak RSS over the whole run: API {peaks[0] / MB:.0f} MB (target < 300 MB), "
        f"database {peaks[1] / MB:.0f} MB (target < 1 GB)",
        "",
        "A unit is one request, except `purchase` (order → payment → sandbox checkout → verify, "
        "4 requests). `× /health` is units/s divided by `GET /health` req/s measured on the same "
        "server in the same run, in a 2 s closed loop just before the scenario (shown as "
        "`/health req/s`; the `health` rows are the full-length runs at the start and the end). "
        "CPU per unit is the process's user+system CPU during the scenario divided by units. "
        "RSS is the peak sampled (every 0.25 s) during the scenario. `client` is this load "
        "generator's own CPU (it shares the machine); `other load` is the average number of "
        "cores every other process on the machine kept busy meanwhile (from /proc/stat): "
        "anything well above 0 means a noisy neighbour slowed this scenario down.",
        "",
        head, rule, *body,
        "",
        *details(results),
        "",
    ]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    path.write_text(text)
