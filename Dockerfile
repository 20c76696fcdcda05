# Production image: the official Airflow image plus this project's pinned dependencies.
# The Airflow version must match requirements.lock (tests/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# A CJK font, so the e-mails' charts can draw Chinese names and labels (zh_CN is the default
# locale; without one they fall back to English codes). The same font CI installs.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:root requirements.lock /opt/airflow/requirements.lock
RUN pip install --no-cache-dir -r /opt/airflow/requirements.lock

# Code is mounted by docker-compose in development; baked in for deployment.
COPY --chown=airflow:root pyproject.toml README.md /opt/airflow/
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:root expectations /opt/airflow/expectations
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

ENV SALESPERF_HOME=/opt/airflow \
    SALESPERF_LOCAL_DIR=/opt/airflow/local \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
