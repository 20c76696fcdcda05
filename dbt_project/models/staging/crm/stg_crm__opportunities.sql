with source as (

    select * from {{ source('crm', 'opportunities') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as opportunity_id,
        name,
        account_id,
        owner_id,
        product,
        amount,
        upper(trim(currency)) as currency,
        replace(lower(trim(stage)), ' ', '_') as stage,
        probability,
        created_at,
        expected_close_date,
        closed_at,
        is_closed,
        is_won,
        lost_reason,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
