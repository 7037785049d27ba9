{{ config(materialized='materialized_view', indexes=[{'columns': ['customer_id']}]) }}

-- Kept up to date by Materialize in the deployment cluster.
select customer_id, count(*) as order_count, sum(amount) as total_amount
from {{ ref('stg_orders') }}
where status = 'completed'
group by customer_id
