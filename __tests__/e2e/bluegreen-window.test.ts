// The rollback window (issue 9, "Tests must show" 9): README recipe 3 taken from the README and
// run literally on consecutive pushes. A push stages green (`phase: deploy`); a person then
// dispatches the workflow to promote, roll back or read the status. In order on one emulator
// (or the real Materialize), one workspace and one bucket: production starts at release v1, built by hand.
import { describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  PROD_CLUSTER,
  PROD_SCHEMA,
  blueGreenInputs,
  blueGreenTarget,
  errorText,
  expectOutputs,
  fingerprint,
  greenLeftovers,
  production,
  releaseIn,
  releaseModel,
  scriptHydration,
  useBlueGreenSuite,
  type ProductionSnapshot
} from './support/bluegreen.js'
import { workflowDispatchEvent, type ActionRun } from './support/runner.js'
import { getObject, listKeys, putObject } from './support/s3.js'
import { annotationsOf, expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

// --- README recipe 3, as the runner would evaluate it -------------------------------------------

interface Recipe {
  on: {
    push: { branches: string[] }
    workflow_dispatch: { inputs: { phase: { options: string[] } } }
  }
  jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>
}

function readRecipe3(): Recipe {
  const readme = readFileSync('README.md', 'utf8')
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .find((text) => text.startsWith('# .github/workflows/dbt-blue-green.yml'))
  if (!block) throw new Error('README has no recipe .github/workflows/dbt-blue-green.yml')
  return yaml.load(block) as Recipe
}

interface Trigger {
  eventName: 'push' | 'workflow_dispatch'
  inputs: Record<string, string>
}

/** `${{ github.event_name == '<name>' && inputs.<input> || '<fallback>' }}`, the recipe's one form. */
function evaluate(value: string, trigger: Trigger): string {
  if (!value.includes('${{')) return value
  const expression =
    /^\$\{\{\s*github\.event_name == '([\w-]+)' && inputs\.([\w-]+) \|\| '([\w-]+)'\s*\}\}$/
  const match = expression.exec(value)
  if (!match) throw new Error(`the test cannot evaluate the recipe's expression ${value}`)
  const [, eventName, input, fallback] = match
  return (trigger.eventName === eventName && trigger.inputs[input!]) || fallback!
}

/** The `with:` of the recipe's step of this action, evaluated for the trigger. */
function recipeInputs(recipe: Recipe, trigger: Trigger, bucket: string): Record<string, string> {
  const steps = Object.values(recipe.jobs).flatMap((job) => job.steps)
  const ours = steps.filter((step) => step.uses?.includes('dbt-materialize-deploy'))
  expect(ours).toHaveLength(1)
  const inputs = Object.fromEntries(
    Object.entries(ours[0]!.with ?? {}).map(([name, value]) => [
      name,
      evaluate(String(value), trigger)
    ])
  )
  // The recipe's bucket becomes the test's, under the same prefix as KEYS.
  const stateUri = inputs['state-uri']!.replace(/^s3:\/\/[^/]+\//, `s3://${bucket}/`)
  return blueGreenInputs(bucket, { ...inputs, 'state-uri': stateUri })
}

// --- what the status phase reports ---------------------------------------------------------------

interface ReportedState {
  production: {
    schemas: string[]
    clusters: string[]
    missing: string[]
    manifestSha: string | null
  }
  green: { holds: string; schemas: string[]; clusters: string[] }
  staged: { sha: string; stagedAt: string; runUrl?: string } | null
  previous: { sha?: string; replacedBy?: string; keptAt: string; keptBy?: string } | null
  lock: Record<string, unknown> | null
}

const GREEN = { schemas: [GREEN_SCHEMA], clusters: [GREEN_CLUSTER] }

function expectedProduction(manifestSha: string | null): ReportedState['production'] {
  return { schemas: [PROD_SCHEMA], clusters: [PROD_CLUSTER], missing: [], manifestSha }
}

describe(`README recipe 3 run literally on consecutive pushes on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-window')
  const recipe = readRecipe3()
  const shas: Record<string, string> = {}

  /** A push to main of the next release: the recipe stages it. */
  async function push(version: string): Promise<ActionRun> {
    shas[version] = suite.ws.commit(`Release ${version}`, releaseModel(version))
    await scriptHydration(suite.warehouse, 1)
    return suite.run(recipeInputs(recipe, { eventName: 'push', inputs: {} }, suite.bucket))
  }

  /** A person dispatches the recipe with this phase; the runner checks out main afresh. */
  async function dispatch(phase: string): Promise<ActionRun> {
    expect(recipe.on.workflow_dispatch.inputs.phase.options).toContain(phase)
    const trigger: Trigger = { eventName: 'workflow_dispatch', inputs: { phase } }
    const fresh = suite.ws.clone()
    try {
      return await suite.run(recipeInputs(recipe, trigger, suite.bucket), {
        workspace: fresh,
        event: workflowDispatchEvent({ sha: fresh.sha(), inputs: { phase } })
      })
    } finally {
      fresh.cleanup()
    }
  }

  /** Every key with its ETag, what production and green serve: status must change none of it. */
  async function everything(): Promise<unknown> {
    const keys = await listKeys(suite.bucket)
    const etags = await Promise.all(
      keys.map(async (k) => [k, (await getObject(suite.bucket, k))?.etag])
    )
    return {
      etags,
      production: await production(suite.mz),
      green: await releaseIn(suite.mz, GREEN_SCHEMA),
      leftovers: await greenLeftovers(suite.mz)
    }
  }

  /** Dispatches `status`, checks it changed nothing and returns what it reported. */
  async function status(): Promise<{ state: ReportedState; run: ActionRun }> {
    const before = await everything()
    const run = await dispatch('status')
    expectExit(run, 0)
    expect(run.outputs.status).toBe('reported')
    expect(run.summary).toContain('Deployment state')
    expect(await everything()).toEqual(before)
    return { state: JSON.parse(run.outputs.state ?? 'null') as ReportedState, run }
  }

  function expectReleases(prod: string, green: string | undefined): Promise<void> {
    return Promise.all([releaseIn(suite.mz, PROD_SCHEMA), releaseIn(suite.mz, GREEN_SCHEMA)]).then(
      (found) => expect(found).toEqual([prod, green])
    )
  }

  let beforeV3Promote: ProductionSnapshot | undefined

  it('push 1 stages v2 over a production built by hand; status shows it staged', async () => {
    expect(recipe.on.push.branches).toEqual(['main'])
    const staged = await push('v2')
    expectExit(staged, 0)
    expectOutputs(staged, { status: 'staged', deployed: 'true', promoted: 'false' })
    await expectReleases('v1', 'v2')

    const { state, run } = await status()
    expect(state).toEqual({
      production: expectedProduction(null),
      green: { holds: 'staged', ...GREEN },
      staged: { sha: shas.v2, stagedAt: expect.any(String), runUrl: expect.any(String) },
      previous: null,
      lock: null
    })
    expect(run.summary).toContain(shas.v2!)
  })

  it('dispatch promote swaps v2 in and keeps v1; status shows the kept previous', async () => {
    const promoted = await dispatch('promote')
    expectExit(promoted, 0)
    expectOutputs(promoted, { status: 'promoted', promoted: 'true' })
    await expectReleases('v2', 'v1')

    const { state } = await status()
    expect(state).toEqual({
      production: expectedProduction(shas.v2!),
      green: { holds: 'kept-previous', ...GREEN },
      staged: null,
      // Production v1 was built by hand: no manifest named its commit.
      previous: { replacedBy: shas.v2, keptAt: expect.any(String) },
      lock: null
    })
  })

  it('push 2 drops the kept v1 with a notice naming it and stages v3; promote keeps v2', async () => {
    const staged = await push('v3')
    expectExit(staged, 0)
    expectOutputs(staged, { status: 'staged', deployed: 'true' })
    // Production v1 was built by hand: no manifest named its commit.
    const dropped =
      'Dropped the previous production kept for rollback ' +
      `(commit unknown, replaced by commit ${shas.v2!.slice(0, 12)}, kept `
    const notices = annotationsOf(staged, 'notice')
    expect(notices).toContain(dropped)
    expect(notices).toContain(`: ${GREEN_SCHEMA}, ${GREEN_CLUSTER}.`)
    expect(staged.summary).toContain(dropped)
    await expectReleases('v2', 'v3')
    expect((await status()).state).toMatchObject({
      green: { holds: 'staged', ...GREEN },
      staged: { sha: shas.v3 },
      previous: null
    })

    // While v3 is staged, the errors offer only what works here: promote or cleanup.
    const rollback = await dispatch('rollback')
    expectExit(rollback, 1)
    expect(errorText(rollback)).toMatch(/"phase: promote".*"phase: cleanup"/)
    const again = await suite.run(
      recipeInputs(recipe, { eventName: 'push', inputs: {} }, suite.bucket)
    )
    expectExit(again, 1)
    expect(errorText(again)).toMatch(/"phase: promote".*"phase: cleanup"/)
    expect(errorText(again)).not.toMatch(/roll back|rollback/)
    await expectReleases('v2', 'v3')

    beforeV3Promote = await production(suite.mz)
    const promoted = await dispatch('promote')
    expectExit(promoted, 0)
    expectOutputs(promoted, { status: 'promoted', promoted: 'true' })
    await expectReleases('v3', 'v2')
    expect((await status()).state).toEqual({
      production: expectedProduction(shas.v3!),
      green: { holds: 'kept-previous', ...GREEN },
      staged: null,
      previous: { sha: shas.v2, replacedBy: shas.v3, keptAt: expect.any(String) },
      lock: null
    })
  })

  it('dispatch rollback brings v2 back and keeps v3 as the new previous', async () => {
    const v2Manifest = await getObject(suite.bucket, KEYS.archive(shas.v2!))
    const rolledBack = await dispatch('rollback')
    expectExit(rolledBack, 0)
    expect(rolledBack.outputs.status).toBe('rolled-back')
    await expectReleases('v2', 'v3')
    expect((await production(suite.mz)).objects).toEqual(beforeV3Promote!.objects)
    const restored = await getObject(suite.bucket, KEYS.manifest)
    expect(fingerprint(restored)).toBe(fingerprint(v2Manifest))

    expect((await status()).state).toEqual({
      production: expectedProduction(shas.v2!),
      green: { holds: 'kept-previous', ...GREEN },
      staged: null,
      previous: {
        sha: shas.v3,
        replacedBy: shas.v2,
        keptAt: expect.any(String),
        keptBy: 'rollback'
      },
      lock: null
    })
  })

  it('push 3 drops the rolled-back v3 and stages v4; promote keeps v2', async () => {
    const staged = await push('v4')
    expectExit(staged, 0)
    expectOutputs(staged, { status: 'staged', deployed: 'true' })
    expect(annotationsOf(staged, 'notice')).toContain(
      'Dropped the rolled-back release kept for rollback ' +
        `(commit ${shas.v3!.slice(0, 12)}, rolled back to commit ${shas.v2!.slice(0, 12)}, kept `
    )
    await expectReleases('v2', 'v4')

    const promoted = await dispatch('promote')
    expectExit(promoted, 0)
    await expectReleases('v4', 'v2')
    expect((await status()).state).toEqual({
      production: expectedProduction(shas.v4!),
      green: { holds: 'kept-previous', ...GREEN },
      staged: null,
      previous: { sha: shas.v2, replacedBy: shas.v4, keptAt: expect.any(String) },
      lock: null
    })
  })

  it('a second rollback re-applies the release the first one rolled back', async () => {
    const first = await dispatch('rollback')
    expectExit(first, 0)
    await expectReleases('v2', 'v4')
    const second = await dispatch('rollback')
    expectExit(second, 0)
    await expectReleases('v4', 'v2')
    const { state } = await status()
    expect(state.production.manifestSha).toBe(shas.v4)
    expect(state.previous).toEqual({
      sha: shas.v2,
      replacedBy: shas.v4,
      keptAt: expect.any(String),
      keptBy: 'rollback'
    })
  })

  it('status reports the lock holder at once, without waiting for the lock', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const holder = {
      owner: 'acme/analytics run 42 (deploy)',
      runUrl: 'https://github.com/acme/analytics/actions/runs/42',
      nonce: 'held-by-the-test',
      acquiredAt: new Date().toISOString(),
      expiresAt
    }
    await putObject(suite.bucket, KEYS.lock, JSON.stringify(holder))
    // lock-timeout is 20 s: a status that waited for the lock would fail on it instead.
    const { state, run } = await status()
    const { owner, runUrl, acquiredAt } = holder
    expect(state.lock).toEqual({ owner, runUrl, acquiredAt, expiresAt, expired: false })
    expect(run.summary).toContain(holder.runUrl)
    expect(JSON.stringify(state)).not.toContain(holder.nonce)
    expect(state.green).toEqual({ holds: 'kept-previous', ...GREEN })
  })
})
