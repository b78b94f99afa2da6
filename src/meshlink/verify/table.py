"""The report for people: one rich table, grouped by edge, all green at a glance."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from meshlink.verify.model import CheckResult, VerifyReport
from meshlink.words import plural

MARKS = {
    "pass": ("✓", "green"),
    "fail": ("✗", "bold red"),
    "warn": ("!", "yellow"),
    "skipped": ("-", "dim"),
}


def group_of(result: CheckResult) -> tuple[int, str]:
    """Sort key and title of the group a result is shown in."""
    subject = result.subject
    if subject.kind == "edge":
        return 2, f"{subject.consumer} → {subject.provider}"
    if subject.kind == "pair":
        return 3, f"{subject.consumer} ↛ {subject.provider} (not an edge)"
    if subject.kind == "service":
        return 1, f"service {subject.name}"
    return 0, "deployment"


def render_table(report: VerifyReport) -> Table:
    """Rows grouped (deployment, services, edges, non-edges), a section per group."""
    table = Table(title=f"verify {report.mesh} ({report.target})", title_justify="left")
    table.add_column("", width=1)
    table.add_column("check", overflow="fold")
    table.add_column("subject", overflow="fold")
    # Results carry ARNs, ids and DNS names users copy: fold them, never cut them.
    table.add_column("result", overflow="fold", ratio=1)
    groups: dict[tuple[int, str], list[CheckResult]] = {}
    for result in report.results:
        groups.setdefault(group_of(result), []).append(result)
    for index, (key, results) in enumerate(sorted(groups.items(), key=lambda kv: kv[0])):
        if index:
            table.add_section()
        failed = any(r.status == "fail" for r in results)
        style = "bold red" if failed else "bold green"
        table.add_row("", Text(key[1], style=style), "", "")
        for result in results:
            mark, colour = MARKS[result.status]
            subject = "" if result.subject.kind in ("edge", "pair") else result.subject.name
            table.add_row(
                Text(mark, style=colour),
                result.check,
                subject,
                Text(result.message, style=colour if result.status != "pass" else ""),
            )
    return table


def summary_line(report: VerifyReport) -> str:
    """One line of rich markup: the verdict and the counts."""
    counts = report.counts()
    colour = "green" if report.ok else "red"
    verdict = "passed" if report.ok else "failed"
    probes = report.probes()
    rate = f", {probes / report.seconds:.1f} probes/s" if probes and report.seconds else ""
    tasks = report.probe_tasks()
    rate += f" in {plural(tasks, 'probe task')}" if tasks else ""
    return (
        f"[{colour}]verify {verdict}[/{colour}] in {report.seconds:.1f}s: "
        f"{counts['pass']} passed, {counts['fail']} failed, {plural(counts['warn'], 'warning')}, "
        f"{counts['skipped']} skipped; {plural(probes, 'probe')}{rate}"
    )


def failure_lines(report: VerifyReport) -> list[str]:
    """Rich markup lines naming each failure with its subject (for the error output)."""
    return [
        f"[red]✗ {escape(r.check)}[/red] {escape(r.subject.name)}: {escape(r.message)}"
        for r in report.failures()
    ]
