-- Runs once when the PostgreSQL volume is created: Airflow metadata and the warehouse
-- live in separate databases owned by separate roles.
create role airflow login password 'airflow';
create database airflow owner airflow;
create role salesperf login password 'salesperf';
create database warehouse owner salesperf;
