{#- on-run-end: drop the replaced landing versions (ops.landing_replaced_rows) that no model
    will read again, so the log stays the size of a few days of changes.

    An incremental model reads an entity's history through `landing_rows_changed_since`
    (rows replaced after its watermark: its newest `_extracted_at` minus the look-back).
    So for each landing entity:
      - read by models: rows replaced at or before the oldest of their watermarks, less
        `landing_history_margin_days` (a watermark can step back a little when the newest
        rows are deleted), are dropped. While one of them is not built yet, or has no
        `_extracted_at` (an upgrade), nothing of the entity is dropped;
      - read by no model: everything is dropped (a model added later builds whole first).
    Reading models are found once, in the parsed project: a model whose SQL calls
    `landing_rows_changed_since('<entity>'`. Watermarks only move when a reader is built, so an
    invocation that built none of them (in Airflow, Cosmos runs dbt once per model) prunes
    nothing. -#}
{% macro prune_landing_history() -%}
    {%- set log_table = adapter.get_relation(database=target.database, schema='ops',
                                             identifier='landing_replaced_rows') if execute -%}
    {%- if not log_table -%}
        {{- return('select 1 -- no landing history to prune') -}}
    {%- endif -%}
    {#- entity -> the models that read its history -#}
    {%- set readers = {} -%}
    {%- set reader_ids = [] -%}
    {%- for src in graph.sources.values() if src.source_name == 'crm' -%}
        {%- set call = "landing_rows_changed_since('" ~ src.name ~ "'" -%}
        {%- set nodes = [] -%}
        {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and call in node.raw_code -%}
            {%- do nodes.append(node) -%}
            {%- do reader_ids.append(node.unique_id) -%}
        {%- endfor -%}
        {%- do readers.update({src.name: nodes}) -%}
    {%- endfor -%}
    {%- set built = [] -%}
    {%- for result in results if result.node.unique_id in reader_ids -%}
        {%- do built.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- if reader_ids and not built -%}
        {{- return('select 1 -- no reader of landing history was built') -}}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for entity, nodes in readers.items() -%}
        {%- set watermarks = [] -%}
        {%- set blocked = [] -%}
        {%- for node in nodes -%}
            {%- set rel = adapter.get_relation(database=node.database, schema=node.schema,
                                               identifier=node.alias) -%}
            {%- if rel is none or not relation_has_column(rel, '_extracted_at') -%}
                {%- do blocked.append(node.name) -%}
            {%- else -%}
                {%- do watermarks.append('(select max(_extracted_at) from ' ~ rel ~ ')') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if blocked -%}
            {# a reader is not built yet: keep everything #}
        {%- elif watermarks -%}
            {%- do statements.append(
                "delete from " ~ log_table ~ " where entity = " ~ dbt.string_literal(entity)
                ~ " and replaced_at <= least(" ~ watermarks | join(', ') ~ ")"
                ~ " - interval '" ~ var('incremental_lookback_hours') ~ " hours'"
                ~ " - interval '" ~ var('landing_history_margin_days') ~ " days'") -%}
        {%- else -%}
            {%- do statements.append(
                "delete from " ~ log_table ~ " where entity = " ~ dbt.string_literal(entity)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements | join(';\n') if statements else 'select 1') -}}
{%- endmacro %}
