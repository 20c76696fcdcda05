with source as (

    select * from {{ source('crm', 'teams') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as team_id,
        name,
        region,
        parent_id,
        manager_id,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
