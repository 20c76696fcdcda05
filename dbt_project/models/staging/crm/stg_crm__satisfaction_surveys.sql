with source as (

    select * from {{ source('crm', 'satisfaction_surveys') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as survey_id,
        account_id,
        rep_id,
        surveyed_at,
        csat,
        nps,
        comment,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
