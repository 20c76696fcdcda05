with source as (

    select * from {{ source('crm', 'users') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as user_id,
        name,
        email,
        locale,
        lower(trim(role)) as role,
        team_id,
        manager_id,
        title,
        hire_date,
        leave_date,
        active,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
