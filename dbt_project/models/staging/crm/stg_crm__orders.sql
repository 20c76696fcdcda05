with source as (

    select * from {{ source('crm', 'orders') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as order_id,
        account_id,
        opportunity_id,
        owner_id,
        order_date,
        amount,
        upper(trim(currency)) as currency,
        lower(trim(status)) as status,
        status_changed_at,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
