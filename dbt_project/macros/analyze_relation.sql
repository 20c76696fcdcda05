{#- Refresh the planner's statistics of a model's table as soon as it is built.

    PostgreSQL's autovacuum analyzes a new table only some time later, so the next model
    reading it is planned on "empty table" estimates: fct_target_pacing_daily was planned
    for 3,504 rows, got 1,026,657 and spent 26 s in a merge join filtering 221 M row pairs.
    ANALYZE samples at most 30,000 rows, so it costs little even on large tables.

    An incremental run that changed few rows leaves the statistics as they are: it analyzes
    when it inserted, updated or deleted at least 10 % of the table plus 50 rows
    (autovacuum's threshold), or when the table was never analyzed (reltuples -1). A day's
    run changes well under 1 % of the incremental facts, whose ANALYZE cost 1.7 s of a
    medium bench's daily build. Changes that add up over many small runs are autovacuum's
    to count, as for every other table: pg_stat_user_tables cannot tell them apart here,
    since it counts the rows an analyzing transaction wrote again after it commits.
    Views have no statistics of their own: nothing to do. -#}
{% macro analyze_relation() -%}
    {%- if model.config.materialized == 'table' or flags.FULL_REFRESH -%}
        analyze {{ this }}
    {%- elif model.config.materialized == 'incremental' -%}
        do $analyze$
        begin
            if (
                select
                    coalesce(this_run.n_tup_ins + this_run.n_tup_upd + this_run.n_tup_del, 0)
                        >= 50 + 0.1 * tables.reltuples
                    or tables.reltuples < 0
                from pg_class as tables
                left join pg_stat_xact_user_tables as this_run on this_run.relid = tables.oid
                where tables.oid = {{ dbt.string_literal(this.render()) }}::regclass
            ) then
                execute {{ dbt.string_literal('analyze ' ~ this.render()) }};
            end if;
        end
        $analyze$
    {%- endif -%}
{%- endmacro %}
