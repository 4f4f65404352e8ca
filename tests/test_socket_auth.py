"""The database socket trusts no one: peer authentication maps each system user to the roles it may use.

The suite runs as root, so these tests can act as other system users (``riskmap-web``, ``nobody``)
through ``subprocess`` with ``user=``/``group=``, exactly as the web server's processes would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo import embedded

pytestmark = pytest.mark.postgis


def _psql_as(os_user: str, cluster: embedded.Cluster, role: str, database: str) -> subprocess.CompletedProcess[str]:
    """Run ``SELECT current_user`` with psql as system user ``os_user`` connecting as database ``role``."""
    pw = pwd.getpwnam(os_user)
    return subprocess.run(
        [str(embedded.find_bindir() / "psql"), "-h", str(cluster.socket_dir), "-p", str(embedded.PORT), "-U", role,
         "-d", database, "-w", "-tAc", "SELECT current_user"],
        capture_output=True, text=True, check=False, cwd="/", user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/", "LC_ALL": "C.UTF-8"}, timeout=60)


def test_the_suite_runs_as_root() -> None:
    assert os.geteuid() == 0, "these tests switch system users; run them as root, as CI does"


def test_hba_and_ident_files(pg_cluster: embedded.Cluster) -> None:
    hba = (pg_cluster.datadir / "pg_hba.conf").read_text(encoding="utf-8")
    ident = (pg_cluster.datadir / "pg_ident.conf").read_text(encoding="utf-8")
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert rules == [["local", "all", "all", "peer", "map=riskmap"]]  # no trust, no TCP
    maps = {tuple(line.split()) for line in ident.splitlines() if line.strip() and not line.startswith("#")}
    assert ("riskmap", "riskmap-web", "riskmap_app") in maps
    assert not any(m[1] == "riskmap-web" and m[2] != "riskmap_app" for m in maps)
    assert {("riskmap", "root", "riskmap"), ("riskmap", "postgres", "riskmap")} <= maps
    assert not embedded.configure_auth(pg_cluster)  # idempotent
    assert oct(pg_cluster.socket_dir.stat().st_mode & 0o777) == "0o711"


def test_web_user_reaches_only_the_app_role(pg_cluster: embedded.Cluster, engine: Engine) -> None:
    embedded.ensure_web_user()
    database = str(engine.url.database)
    app = _psql_as(embedded.WEB_OS_USER, pg_cluster, "riskmap_app", database)
    assert app.returncode == 0 and app.stdout.strip() == "riskmap_app", app.stderr
    owner = _psql_as(embedded.WEB_OS_USER, pg_cluster, "riskmap", database)
    assert owner.returncode != 0 and "Peer authentication failed" in owner.stderr
    stranger = _psql_as("nobody", pg_cluster, "riskmap_app", database)
    assert stranger.returncode != 0 and "Peer authentication failed" in stranger.stderr
    # the tests' (root's) own connections keep working, as owner and as the app role
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == "riskmap"
    root_app = subprocess.run(
        [str(embedded.find_bindir() / "psql"), "-h", str(pg_cluster.socket_dir), "-p", str(embedded.PORT),
         "-U", "riskmap_app", "-d", database, "-w", "-tAc", "SELECT current_user"],
        capture_output=True, text=True, check=False, timeout=60)
    assert root_app.stdout.strip() == "riskmap_app", root_app.stderr


def test_an_old_trust_cluster_is_converted_on_start() -> None:
    home = Path(tempfile.mkdtemp(prefix="rmtrust-", dir="/tmp"))
    home.chmod(0o755)
    cluster = embedded.cluster_for(home / "pg")
    try:
        embedded.start(cluster)
        # as it was made before: trust on the socket, a closed socket folder
        hba = cluster.datadir / "pg_hba.conf"
        hba.write_text("local all all trust\n", encoding="utf-8")
        (cluster.datadir / "pg_ident.conf").write_text("", encoding="utf-8")
        embedded._run(cluster, [str(embedded.find_bindir() / "pg_ctl"), "reload", "-D", str(cluster.datadir)])
        cluster.socket_dir.chmod(0o711)
        embedded.psql(cluster, "SELECT pg_reload_conf()")
        before = _psql_as("nobody", cluster, "riskmap", "riskmap")
        assert before.returncode == 0 and before.stdout.strip() == "riskmap"  # anyone was the superuser
        embedded.start(cluster)  # already running: rewritten and reloaded
        assert "peer map=riskmap" in hba.read_text(encoding="utf-8")
        after = _psql_as("nobody", cluster, "riskmap", "riskmap")
        assert after.returncode != 0 and "Peer authentication failed" in after.stderr
        assert embedded.psql(cluster, "SELECT current_user", database="riskmap") == "riskmap"
    finally:
        embedded.stop(cluster)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("web_can_run", [True, False])
def test_serve_as_root_hands_the_workers_to_the_web_user(demo_copy: dict[str, str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, web_can_run: bool) -> None:
    from click.testing import CliRunner

    import dashboard.webfont
    import riskmap.admin_cli
    from riskmap.cli import main

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(dashboard.webfont, "TARGET", Path(__file__))  # no font build here
    monkeypatch.setattr(riskmap.admin_cli, "can_run_as", lambda uid, gid, executable="": web_can_run)
    captured: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda _exe, args: captured.append(list(args)))
    env = {**demo_copy, "RISKMAP_HOME": str(home), "RISKMAP_AUTH": "on", "RISKMAP_SECRET_KEY": ""}
    result = CliRunner().invoke(main, ["serve", "--port", "8999", "--workers", "1"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "WARNING: demo accounts" in result.output and "演示账号" in result.output  # the demo copy has them
    args = captured[0]
    key = home / "secret_key"
    if web_can_run:
        assert args[args.index("--user") + 1] == args[args.index("--group") + 1] == embedded.WEB_OS_USER
        assert key.stat().st_uid == pwd.getpwnam(embedded.WEB_OS_USER).pw_uid
        assert oct(key.stat().st_mode & 0o777) == "0o600"
    else:
        assert "--user" not in args and "runs as root" in result.output


def test_can_run_as_tells_whether_the_web_user_can_start_the_interpreter() -> None:
    from riskmap.admin_cli import can_run_as

    uid, gid = embedded.ensure_web_user()
    top = Path(tempfile.mkdtemp(prefix="rmrun-", dir="/tmp"))  # pytest's own tmp folders are closed (0700)
    top.chmod(0o755)
    for name, mode in (("open", 0o755), ("closed", 0o700)):
        folder = top / name
        folder.mkdir()
        script = folder / "python"
        script.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        script.chmod(0o755)
        folder.chmod(mode)
    try:
        assert can_run_as(uid, gid, str(top / "open" / "python"))
        assert not can_run_as(uid, gid, str(top / "closed" / "python"))
        assert can_run_as(0, 0, str(top / "closed" / "python"))
    finally:
        shutil.rmtree(top, ignore_errors=True)
