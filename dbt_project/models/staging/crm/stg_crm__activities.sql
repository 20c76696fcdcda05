with source as (

    select * from {{ source('crm', 'activities') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as activity_id,
        lower(trim(activity_type)) as activity_type,
        owner_id,
        account_id,
        contact_id,
        opportunity_id,
        occurred_at,
        duration_minutes,
        outcome,
        subject,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
