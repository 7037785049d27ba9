// The impact guard on a run: the cutover plan before a promote (refusing an unsafe production
// side), and the check before any drop of the `*_dbt_deploy` names, which refuses to take
// objects outside the deployment with it unless "allow-dependents" names them.
import * as core from '@actions/core'
import { ActionError } from '../errors.js'
import { greenNames } from './catalog.js'
import { qualifiedName, refuseUnsafeProduction, surveyImpact, type Dependent } from './impact.js'
import { buildPlan, planStatements, seedTables, sinkRepoints } from './plan.js'
import type { BlueGreenRun } from './run.js'

const describeDependent = (d: Dependent): string => `${qualifiedName(d)} (${d.type}, ${d.reason})`

/**
 * Plans the cutover of the staged green (`manifestBody`: the production manifest it publishes)
 * into `run.cutover` and the log, then refuses an unsafe production side. Reads only.
 */
export async function planCutover(run: BlueGreenRun, manifestBody: string): Promise<void> {
  const { blueGreen } = run.inputs
  const impact = await surveyImpact(await run.warehouse(), run.config, 'production')
  run.cutover = buildPlan(run.config, impact, sinkRepoints(manifestBody, run.config), {
    keepPrevious: blueGreen.keepPrevious,
    dryRun: blueGreen.dryRun
  })
  planStatements(run.cutover).forEach((line) => core.info(line))
  for (const d of impact.dependents)
    core.warning(`Outside the deployment, reads production: ${describeDependent(d)}.`)
  if (impact.subscriptions > 0)
    core.warning(
      `${impact.subscriptions} active SUBSCRIBE(s) on the swapped clusters break at the swap.`
    )
  refuseUnsafeProduction(run.config, impact.objects, seedTables(manifestBody, run.config))
}

/**
 * The objects outside the deployment that dropping the `*_dbt_deploy` schemas and clusters would
 * take, less those "allow-dependents" accepts (noted, and recorded in the plan).
 */
export async function blockingDependents(run: BlueGreenRun): Promise<Dependent[]> {
  const impact = await surveyImpact(await run.warehouse(), run.config, 'green')
  const allowed = new Set(run.inputs.blueGreen.allowDependents)
  const accepted = impact.dependents.filter((d) => allowed.has(qualifiedName(d)))
  const blocking = impact.dependents.filter((d) => !allowed.has(qualifiedName(d)))
  if (accepted.length > 0)
    run.notes.push(
      `Dropped with the *_dbt_deploy names, as "allow-dependents" accepts: ${accepted.map(describeDependent).join(', ')}.`
    )
  if (run.cutover) {
    run.cutover.previous.accepted = accepted.map(qualifiedName)
    run.cutover.previous.blockedBy = blocking.map(qualifiedName)
    if (blocking.length > 0) run.cutover.previous.action = 'keep'
  }
  return blocking
}

/** The error for a drop that `blocking` refused; `outcome` says what was left as it was. */
export function dependentsError(
  run: BlueGreenRun,
  blocking: Dependent[],
  what: string,
  outcome: string
): ActionError {
  const names = greenNames(run.config)
  return new ActionError(
    `Dropping ${what} (${[...names.schemas, ...names.clusters].join(', ')}) would also drop ${blocking.length} object(s) outside the deployment: ` +
      `${blocking.map(describeDependent).join('; ')}. ${outcome} ` +
      'To finish by hand: drop these objects or rebuild them on production, then run "phase: cleanup"; ' +
      `or accept that they are dropped with it: "allow-dependents: ${blocking.map(qualifiedName).join(' ')}".`
  )
}

/** Throws, dropping nothing, when dropping the `*_dbt_deploy` names would take outside objects. */
export async function guardGreenDrop(run: BlueGreenRun, what: string): Promise<void> {
  const blocking = await blockingDependents(run)
  if (blocking.length > 0) throw dependentsError(run, blocking, what, 'Nothing was dropped.')
}

/** `dry-run: true` on phase promote: the plan of the staged deploy, and nothing else. */
export async function planOnly(run: BlueGreenRun, manifestBody: string): Promise<string> {
  await run.step('Cutover plan (dry run)', () => planCutover(run, manifestBody))
  run.notes.push('Dry run: no lock taken, nothing swapped, dropped, published or written.')
  return 'planned'
}
