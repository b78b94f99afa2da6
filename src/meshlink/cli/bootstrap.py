"""`meshlink bootstrap`: the deploy role of each account, printed or deployed (--apply)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import CliContext, get_context

if TYPE_CHECKING:
    from meshlink.bootstrap.run import AccountRole


def bootstrap(
    ctx: typer.Context,
    apply: bool = typer.Option(
        False, "--apply", help="Deploy each account's role stack instead of printing it."
    ),
    principal: str | None = typer.Option(
        None,
        "--trust-principal",
        help="ARN the role trusts (default: who you are, from sts:GetCallerIdentity).",
    ),
    accounts: list[str] = typer.Option(
        [], "--account", help="Only this account (its key; repeatable)."
    ),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", "-o", help="Write one template file per account here."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before --apply."),
) -> None:
    """The IAM role meshlink assumes in each account: trust limited to you, and exactly
    the actions meshlink (and CloudFormation on its behalf) calls."""
    from meshlink.aws.sessions import SessionFactory
    from meshlink.bootstrap.run import apply_bootstrap, plan_bootstrap
    from meshlink.cli import confirm

    cli = get_context(ctx)
    topology = cli.topology()
    ask = apply and confirm.require_terminal(cli, "bootstrap --apply", yes)
    endpoint_url = None
    if topology.target == "local":
        from meshlink.localcloud.daemon import require_running

        endpoint_url = require_running().endpoint_url
    sessions = SessionFactory.for_topology(topology, endpoint_url)
    roles = plan_bootstrap(topology, sessions, principal=principal, accounts=accounts)
    if output_dir is not None:
        _write(output_dir, topology.name, roles)
    if apply:
        if ask:
            confirm.ask(cli, _question(roles))
        notice = cli.err_console.print
        apply_bootstrap(roles, sessions, lambda m: notice(f"[dim]{m}[/dim]"))
    _render(cli, roles, output_dir, applied=apply)


def _question(roles: list[AccountRole]) -> str:
    names = ", ".join(f"{r.role_name} in {r.account_id}" for r in roles)
    return f"Create or update the deploy role ({names})?"


def _file(output_dir: Path, mesh: str, role: AccountRole) -> Path:
    return output_dir / f"{mesh}-{role.account}-bootstrap.json"


def _write(output_dir: Path, mesh: str, roles: list[AccountRole]) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    for role in roles:
        _file(output_dir, mesh, role).write_text(json.dumps(role.template, indent=2) + "\n")


def _render(
    cli: CliContext, roles: list[AccountRole], output_dir: Path | None, *, applied: bool
) -> None:
    if cli.json_output:
        cli.emit_json({"applied": applied, "accounts": [r.as_json() for r in roles]})
        return
    mesh = cli.topology().name
    for role in roles:
        head = f"account {role.account} ({role.account_id}): role {role.role_arn}"
        if applied:
            cli.console.print(f"[green]✓[/green] {head} {role.status}")
        elif output_dir is not None:
            path = _file(output_dir, mesh, role)
            cli.console.print(f"{head} → {path}")
            cli.console.print(
                f"  aws cloudformation deploy --template-file {path} --stack-name "
                f"{role.stack_name} --capabilities CAPABILITY_NAMED_IAM",
                markup=False,
            )
        else:
            cli.console.print(f"# {head}, trusting {role.trust_principal}", markup=False)
            cli.console.print(json.dumps(role.template, indent=2), markup=False)
    if not applied:
        cli.err_console.print(
            "[dim]deploy with: meshlink bootstrap --apply (credentials of each account), "
            "or the template with CloudFormation as stack "
            f"{roles[0].stack_name if roles else ''}[/dim]"
        )


def register(app: typer.Typer) -> None:
    app.command("bootstrap")(bootstrap)
