with source as (

    select * from {{ source('crm', 'contacts') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as contact_id,
        account_id,
        name,
        email,
        phone,
        title,
        owner_id,
        created_at,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
