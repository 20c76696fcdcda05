with source as (

    select * from {{ source('crm', 'opportunity_stage_history') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as stage_change_id,
        opportunity_id,
        replace(lower(trim(stage)), ' ', '_') as stage,
        changed_at,
        amount,
        changed_by,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
