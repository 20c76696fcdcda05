"""Airflow Assets that chain the DAGs (data-aware scheduling).

LANDING: raw.* changed (emitted by extract_crm and file imports).
MARTS:   marts rebuilt *and validated* (emitted by transform_sales_marts only after the mart
         validation passed), so every report DAG scheduled on it reads validated data.
Importing this module is cheap (only airflow.sdk).
"""

from airflow.sdk import Asset

LANDING = Asset(name="salesperf_landing", uri="salesperf://warehouse/raw")
MARTS = Asset(name="salesperf_marts", uri="salesperf://warehouse/marts")
