// Turns the selection inputs and the state we have into dbt flags, and explains them.
import type { Selection } from '../inputs.js'
import { DEFAULT_EXCLUDE } from '../inputs.js'
import type { DbtProject } from '../dbt/project.js'
import { InputError } from '../errors.js'

export interface SelectionPlan {
  args: string[]
  /** A sentence for the summary: what is built, and why. */
  description: string
  /** The selection compares against production state (state:modified and friends). */
  stateBased: boolean
}

export interface StateFlags {
  stateDir?: string
  defer: boolean
  favorState: boolean
}

const DEFAULT_SELECT = 'state:modified+'

function excludeArgs(exclude: string[]): string[] {
  return exclude.length > 0 ? ['--exclude', ...exclude] : []
}

/** A "selector" must be one of the project's YAML selectors, checked before anything runs. */
export function checkSelector(selection: Selection, project: DbtProject): void {
  const name = selection.selector
  if (name === undefined || project.selectors.has(name)) return
  const known = [...project.selectors.keys()].map((s) => `"${s}"`).join(', ')
  throw new InputError(
    'selector',
    known
      ? `is "${name}", which is not a selector in selectors.yml; accepted: ${known}.`
      : `is "${name}", but the project has no selectors.yml with selectors.`
  )
}

function chooseSelection(
  selection: Selection,
  project: DbtProject
): { flag: string; value: string; stateBased: boolean } {
  const selectorName =
    selection.selector ?? (selection.select ? undefined : project.defaultSelector?.name)
  if (selectorName) {
    const known = project.selectors.get(selectorName)
    return { flag: '--selector', value: selectorName, stateBased: known?.stateBased ?? false }
  }
  const select = selection.select ?? DEFAULT_SELECT
  return { flag: '--select', value: select, stateBased: /(^|[\s,+@])state:/.test(select) }
}

/** Whether the selection compares with production state, so that an unchanged project selects nothing. */
export function comparesWithState(selection: Selection, project: DbtProject): boolean {
  return chooseSelection(selection, project).stateBased
}

export function planSelection(
  selection: Selection,
  project: DbtProject,
  state: StateFlags
): SelectionPlan {
  const chosen = chooseSelection(selection, project)
  // A default YAML selector is used as-is unless the user asked for an exclude.
  const exclude = selection.exclude ?? (chosen.flag === '--selector' ? [] : DEFAULT_EXCLUDE)
  if (chosen.stateBased && !state.stateDir) {
    return {
      args: excludeArgs(exclude),
      description: `Full build: \`${chosen.value}\` needs production state, which this run does not have.`,
      stateBased: false
    }
  }
  const args = [chosen.flag, ...chosen.value.split(/\s+/), ...excludeArgs(exclude)]
  if (state.stateDir) {
    args.push('--state', state.stateDir)
    if (state.defer) args.push('--defer', ...(state.favorState ? ['--favor-state'] : []))
  }
  const excluded = exclude.length > 0 ? `, excluding \`${exclude.join(' ')}\`` : ''
  const deferred = state.stateDir && state.defer ? ', deferring unselected refs to production' : ''
  return {
    args,
    description: `Selected with \`${chosen.flag} ${chosen.value}\`${excluded}${deferred}.`,
    stateBased: chosen.stateBased
  }
}
