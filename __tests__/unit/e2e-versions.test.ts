// The versions the e2e suite runs on, and the real-Materialize job (issue 10, "Real Materialize
// on GitHub" and "Versions under test"): the workflow parses, pins its image and runs `latest`
// on a schedule, and its jest selection names every e2e file that exists, each exactly once.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { FLOORS } from '../../src/dbt/known-versions.js'
import { jestRuns, selection } from '../../tools/e2e-materialize.js'

interface Step {
  uses?: string
  run?: string
}

interface Workflow {
  on: { schedule?: Array<{ cron: string }>; pull_request?: unknown }
  jobs: Record<
    string,
    {
      strategy: { matrix: { tag: string[] } }
      services: Record<string, { image: string }>
      env: Record<string, string>
      steps: Step[]
    }
  >
}

const workflow = yaml.load(
  readFileSync('.github/workflows/e2e-materialize.yml', 'utf8')
) as Workflow
const e2eFiles = readdirSync('__tests__/e2e').filter((name) => name.endsWith('.test.ts'))

describe('.github/workflows/e2e-materialize.yml', () => {
  const [job, ...others] = Object.values(workflow.jobs)

  it('has one job, on the materialize/materialized service, with E2E_MATERIALIZE_URL set', () => {
    expect(others).toEqual([])
    expect(job!.services.materialize!.image).toBe('materialize/materialized:${{ matrix.tag }}')
    expect(job!.env.E2E_MATERIALIZE_URL).toMatch(/^postgres:\/\/materialize@127\.0\.0\.1:6875\//)
  })

  it('pins a version tag for pull requests and takes `latest` on its schedule', () => {
    const [tag] = job!.strategy.matrix.tag
    const choice =
      /^\$\{\{ github\.event_name == 'schedule' && 'latest' \|\| '(v\d+\.\d+\.\d+)' \}\}$/
    expect(tag).toMatch(choice)
    expect(workflow.on.schedule?.[0]?.cron).toMatch(/^(\S+ ){4}\S+$/)
    expect(workflow.on).toHaveProperty('pull_request')
  })

  it('runs tools/e2e-materialize.ts, with GitHub actions pinned by commit SHA', () => {
    expect(job!.steps.map((step) => step.run)).toContain('npm run e2e:materialize')
    const uses = job!.steps.flatMap((step) => (step.uses ? [step.uses] : []))
    expect(uses.length).toBeGreaterThan(0)
    for (const action of uses) expect(action).toMatch(/^actions\/[a-z-]+@[0-9a-f]{40}$/)
  })
})

describe("tools/e2e-materialize.ts's selection", () => {
  const chosen = selection()

  it('names every e2e file exactly once, and only files that exist', () => {
    const all = [...chosen.parallel, ...chosen.inTurn]
    expect(all.map((file) => file.replace('__tests__/e2e/', '')).sort()).toEqual(e2eFiles.sort())
    for (const file of all) expect(existsSync(file)).toBe(true)
  })

  it('runs every blue/green file in turn (they share the prod schema and analytics cluster)', () => {
    const blueGreen = e2eFiles.filter((name) => name.startsWith('bluegreen-'))
    expect(blueGreen.length).toBeGreaterThan(0)
    expect(chosen.inTurn).toEqual(blueGreen.sort().map((name) => `__tests__/e2e/${name}`))
    const [parallelRun, inTurnRun] = jestRuns(chosen)
    expect(inTurnRun).toEqual([...chosen.inTurn, '--selectProjects', 'e2e', '--runInBand'])
    expect(parallelRun).toEqual([...chosen.parallel, '--selectProjects', 'e2e'])
  })
})

describe('the oldest dbt-materialize under test', () => {
  const floor = FLOORS.find((f) => f.package === 'dbt-materialize')!.minimum
  const scripts = (
    JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
  ).scripts

  it('is the blue/green floor, with a fixture, and npm test runs it', () => {
    const requirements = readFileSync(
      `__tests__/e2e/fixtures/dbt-materialize-${floor}/requirements.txt`,
      'utf8'
    )
    expect(requirements).toMatch(
      new RegExp(`^dbt-materialize==${floor.replace(/\./g, '\\.')}$`, 'm')
    )
    expect(scripts['test:e2e:oldest']).toContain(`E2E_DBT_MATERIALIZE=${floor} `)
    expect(scripts['test:e2e:oldest']).toContain('__tests__/e2e/bluegreen-deploy.test.ts')
    expect(scripts.test).toMatch(/&& npm run test:e2e:oldest$/)
  })
})
