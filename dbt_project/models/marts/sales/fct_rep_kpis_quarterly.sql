-- Rep x fiscal quarter KPI facts (rolled up from the monthly facts).
{{ rep_kpis_rollup('quarter', 'quarter_start') }}
