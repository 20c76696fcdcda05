{#- The read-only BI role (var `bi_role`). Created NOLOGIN if missing; BI tools log in as a
    user that is a member of it. Marts get SELECT through the `grants` config; USAGE on the
    schema is granted at the end of the run. Nothing is granted on raw, staging or ops. -#}
{% macro ensure_bi_role() %}
    {%- set role = var('bi_role') -%}
    {%- if '$' in (role | string) -%}
        {{ exceptions.raise_compiler_error("var bi_role must not contain '$': " ~ role) }}
    {%- endif -%}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = {{ sql_text(role) }}) then
            create role {{ sql_ident(role) }} nologin;
        end if;
    exception
        when duplicate_object or unique_violation then
            null;  -- created concurrently by another run: fine
        when insufficient_privilege then
            -- dbt's user may not create roles: an administrator creates it once instead.
            raise warning 'cannot create role %; create it once as an administrator',
                {{ sql_text(role) }};
    end
    $$
{% endmacro %}

{% macro grant_bi_schema_usage() %}
    {%- set role = var('bi_role') -%}
    do $$
    begin
        if exists (select 1 from pg_namespace where nspname = 'marts') then
            grant usage on schema marts to {{ sql_ident(role) }};
        end if;
    end
    $$
{% endmacro %}
