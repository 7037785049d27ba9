-- The seed is read as a source; this ref only orders the build after it (dbt build).
-- depends_on: {{ ref('raw_orders') }}
select order_id, customer_id, status, amount
from {{ source('raw', 'raw_orders') }}
