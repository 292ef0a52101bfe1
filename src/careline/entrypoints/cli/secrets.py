"""`careline secrets`: the key that encrypts channel accounts' secrets (docs/channels.md#credentials)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from careline.adapters.db.secrets import rotate_secrets
from careline.adapters.secret_box import SecretBox, SecretKeyInvalid, new_key
from careline.kernel.errors import CarelineError

console = Console(stderr=True)
app = typer.Typer(help="Manage the key that encrypts channel accounts' secrets (CARELINE_SECRET_KEY).")

# Keys are best passed in the environment: a command line is visible to every user of the machine (ps).
OldKey = Annotated[
    str,
    typer.Option(envvar="CARELINE_OLD_SECRET_KEY", help="the key the secrets are stored with", show_default=False),
]
NewKey = Annotated[
    str,
    typer.Option(envvar="CARELINE_NEW_SECRET_KEY", help="the key to store them with from now on", show_default=False),
]


@app.command("new-key")
def new_key_command() -> None:
    """Print a fresh random key for CARELINE_SECRET_KEY (a Fernet key)."""
    typer.echo(new_key())


@app.command("rotate")
def rotate(ctx: typer.Context, old_key: OldKey, new_key: NewKey) -> None:
    """Re-encrypt every channel account's secrets from the old key to the new one, all or nothing.

    Then set CARELINE_SECRET_KEY to the new key and restart the processes.
    """
    try:
        old, new = SecretBox(old_key), SecretBox(new_key)
    except SecretKeyInvalid as error:
        raise typer.BadParameter(str(error)) from None
    careline = ctx.obj.app()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("re-encrypting accounts' secrets", total=None)
            result = rotate_secrets(
                careline.engine, old, new, lambda done, total: bar.update(task, completed=done, total=total)
            )
    except CarelineError as error:
        raise typer.BadParameter(f"{error}; nothing was changed") from None
    finally:
        careline.close()
    console.print(
        f"{result.rotated} account(s) re-encrypted, {result.already} already under the new key: "
        "now set CARELINE_SECRET_KEY to the new key and restart Careline"
    )
