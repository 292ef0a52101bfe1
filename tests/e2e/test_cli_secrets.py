"""`careline secrets` as an operator runs it: a real process, keys from the environment, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from careline.adapters.secret_box import new_key
from careline.agents import commands as admin
from careline.bootstrap import bootstrap
from careline.config import Settings

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

TOKEN = "xoxb-1234567890-the-real-token"


def careline(database_url: str, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CARELINE_DATABASE_URL": database_url, "CARELINE_HOME": str(home), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "careline", *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def secrets_of(database_url: str, home: Path, key: str, account_id: str) -> dict[str, str]:
    app = bootstrap(Settings(home=home, database_url=database_url, secret_key=SecretStr(key)))
    try:
        with app.uow(read_only=True) as uow:
            return dict(uow.accounts.get(account_id).secrets)
    finally:
        app.close()


def test_rotate_re_encrypts_the_secrets_under_the_new_key(database_url: str, tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    app = bootstrap(Settings(home=tmp_path, database_url=database_url, secret_key=SecretStr(old)))
    try:
        account = app.handle(admin.CreateChannelAccount(kind="api", name="shop"))
        app.handle(admin.SetChannelSecrets(account_id=account.id, secrets=(("api_token", TOKEN),)))
    finally:
        app.close()

    wrong = careline(
        database_url, tmp_path, "secrets", "rotate", CARELINE_OLD_SECRET_KEY=new_key(), CARELINE_NEW_SECRET_KEY=new
    )
    assert wrong.returncode == 2 and "nothing was changed" in wrong.stderr
    assert secrets_of(database_url, tmp_path, old, account.id) == {"api_token": TOKEN}

    rotated = careline(
        database_url, tmp_path, "secrets", "rotate", CARELINE_OLD_SECRET_KEY=old, CARELINE_NEW_SECRET_KEY=new
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "1 account(s) re-encrypted" in rotated.stderr
    assert old not in rotated.stderr + rotated.stdout and new not in rotated.stderr + rotated.stdout
    assert secrets_of(database_url, tmp_path, new, account.id) == {"api_token": TOKEN}


def test_new_key_prints_a_key_and_a_bad_key_is_refused_without_echoing_it(database_url: str, tmp_path: Path) -> None:
    printed = careline(database_url, tmp_path, "secrets", "new-key")
    assert printed.returncode == 0 and len(printed.stdout.strip()) == 44

    short = careline(database_url, tmp_path, "init", CARELINE_SECRET_KEY="hunter2")
    assert short.returncode == 2 and "at least 16 characters" in short.stderr and "hunter2" not in short.stderr
