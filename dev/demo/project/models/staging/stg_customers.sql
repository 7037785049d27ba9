-- The seed is read as a source; this ref only orders the build after it (dbt build).
-- depends_on: {{ ref('raw_customers') }}
select customer_id, name, country
from {{ source('raw', 'raw_customers') }}
