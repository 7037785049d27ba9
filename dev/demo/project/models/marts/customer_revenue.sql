{{ config(indexes=[{'default': True}]) }}

select c.customer_id, c.name, c.country, coalesce(t.total_amount, 0) as revenue
from {{ ref('stg_customers') }} c
left join {{ ref('order_totals') }} t on t.customer_id = c.customer_id
