"""benchmarks/load.py's figures in words: one line per run while it runs, and its section of
RESULTS.md (tables, what PostgreSQL waited on, memory, server errors, targets and verdicts), with an
earlier run's figures side by side when given."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from harness import quantile

TARGET_RATE, TARGET_P95, TARGET_RSS, TARGET_FLAT, TARGET_BYTES = 250.0, 250.0, 100.0, 5.0, 5 * 1024
NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def percentiles(ordered: list[float]) -> dict[str, float]:
    return {
        "n": len(ordered),
        "p50": quantile(ordered, 0.50),
        "p95": quantile(ordered, 0.95),
        "p99": quantile(ordered, 0.99),
    }


def server_5xx(run: dict[str, Any]) -> int:
    return sum(n for key, n in run["statuses"].items() if int(key.split()[1]) >= 500)


def broken(run: dict[str, Any]) -> int:
    return sum(n for key, n in run["statuses"].items() if key.split()[1] == "0")


def sound(figures: dict[str, Any]) -> bool:
    """Whether every run answered without 5xx or broken connections, deadlocked nowhere, its clients
    ended by the bound, and the database added up exactly and verified."""
    return all(
        not server_5xx(r)
        and not broken(r)
        and not r["server"]["deadlocks"]
        and not r["client_errors"]
        and not r["stuck_clients"]
        and r["accounting"]["exact"]
        and r["accounting"]["verified"]
        for r in figures["runs"]
    )


def answers(run: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for key, n in run["statuses"].items():
        counts[key.split()[1]] += n
    return counts


def rss_points(run: dict[str, Any], key: str = "mb") -> list[tuple[int, float]]:
    """(requests so far, the largest worker's RSS in MB) at each sample; key="pss_mb": its PSS."""
    points = []
    for sample in run["rss"]:
        sizes = [mb for mb in sample.get(key, {}).values() if mb is not None]
        if sizes:
            points.append((sample["requests"], max(sizes)))
    return points


def one_line(run: dict[str, Any]) -> str:
    latency, server, accounting = run["latency_ms"], run["server"], run["accounting"]
    rss = rss_points(run)
    per_task = run["db_bytes_per_task"]
    return (
        f"{NAMES[run['backend']]} {run['workers']}w {run['clients']}c"
        f"{' (memory)' if run['memory'] else ''}: {run['requests']} requests in {run['seconds']:.1f} s, "
        f"{run['rate']:.1f} completions/s, p50/p95/p99 {latency['p50']:.0f}/{latency['p95']:.0f}/"
        f"{latency['p99']:.0f} ms, answers {dict(sorted(answers(run).items()))}, "
        f"deadlocks {server['deadlocks']}, exact {accounting['exact']}, verify {accounting['verified']}, "
        f"{(per_task or 0) / 1024:.2f} KB/task, RSS {' → '.join(f'{mb:.0f}' for _, mb in rss)} MB, "
        f"client CPU {run['client_cpu']:.0%}"
    )


def groups(runs: list[dict[str, Any]]) -> dict[tuple[str, int, int, bool], list[dict[str, Any]]]:
    found: dict[tuple[str, int, int, bool], list[dict[str, Any]]] = {}
    for run in runs:
        found.setdefault((run["backend"], run["workers"], run["clients"], run["memory"]), []).append(run)
    return found


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One configuration over its repeats: medians, the spread of completions/s, sums of failures."""
    rates = [r["rate"] for r in runs]
    per_task = [r["db_bytes_per_task"] for r in runs if r["db_bytes_per_task"] is not None]
    return {
        "n": len(runs),
        "rate": statistics.median(rates),
        "rate_min": min(rates),
        "rate_max": max(rates),
        "p50": statistics.median(r["latency_ms"]["p50"] for r in runs),
        "p95": statistics.median(r["latency_ms"]["p95"] for r in runs),
        "p99": statistics.median(r["latency_ms"]["p99"] for r in runs),
        "answers": sum((answers(r) for r in runs), Counter()),
        "5xx": sum(server_5xx(r) for r in runs),
        "deadlocks": sum(r["server"]["deadlocks"] for r in runs),
        "exact": all(r["accounting"]["exact"] for r in runs),
        "verified": all(r["accounting"]["verified"] for r in runs),
        "per_task": statistics.median(per_task) if per_task else None,
        "client_cpu": statistics.median(r["client_cpu"] for r in runs),
        "server_cpu": statistics.median(r["server_cpu"] for r in runs),
        "machine_busy": statistics.median(r["machine_busy"] for r in runs),
        "requests": statistics.median(r["requests"] for r in runs),
    }


def config_name(key: tuple[str, int, int, bool]) -> str:
    backend, workers, clients, memory = key
    return f"{NAMES[backend]}, {workers} worker{'s' * (workers > 1)}, {clients} clients" + (
        " (memory run)" if memory else ""
    )


def yes(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def main_table(figures: dict[str, Any]) -> list[str]:
    lines = [
        "| database, server, clients | runs | requests | completions/s median (min–max) | p50 ms | p95 ms "
        "| p99 ms | answers | 5xx | deadlocks | exact, audit verify | DB bytes/task | CPU: client / server "
        "/ machine |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|---:|---|",
    ]
    for key, runs in groups(figures["runs"]).items():
        s = summary(runs)
        shown = ", ".join(f"{code}: {n:,}" for code, n in sorted(s["answers"].items()))
        per_task = f"{s['per_task']:,.0f}" if s["per_task"] is not None else "—"
        lines.append(
            f"| {config_name(key)} | {s['n']} | {s['requests']:,.0f} | **{s['rate']:.1f}** "
            f"({s['rate_min']:.1f}–{s['rate_max']:.1f}) | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} "
            f"| {shown} | {s['5xx']} | {s['deadlocks']} | {yes(s['exact'])}, {yes(s['verified'])} "
            f"| {per_task} | {s['client_cpu']:.0%} / {s['server_cpu']:.0%} / {s['machine_busy']:.0%} |"
        )
    return lines


def side_by_side(figures: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    before, now = groups(baseline["runs"]), groups(figures["runs"])
    a, b = baseline["label"], figures["label"]
    lines = [
        f"Side by side: **{a}** (commit {baseline.get('commit', '?')}, {baseline['machine']['date']}, load "
        f"{baseline['machine']['load']:.2f}) and **{b}** (commit {figures['commit']}, "
        f"{figures['machine']['date']}, load {figures['machine']['load']:.2f}); medians over repeats.",
        "",
        f"| database, server, clients | completions/s {a} | {b} | p95 ms {a} | {b} | 5xx {a} | {b} "
        f"| deadlocks {a} | {b} | exact {a} | {b} | bytes/task {a} | {b} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]

    def cells(runs: list[dict[str, Any]] | None) -> list[str]:
        if not runs:
            return ["—"] * 6
        s = summary(runs)
        per_task = f"{s['per_task']:,.0f}" if s["per_task"] is not None else "—"
        exact = yes(s["exact"] and s["verified"])
        return [f"{s['rate']:.1f}", f"{s['p95']:.0f}", str(s["5xx"]), str(s["deadlocks"]), exact, per_task]

    for key in sorted(set(before) | set(now)):
        left, right = cells(before.get(key)), cells(now.get(key))
        row = [x for pair in zip(left, right, strict=True) for x in pair]
        lines.append(f"| {config_name(key)} | " + " | ".join(row) + " |")
    return lines


def waits_table(figures: dict[str, Any]) -> list[str]:
    lines = [
        "| database, server, clients | samples | busy sessions per sample | wait (type/event) \\| state "
        "\\| query, first 60 characters | share |",
        "|---|---:|---:|---|---:|",
    ]
    for key, runs in groups(figures["runs"]).items():
        if key[0] != "postgresql":
            continue
        waits: Counter[str] = Counter()
        for run in runs:
            waits.update(dict(run["pg_waits"]))
        samples = sum(r["pg_samples"] for r in runs)
        busy = sum(r["pg_busy"] for r in runs)
        per = busy / samples if samples else 0.0
        for n, (what, count) in enumerate(waits.most_common(5)):
            shown = what.replace("|", "\\|")
            head = f"| {config_name(key)} | {samples} | {per:.1f}" if n == 0 else "| | |"
            lines.append(f"{head} | `{shown}` | {count / busy:.0%} |")
    return lines


def memory_lines(figures: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The workers' RSS over each memory run (or, without one, each one-worker run)."""
    runs = figures["runs"]
    chosen = [r for r in runs if r["memory"]] or [r for r in runs if r["workers"] == 1] or runs
    lines = []
    for run in chosen:
        pss = dict(rss_points(run, "pss_mb"))
        shown = " → ".join(
            f"{mb:.1f}" + (f" (PSS {pss[at]:.1f})" if at in pss else "") + f" MB at {at:,}"
            for at, mb in rss_points(run)
        )
        lines.append(
            f"- {config_name((run['backend'], run['workers'], run['clients'], run['memory']))}: {shown}"
        )
    return lines, chosen


def verdicts(figures: dict[str, Any]) -> list[str]:
    runs, found = figures["runs"], groups(figures["runs"])
    rows = []

    def add(target: str, ok: bool | None, figures_: str) -> None:
        verdict = "not measured" if ok is None else "PASS" if ok else "**MISS**"
        rows.append(f"| {target} | {verdict} | {figures_} |")

    deadlocks = sum(r["server"]["deadlocks"] for r in runs)
    add("0 deadlocks", deadlocks == 0, f"{deadlocks} in the server logs of {len(runs)} runs")
    fives = sum(server_5xx(r) for r in runs)
    add("0 5xx", fives == 0, f"{fives} answers ≥ 500; {sum(broken(r) for r in runs)} connections broken")
    rising, shown = [], []
    for backend, clients in sorted({(k[0], k[2]) for k in found if not k[3]}):
        series = [
            (w, summary(found[(backend, w, clients, False)])["rate"])
            for w in sorted({k[1] for k in found if k[0] == backend and k[2] == clients and not k[3]})
        ]
        if len(series) > 1:
            rising.append(all(b[1] > a[1] for a, b in zip(series, series[1:], strict=False)))
            shown.append(f"{NAMES[backend]} {clients} clients: " + " → ".join(f"{r:.0f}" for _, r in series))
    add(
        "completions/s rise with workers",
        all(rising) if rising else None,
        "; ".join(shown) or "one worker count",
    )
    four = [(k, summary(v)["rate"]) for k, v in found.items() if k[1] == 4 and not k[3]]
    add(
        f"≥ {TARGET_RATE:.0f} completions/s with 4 workers",
        all(rate >= TARGET_RATE for _, rate in four) if four else None,
        "; ".join(f"{NAMES[k[0]]} {k[2]} clients: {rate:.0f}/s" for k, rate in four) or "no 4-worker run",
    )
    sixteen = [(k, summary(v)["p95"]) for k, v in found.items() if k[2] == 16 and not k[3]]
    add(
        f"p95 ≤ {TARGET_P95:.0f} ms at 16 clients",
        all(p95 <= TARGET_P95 for _, p95 in sixteen) if sixteen else None,
        "; ".join(f"{NAMES[k[0]]} {k[1]}w: {p95:.0f} ms" for k, p95 in sixteen) or "no 16-client run",
    )
    exact = sum(r["accounting"]["exact"] and r["accounting"]["verified"] for r in runs)
    add(
        "exact accounting and audit verify after each run", exact == len(runs), f"{exact} of {len(runs)} runs"
    )
    _, chosen = memory_lines(figures)
    memory_ok, memory_shown = [], []
    for run in chosen:
        points = rss_points(run)
        warm = [mb for at, mb in points if at > 0]  # after the warm-up sample on
        if len(warm) > 1:
            growth = warm[-1] - warm[0]
            memory_ok.append(max(warm) <= TARGET_RSS and growth <= TARGET_FLAT)
            memory_shown.append(
                f"{NAMES[run['backend']]}: max {max(warm):.0f} MB, {growth:+.1f} MB after warm-up"
            )
    add(
        f"RSS ≤ {TARGET_RSS:.0f} MB per worker, flat after warm-up (≤ {TARGET_FLAT:.0f} MB growth)",
        all(memory_ok) if memory_ok else None,
        "; ".join(memory_shown) or "no samples",
    )
    per_task = [r["db_bytes_per_task"] for r in runs if r["db_bytes_per_task"] is not None]
    add(
        f"≤ {TARGET_BYTES // 1024} KB database bytes per completed task",
        all(x <= TARGET_BYTES for x in per_task) if per_task else None,
        f"{min(per_task):,.0f}–{max(per_task):,.0f} bytes" if per_task else "no completions",
    )
    return ["| target | verdict | figures |", "|---|---|---|", *rows]


def error_lines(figures: dict[str, Any]) -> list[str]:
    lines = []
    for run in figures["runs"]:
        server, accounting = run["server"], run["accounting"]
        name = config_name((run["backend"], run["workers"], run["clients"], run["memory"]))
        if server["errors"] or server["timeouts"]:
            kinds = "; ".join(f"{n} × `{kind}`" for kind, n in server["kinds"])
            at = ", ".join(f"{table} {n}" for table, n in server.get("deadlocks_at", {}).items())
            lines.append(
                f"- {name}, run {run['repeat'] + 1}: {server['errors']} errors logged ({server['deadlocks']} "
                f"deadlocks{', waiting for a row of: ' + at if at else ''}; {server['timeouts']} worker "
                f"timeouts): {kinds}"
            )
        if not accounting["exact"] or accounting["other_events"]:
            lines.append(
                f"- {name}, run {run['repeat'] + 1}: accounting {accounting['checks']}, other audit events "
                f"{accounting['other_events']}, writes of unknown outcome {run['unknown']}"
            )
        if run["client_errors"] or run["stuck_clients"]:
            lines.append(
                f"- {name}: clients ended by {run['client_errors'][:3]}, {run['stuck_clients']} stuck"
            )
    return lines


def section(figures: dict[str, Any], baseline: dict[str, Any] | None, json: Path, name: str = "load") -> str:
    mode, at_start = figures["mode"], figures["machine"]
    templates = ", ".join(f"{NAMES[t['backend']]} {t['seconds']:.0f} s" for t in figures["templates"])
    activities = figures["templates"][0]["activities"] if figures["templates"] else 0
    provisional = mode["name"] == "quick" or at_start["load"] > 0.5 * (at_start["nproc"] or 1)
    memory, _ = memory_lines(figures)
    errors = error_lines(figures)
    bounds = f"{mode['requests']:,} requests or {mode['seconds']:.0f} s a run, whichever first"
    if mode["memory_requests"]:
        bounds += f"; the memory run {mode['memory_requests']:,} requests, one worker, 16 clients"
    quick = f" --{mode['name']}" if mode["name"] != "full" else ""
    reviews = figures.get("reviews", 0.5)
    if reviews != 0.5:
        quick += f" --reviews {reviews}"
    parts = [
        f"<!-- begin {name} -->",
        "## Load over HTTP: gunicorn workers, "
        + ("owners reporting, no reviews" if reviews == 0 else "owners reporting while leads review")
        + " (`benchmarks/load.py`)",
        "",
        f"Generated by `benchmarks/load.py{quick} --label {figures['label']}`; rerun it to refresh this "
        f"section (its figures as JSON: `{json.name}`, for a later run's `--baseline-from`)."
        + (
            " **Provisional**: a quick run, or a busy machine; not the figures to judge by."
            if provisional
            else ""
        ),
        "",
        f"- machine: nproc {at_start['nproc']}, {at_start['cpu']}; {at_start['date']}; load average (1 min) "
        f"at start / end {at_start['load']:.2f} / {figures['load_at_end']:.2f}; run "
        f"{figures['seconds'] / 60:.1f} min (databases prepared: {templates})",
        f"- label {figures['label']}, commit {figures['commit']}; gunicorn {figures['gunicorn']}, `-c "
        f"python:planflow.gunicorn_conf --workers N --threads {figures.get('threads', 4)}` (gthread, the app "
        "preloaded, each worker's pool dropped after the fork); no scheduler beside it (its jobs would "
        "write too).",
        f"- Work: one reporting cycle of a plan of {activities:,} activities (the seed plan's 60, each "
        f"repeated {mode['factor']}×, every one reporting): {activities:,} `report_status` tasks, and a "
        "`review_report` task for the area's lead after each report. Each run starts from its own copy of "
        "that database (PostgreSQL: a database made from it as template; SQLite: the file, WAL).",
        "- Clients: one process, a thread per client, each with one kept-alive `http.client` connection, "
        "closed loop (the next request when the answer is in), each with its own tokens. Of the requests "
        f"20% are reads (GET /me, the first inbox page as owner or lead); the others complete a task, "
        f"{1 - reviews:.0%} reports (the owner's token, green) and {reviews:.0%} reviews, while there are "
        "any (the lead's token; 90% accept, 10% return with a comment, and the owner finds the new task "
        "in the inbox and reports again). The owners' "
        "tasks are dealt round robin over the five areas and each lead's reviews split among the clients "
        "that act for that lead, so no two clients complete one task, and owners report while leads review "
        "in the same cycle and areas. A completion answered 5xx is tried once more later, as a person would.",
        f"- Bounds: {bounds}; {mode['repeats']} run(s) per configuration. Latency is client-side, request to "
        "last byte, completions only (reports and reviews); completions/s counts 2xx completions over the "
        "run's wall time.",
        "- Afterwards, per run: the status reports, their review outcomes and the audit events after the "
        "prepared database's head, counted and matched (by task and by activity) against the client's 2xx "
        "answers per kind, nothing else in the audit trail, and the whole chain verified (services.audit."
        "verify). Server errors are read from gunicorn's log (planflow's error lines with their tracebacks); "
        "PostgreSQL's busy sessions (`pg_stat_activity`, state not idle) are sampled once a second. CPU is "
        "the share of one core (client, server's processes) and of the whole machine.",
        "",
        *main_table(figures),
        "",
    ]
    if baseline is not None:
        parts += [*side_by_side(figures, baseline), ""]
    waits = waits_table(figures)
    if len(waits) > 2:
        parts += [
            "What busy PostgreSQL sessions were doing (all samples of the configuration):",
            "",
            *waits,
            "",
        ]
    parts += [
        "Worker memory: VmRSS of the largest worker (and its PSS, the pages it shares with the master and "
        "the other workers divided among them) at a number of requests: the start, after warm-up, then "
        "along the run:",
        "",
        *memory,
        "",
    ]
    if errors:
        parts += ["What went wrong:", "", *errors, ""]
    parts += ["Targets (issue: production load):", "", *verdicts(figures), f"<!-- end {name} -->"]
    return "\n".join(parts)
