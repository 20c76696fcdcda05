with source as (

    select * from {{ source('crm', 'coaching_sessions') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as coaching_session_id,
        rep_id,
        coach_id,
        session_date,
        lower(trim(session_type)) as session_type,
        kpi,
        duration_minutes,
        notes,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
