{#- The time after which rows are re-read by an incremental model: the newest
    `_extracted_at` already built, minus the look-back. On an empty table (a first build that
    ran before any data landed) max() is null; without the coalesce `> null` would select
    nothing on every later run and the table would stay empty for good. -#}
{% macro incremental_since() -%}
    coalesce(
        max(_extracted_at) - interval '{{ var("incremental_lookback_hours") }} hours',
        '-infinity'::timestamptz
    )
{%- endmacro %}
