with source as (

    select * from {{ source('crm', 'accounts') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as account_id,
        name,
        industry,
        region,
        owner_id,
        employees,
        annual_revenue,
        parent_account_id,
        created_at,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
