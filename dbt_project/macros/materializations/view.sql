{#- dbt's `view` materialization, except that a view already built from the same SQL is left
    as it is.

    dbt creates every view again in every build (a new view, two renames, a DROP … CASCADE of
    the old one), although a view holds no data: the same SQL over the same parents gives the
    same rows. The 20 views of this project cost 2.5-4 s of node time in every daily build
    that way, with catalog locks that made two CASCADE drops deadlock once (see
    int_customers__engagement). So each view carries a fingerprint of what it was built from
    in its comment, and a build whose fingerprint matches only checks it (one catalog query).

    The fingerprint covers the compiled SQL with the view's own name, and the checksum of
    every parent model's file (a parent that gained a column behind a `select *` changes the
    view's columns, so its view is built again). A parent table or view that dbt builds again
    drops the old one with CASCADE, which drops this view too: a missing view is built. The
    view is built as dbt builds it on a full refresh, when the view has no fingerprint or
    another one (edited or replaced by hand: `comment on view` cannot keep both), and when
    the model has grants or persists its description as the relation's comment (both
    belong to dbt's own path). -#}
{% materialization view, default %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set fingerprint = view_fingerprint(sql) -%}
    {%- set reusable = existing_relation is not none
        and existing_relation.is_view
        and not should_full_refresh()
        and not config.get('grants')
        and not config.persist_relation_docs() -%}

    {%- if reusable and view_comment(this) == fingerprint -%}
        {{ log('view ' ~ this ~ ' unchanged: left as it is', info=false) }}
        {%- do store_raw_result(
            'main', message='VIEW UNCHANGED', code='VIEW UNCHANGED', rows_affected=-1
        ) -%}
        {{ return({'relations': [this.incorporate(type='view')]}) }}
    {%- endif -%}

    {%- set relations = dbt.materialization_view_default() -%}

    {#- own transaction, after dbt's: a view without its fingerprint is only built again -#}
    {%- if not config.persist_relation_docs() -%}
        {%- call statement('view_fingerprint') -%}
            comment on view {{ this }} is {{ dbt.string_literal(fingerprint) }}
        {%- endcall -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{ return(relations) }}

{%- endmaterialization %}


{#- What a view is built from: its name, its compiled SQL and its parent models' files. -#}
{% macro view_fingerprint(compiled_sql) -%}
    {%- set parts = [this.render(), compiled_sql] -%}
    {%- if execute -%}
        {%- for parent in model.depends_on.nodes | sort -%}
            {%- set node = graph.nodes.get(parent) -%}
            {%- if node is not none -%}
                {%- do parts.append(parent ~ '=' ~ node.checksum.checksum) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return('salesperf view fingerprint ' ~ local_md5(parts | join('\n'))) -}}
{%- endmacro %}


{#- The comment of `relation` (null when it has none or does not exist). -#}
{% macro view_comment(relation) -%}
    {%- call statement('view_comment', fetch_result=True) -%}
        select obj_description(to_regclass({{ dbt.string_literal(relation.render()) }}), 'pg_class')
    {%- endcall -%}
    {{- return(load_result('view_comment').table.rows[0][0]) -}}
{%- endmacro %}
