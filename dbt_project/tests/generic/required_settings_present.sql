{% test required_settings_present(model, settings) %}
select required.setting
from (
    {% for s in settings %}
    select {{ dbt.string_literal(s) }} as setting{% if not loop.last %} union all{% endif %}
    {% endfor %}
) as required
left join {{ model }} as present on present.setting = required.setting
where present.setting is null
{% endtest %}
