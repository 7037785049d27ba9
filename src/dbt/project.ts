// The few facts about a dbt project the action needs, read from its YAML files.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import { ActionError, errorMessage } from '../errors.js'
import { scalarText } from '../util/scalar.js'

export interface DbtProject {
  dir: string
  name: string
  profile: string
  /** Directories (relative to the project) whose files dbt parses. */
  sourcePaths: string[]
  targetPath: string
  packagesPath: string
  /** packages.yml / dependencies.yml / package-lock.yml present. */
  packageFiles: string[]
  defaultSelector?: SelectorInfo
  selectors: Map<string, SelectorInfo>
  /** vars.deployment from dbt_project.yml, for blue/green configuration. */
  vars: Record<string, unknown>
}

export interface SelectorInfo {
  name: string
  /** The selector uses a state: method, which needs a production manifest. */
  stateBased: boolean
}

export const DBT_CONFIG_FILES = [
  'dbt_project.yml',
  'packages.yml',
  'dependencies.yml',
  'package-lock.yml',
  'selectors.yml',
  'profiles.yml'
]

function readYaml(file: string): Record<string, unknown> {
  try {
    const parsed = yaml.load(readFileSync(file, 'utf8'))
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
  } catch (error) {
    throw new ActionError(`Could not parse ${file}: ${errorMessage(error).split('\n')[0]}`)
  }
}

function pathList(config: Record<string, unknown>, key: string, fallback: string[]): string[] {
  const value = config[key]
  return Array.isArray(value) ? value.map(String) : fallback
}

function readSelectors(dir: string): SelectorInfo[] {
  const file = path.join(dir, 'selectors.yml')
  if (!existsSync(file)) return []
  const selectors = readYaml(file).selectors
  if (!Array.isArray(selectors)) return []
  return selectors.map((entry: Record<string, unknown>) => ({
    name: scalarText(entry.name) ?? '',
    stateBased: /\bstate\b/.test(JSON.stringify(entry.definition ?? '')),
    isDefault: entry.default === true
  }))
}

export function readProject(dir: string): DbtProject {
  const config = readYaml(path.join(dir, 'dbt_project.yml'))
  const selectors = readSelectors(dir)
  const defaultSelector = (selectors as Array<SelectorInfo & { isDefault?: boolean }>).find(
    (s) => s.isDefault
  )
  return {
    dir,
    name: scalarText(config.name) ?? '',
    profile: scalarText(config.profile) ?? scalarText(config.name) ?? '',
    sourcePaths: [
      ...pathList(config, 'model-paths', ['models']),
      ...pathList(config, 'seed-paths', ['seeds']),
      ...pathList(config, 'macro-paths', ['macros']),
      ...pathList(config, 'snapshot-paths', ['snapshots']),
      ...pathList(config, 'test-paths', ['tests']),
      ...pathList(config, 'analysis-paths', ['analyses']),
      ...pathList(config, 'docs-paths', [])
    ],
    targetPath: scalarText(config['target-path']) ?? 'target',
    packagesPath: scalarText(config['packages-install-path']) ?? 'dbt_packages',
    packageFiles: ['packages.yml', 'dependencies.yml', 'package-lock.yml'].filter((f) =>
      existsSync(path.join(dir, f))
    ),
    defaultSelector: defaultSelector && {
      name: defaultSelector.name,
      stateBased: defaultSelector.stateBased
    },
    selectors: new Map(selectors.map((s) => [s.name, { name: s.name, stateBased: s.stateBased }])),
    vars: (config.vars as Record<string, unknown>) ?? {}
  }
}

/** Whether a project-relative path is something dbt parses or configures itself with. */
export function isDbtFile(project: DbtProject, relativePath: string): boolean {
  const normalized = relativePath.split(path.sep).join('/')
  if (DBT_CONFIG_FILES.includes(normalized)) return true
  return project.sourcePaths.some((dir) => normalized.startsWith(`${dir.replace(/\/+$/, '')}/`))
}
