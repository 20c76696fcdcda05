"""`salesperf airflow-standalone` (make airflow) and `salesperf airflow ...` passthrough."""

from __future__ import annotations

import os

from salesperf import airflow_env, config, warehouse


def register(sub) -> None:
    p = sub.add_parser(
        "airflow-standalone",
        help="start `airflow standalone` with the project's DAGs (make airflow)",
    )
    p.add_argument("--port", type=int, default=int(os.environ.get("SALESPERF_AIRFLOW_PORT", 8080)))
    p.set_defaults(func=_standalone)

    a = sub.add_parser("airflow", help="run the Airflow CLI with the project's environment")
    a.add_argument("args", nargs="*", help="arguments for airflow (use -- before options)")
    a.set_defaults(func=_passthrough)


def _env() -> dict[str, str]:
    wh = warehouse.resolve()
    env = airflow_env.environment(wh)
    return env


def _passthrough(args) -> int:
    return airflow_env.run_airflow(args.args, _env()).returncode


def _standalone(args) -> int:
    from salesperf import mailcatcher

    env = _env()
    host, port, folder = mailcatcher.ensure_running()
    env.update(
        {
            "AIRFLOW__API__PORT": str(args.port),
            # Simple auth manager: one admin user whose password Airflow writes to a file.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{airflow_env.ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
                airflow_env.airflow_home() / "simple_auth_manager_passwords.json.generated"
            ),
        }
    )
    airflow_env.migrate_metadata(env)
    pw_file = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    print(
        f"Airflow UI: http://localhost:{args.port}\n"
        f"Login: user '{airflow_env.ADMIN_USER}', password in {pw_file} "
        f"(written by Airflow on first start)\n"
        f"DAGs: {config.DAGS_DIR}\nMail catcher: smtp://{host}:{port} -> {folder}\n"
        "Stop with Ctrl-C; `make stop` stops the embedded PostgreSQL.",
        flush=True,
    )
    return airflow_env.run_airflow(["standalone"], env).returncode
