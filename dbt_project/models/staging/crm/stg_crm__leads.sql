with source as (

    select * from {{ source('crm', 'leads') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as lead_id,
        name,
        company,
        lead_source,
        status,
        owner_id,
        created_at,
        converted_at,
        converted_opportunity_id,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
