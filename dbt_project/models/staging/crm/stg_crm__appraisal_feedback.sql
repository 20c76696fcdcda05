with source as (

    select * from {{ source('crm', 'appraisal_feedback') }}
    where _deleted_at is null
    {{ crm_source_filter() }}

),

renamed as (

    select
        id as feedback_id,
        user_id,
        lower(trim(role)) as role,
        quarter_start,
        fairness_score,
        clarity_score,
        usefulness_score,
        comment,
        submitted_at,
        updated_at,
        _source,
        _extracted_at,
        _batch_id,
        _extra
    from source

)

select * from renamed
