// Slim CI after a blue/green deploy (issue 8, defect 0): the manifest a promote publishes must
// describe production after the swap, so that a PR deferring to it reads production's
// relations, never the `*_dbt_deploy` names the green run built into.
import { describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  KEYS,
  PROD_SCHEMA,
  blueGreenTarget,
  expectOutputs,
  releaseModel,
  sql,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { pullRequestEvent, runAction } from './support/runner.js'
import { getObject, s3Endpoint } from './support/s3.js'
import { TOKEN, expectCanaryHidden, expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

interface ManifestNode {
  resource_type: string
  schema: string
  relation_name?: string | null
}

/** PR builds go to the PR environment's schema; production's stays `prod`. */
const PR_PROFILE_SCHEMA = `schema: "{{ env_var('DBT_PR_ENVIRONMENT', '${PROD_SCHEMA}') }}"`

/** order_totals with one more column: the PR's only modified model, reading stg_orders. */
const ORDER_TOTALS_WITH_MAX = `{{ config(materialized='materialized_view', indexes=[{'columns': ['customer_id']}]) }}

select customer_id, count(*) as order_count, sum(amount) as total_amount, max(amount) as max_amount
from {{ ref('stg_orders') }}
group by customer_id
`

describe(`a slim PR with defer after a blue/green promote on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-then-slim')

  it('publishes a manifest of production relations, which a deferring PR build can use', async () => {
    const { ws, mz } = suite
    const profile = readFileSync(path.join(ws.dir, 'profiles.yml'), 'utf8')
    const sources = readFileSync(path.join(ws.dir, 'models/sources.yml'), 'utf8')
    ws.commit('Release v2, PR-aware profile', {
      ...releaseModel('v2'),
      'profiles.yml': profile.replace(`schema: ${PROD_SCHEMA}`, PR_PROFILE_SCHEMA),
      // The seed's schema stays production's, so the source is not modified in a PR.
      'models/sources.yml': sources.replace('"{{ target.schema }}_raw"', `${PROD_SCHEMA}_raw`)
    })
    const deploy = await suite.run()
    expectExit(deploy, 0)
    expectOutputs(deploy, { status: 'promoted', promoted: 'true' })

    const manifest = JSON.parse((await getObject(suite.bucket, KEYS.manifest))!.body) as {
      nodes: Record<string, ManifestNode>
    }
    const models = Object.values(manifest.nodes).filter((n) => n.resource_type === 'model')
    expect(models.length).toBeGreaterThan(0)
    for (const model of models) {
      expect(model.schema).toBe(PROD_SCHEMA)
      expect(model.relation_name ?? '').not.toContain('_dbt_deploy')
    }

    const number = 41
    const headSha = ws.commit('PR: order_totals gains max_amount', {
      'models/order_totals.sql': ORDER_TOTALS_WITH_MAX
    })
    const pr = await runAction({
      workspace: ws.dir,
      event: pullRequestEvent({ number, headSha, action: 'synchronize' }),
      inputs: {
        mode: 'slim',
        'project-dir': '.',
        'profiles-dir': '.',
        target: 'prod',
        'state-uri': `s3://${suite.bucket}/prod`,
        's3-endpoint': s3Endpoint(),
        'aws-region': 'us-east-1',
        'github-token': TOKEN,
        'pr-comment': 'false',
        defer: 'true',
        'favor-state': 'true'
      },
      env: suite.warehouse.env
    })
    expectExit(pr, 0)
    expectCanaryHidden(pr)
    expect(JSON.parse(pr.outputs.selected ?? '[]')).toContain('model.bluegreen.order_totals')
    // Only the modified model was built; stg_orders was read from production.
    const rows = await sql<{ customer_id: string; max_amount: string }>(
      mz,
      `SELECT customer_id, max_amount FROM pr_${number}.order_totals ORDER BY customer_id`
    )
    expect(rows.map((r) => [Number(r.customer_id), Number(r.max_amount)])).toEqual([
      [10, 25],
      [11, 40],
      [12, 15]
    ])
    const built = await sql<{ name: string }>(
      mz,
      `SELECT o.name FROM mz_catalog.mz_objects o JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
        WHERE s.name = 'pr_${number}' AND o.id LIKE 'u%' ORDER BY 1`
    )
    expect(built.map((r) => r.name)).not.toContain('stg_orders')
  })
})
