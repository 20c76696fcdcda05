-- Rep x fiscal year KPI facts (rolled up from the monthly facts).
{{ rep_kpis_rollup('year', 'year_start') }}
