"""A private PostgreSQL + PostGIS cluster that RiskMap creates, starts and stops itself.

The cluster lives in ``<home>/pgdata`` and listens only on a Unix socket in
``<home>/run`` (no TCP port). The socket uses ``peer`` authentication with the
ident map ``riskmap`` (``pg_ident.conf``): the operating-system user running the
server and root may connect as the superuser ``riskmap`` and as the application
role ``riskmap_app``; the web server's own system user (``riskmap-web``) only as
``riskmap_app``; nobody else at all. An older cluster made with ``trust`` is
converted when it is started (the two files are rewritten and the server reloaded).

PostgreSQL refuses to run as root. When RiskMap runs as root the server
processes run as an unprivileged system user (``postgres`` by default, which
Debian's ``postgresql`` package creates); the files are handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from geo.errors import EmbeddedDatabaseError

SUPERUSER = "riskmap"
DATABASE = "riskmap"
PORT = 5432
#: The database role of the application (row-level security applies to it).
APP_ROLE = "riskmap_app"
#: System user the web server runs as when RiskMap is started by root.
WEB_OS_USER = "riskmap-web"
IDENT_MAP = "riskmap"


@dataclass(frozen=True)
class Cluster:
    """Paths and identity of one embedded cluster."""

    home: Path
    os_user: str | None  # None: run as the current (non-root) user

    @property
    def datadir(self) -> Path:
        """Folder holding the cluster's data files."""
        return self.home / "pgdata"

    @property
    def socket_dir(self) -> Path:
        """Folder of the server's Unix socket."""
        return self.home / "run"

    @property
    def logfile(self) -> Path:
        """Server log file."""
        return self.home / "log" / "postgresql.log"

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """SQLAlchemy URL for ``database`` on this cluster's socket, as ``user``."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={PORT}"


def cluster_for(home: Path, pg_os_user: str = "postgres") -> Cluster:
    """Describe the cluster kept under ``home``.

    Parameters
    ----------
    home : Path
        RiskMap's data folder.
    pg_os_user : str
        System user that runs the server when the caller is root.

    Returns
    -------
    Cluster
    """
    return Cluster(home=home.resolve(), os_user=pg_os_user if os.geteuid() == 0 else None)


def find_bindir() -> Path:
    """Find the bin folder of a PostgreSQL server that has PostGIS installed.

    Returns
    -------
    Path
        For example ``/usr/lib/postgresql/15/bin``.

    Raises
    ------
    EmbeddedDatabaseError
        When no server with the PostGIS extension is installed.
    """
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    for initdb in candidates:
        version = initdb.parent.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return initdb.parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise EmbeddedDatabaseError(
        "未找到带 PostGIS 的 PostgreSQL 服务器 / no PostgreSQL server with PostGIS found: "
        "install postgresql-15-postgis-3 (run.sh does this)"
    )


def _run(cluster: Cluster, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    user: int | None = None
    group: int | None = None
    if cluster.os_user is not None:
        pw = pwd.getpwnam(cluster.os_user)
        user, group = pw.pw_uid, pw.pw_gid
        env["HOME"] = pw.pw_dir
    proc = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd="/", check=False,
        user=user, group=group, extra_groups=[] if user is not None else None,
    )
    if check and proc.returncode != 0:
        raise EmbeddedDatabaseError(
            f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def _hand_over(cluster: Cluster, path: Path) -> None:
    if cluster.os_user is None:
        return
    pw = pwd.getpwnam(cluster.os_user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _check_reachable(cluster: Cluster) -> None:
    """Fail early when the server user cannot traverse to the data folder."""
    if cluster.os_user is None:
        return
    proc = _run(cluster, ["test", "-x", str(cluster.home)], check=False)
    if proc.returncode != 0:
        raise EmbeddedDatabaseError(
            f"数据目录 {cluster.home} 对用户 {cluster.os_user} 不可访问 / the server user "
            f"{cluster.os_user} cannot reach {cluster.home}; set RISKMAP_HOME to a folder "
            "outside /root (default /var/lib/riskmap)"
        )


def is_initialised(cluster: Cluster) -> bool:
    """Whether the cluster's data folder has been created."""
    return (cluster.datadir / "PG_VERSION").exists()


def initialise(cluster: Cluster) -> None:
    """Create the cluster's folders and run ``initdb`` (once).

    Parameters
    ----------
    cluster : Cluster
        The cluster to create.
    """
    if is_initialised(cluster):
        return
    bindir = find_bindir()
    for folder in (cluster.home, cluster.socket_dir, cluster.logfile.parent):
        folder.mkdir(parents=True, exist_ok=True)
        _hand_over(cluster, folder)
    cluster.home.chmod(0o755)
    cluster.socket_dir.chmod(0o711)  # reachable; who may connect as whom is peer authentication's
    _check_reachable(cluster)
    _run(
        cluster,
        [
            str(bindir / "initdb"),
            "-D", str(cluster.datadir),
            "-U", SUPERUSER,
            "--auth-local=peer",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
    )
    conf = cluster.datadir / "postgresql.conf"
    with conf.open("a", encoding="utf-8") as fh:
        fh.write(
            "\n# RiskMap embedded settings\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{cluster.socket_dir}'\n"
            f"port = {PORT}\n"
            "shared_buffers = 256MB\n"
            "work_mem = 32MB\n"
            "maintenance_work_mem = 256MB\n"
            "fsync = on\n"
            "max_connections = 50\n"
        )


def server_os_user(cluster: Cluster) -> str:
    """Return the operating-system user that runs the cluster's server."""
    if cluster.os_user is not None:
        return cluster.os_user
    return pwd.getpwuid(os.geteuid()).pw_name


def auth_files(cluster: Cluster) -> dict[str, str]:
    """Return the text of ``pg_hba.conf`` and ``pg_ident.conf`` for the cluster (peer through the map)."""
    owner = server_os_user(cluster)
    trusted = [owner] if owner == "root" else [owner, "root"]
    ident = ["# RiskMap: which operating-system user may connect as which database role (peer authentication)",
             "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME"]
    for os_user in trusted:
        ident += [f"{IDENT_MAP}  {os_user}  {SUPERUSER}", f"{IDENT_MAP}  {os_user}  {APP_ROLE}"]
    ident.append(f"{IDENT_MAP}  {WEB_OS_USER}  {APP_ROLE}")
    hba = ["# RiskMap: the Unix socket only, peer authentication through the ident map; no TCP at all",
           "# TYPE  DATABASE  USER  METHOD",
           f"local   all       all   peer map={IDENT_MAP}"]
    return {"pg_hba.conf": "\n".join(hba) + "\n", "pg_ident.conf": "\n".join(ident) + "\n"}


def configure_auth(cluster: Cluster) -> bool:
    """Write the cluster's ``pg_hba.conf`` and ``pg_ident.conf`` when they differ; return whether they changed.

    Idempotent; a running server must then be reloaded (:func:`start` does it).

    Parameters
    ----------
    cluster : Cluster
        An initialised cluster.

    Returns
    -------
    bool
    """
    changed = False
    for name, body in auth_files(cluster).items():
        path = cluster.datadir / name
        if path.exists() and path.read_text(encoding="utf-8") == body:
            continue
        tmp = path.with_suffix(".riskmap-new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        _hand_over(cluster, tmp)
        tmp.replace(path)  # never half-written
        changed = True
    if cluster.socket_dir.exists():
        cluster.socket_dir.chmod(0o711)
    return changed


def ensure_web_user() -> tuple[int, int]:
    """Return the uid and gid of :data:`WEB_OS_USER`, creating it (a system user, no home, no shell) as root.

    Raises
    ------
    EmbeddedDatabaseError
        When it does not exist and cannot be created.
    """
    try:
        pw = pwd.getpwnam(WEB_OS_USER)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise EmbeddedDatabaseError(f"系统用户 {WEB_OS_USER} 不存在 / system user {WEB_OS_USER} does not exist "
                                    "(root creates it: useradd --system --no-create-home)")
    proc = subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", WEB_OS_USER], capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 9):  # 9: it appeared meanwhile
        raise EmbeddedDatabaseError(f"useradd {WEB_OS_USER} failed: {proc.stderr.strip()}")
    pw = pwd.getpwnam(WEB_OS_USER)
    return pw.pw_uid, pw.pw_gid


def is_running(cluster: Cluster) -> bool:
    """Whether the cluster's server is up (``pg_ctl status``)."""
    if not is_initialised(cluster):
        return False
    proc = _run(cluster, [str(find_bindir() / "pg_ctl"), "status", "-D", str(cluster.datadir)], check=False)
    return proc.returncode == 0


def start(cluster: Cluster, *, timeout_s: int = 60) -> None:
    """Initialise (if needed) and start the server, then make sure the database exists.

    Parameters
    ----------
    cluster : Cluster
        The cluster to start.
    timeout_s : int
        Seconds to wait for the server to accept connections.

    Raises
    ------
    EmbeddedDatabaseError
        When the server does not come up; the message quotes the server log.
    """
    initialise(cluster)
    changed = configure_auth(cluster)
    if is_running(cluster):
        if changed:  # an older cluster (trust): peer from now on
            _run(cluster, [str(find_bindir() / "pg_ctl"), "reload", "-D", str(cluster.datadir)])
    else:
        stale = cluster.datadir / "postmaster.pid"
        if stale.exists():  # left by a machine restart or a killed server
            stale.unlink()
        proc = _run(
            cluster,
            [
                str(find_bindir() / "pg_ctl"), "start", "-w", "-t", str(timeout_s),
                "-D", str(cluster.datadir), "-l", str(cluster.logfile),
            ],
            check=False,
        )
        if proc.returncode != 0:
            tail = ""
            if cluster.logfile.exists():
                tail = "\n".join(cluster.logfile.read_text(errors="replace").splitlines()[-15:])
            raise EmbeddedDatabaseError(f"PostgreSQL did not start: {proc.stderr.strip()}\n{tail}")
    _wait_ready(cluster, timeout_s)
    create_database(cluster, DATABASE)


def _wait_ready(cluster: Cluster, timeout_s: int) -> None:
    deadline = time.monotonic() + timeout_s
    isready = str(find_bindir() / "pg_isready")
    while time.monotonic() < deadline:
        proc = _run(cluster, [isready, "-h", str(cluster.socket_dir), "-p", str(PORT)], check=False)
        if proc.returncode == 0:
            return
        time.sleep(0.2)
    raise EmbeddedDatabaseError(f"PostgreSQL at {cluster.socket_dir} not ready after {timeout_s}s")


def psql(cluster: Cluster, sql: str, database: str = "postgres") -> str:
    """Run one SQL statement with ``psql`` on the cluster's socket and return its output."""
    proc = _run(
        cluster,
        [
            str(find_bindir() / "psql"), "-h", str(cluster.socket_dir), "-p", str(PORT),
            "-U", SUPERUSER, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql,
        ],
    )
    return proc.stdout.strip()


def create_database(cluster: Cluster, name: str, *, template: str | None = None) -> bool:
    """Create database ``name`` unless it exists; return whether it was created."""
    if not name.replace("_", "").isalnum():
        raise EmbeddedDatabaseError(f"bad database name {name!r}")
    exists = psql(cluster, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists == "1":
        return False
    suffix = f" TEMPLATE {template}" if template else ""
    if template:  # a template must have no other sessions (e.g. pooled connections of other engines)
        if not template.replace("_", "").isalnum():
            raise EmbeddedDatabaseError(f"bad database name {template!r}")
        psql(cluster, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      f"WHERE datname = '{template}' AND pid <> pg_backend_pid()")
    psql(cluster, f'CREATE DATABASE "{name}"{suffix}')
    return True


def drop_database(cluster: Cluster, name: str) -> None:
    """Drop database ``name`` if it exists (closing its connections)."""
    if not name.replace("_", "").isalnum():
        raise EmbeddedDatabaseError(f"bad database name {name!r}")
    psql(cluster, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop(cluster: Cluster) -> bool:
    """Stop the server if it runs; return whether it was running."""
    if not is_running(cluster):
        return False
    _run(cluster, [str(find_bindir() / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(cluster.datadir)])
    return True
