with source as (

    select * from {{ source('crm', 'sales_targets') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as target_id,
        lower(trim(level)) as level,
        level_key,
        lower(trim(period_type)) as period_type,
        period_start,
        lower(trim(metric)) as metric,
        value,
        upper(trim(currency)) as currency,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
