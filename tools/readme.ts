// The README's inputs and outputs tables, generated from action.yml so they cannot drift.
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'

interface ActionMetadata {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}

const escape = (text: string): string =>
  text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const action = yaml.load(actionYml) as ActionMetadata
  const inputs = Object.entries(action.inputs).map(([name, input]) => {
    const fallback =
      input.default === undefined || input.default === '' ? '' : `\`${escape(input.default)}\``
    return `| \`${name}\` | ${escape(input.description)} | ${fallback} |`
  })
  const outputs = Object.entries(action.outputs).map(
    ([name, output]) => `| \`${name}\` | ${escape(output.description)} |`
  )
  return {
    inputs: ['| Input | Description | Default |', '| --- | --- | --- |', ...inputs].join('\n'),
    outputs: ['| Output | Description |', '| --- | --- |', ...outputs].join('\n')
  }
}

export function replaceBlock(readme: string, name: string, content: string): string {
  const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`)
  if (!pattern.test(readme)) throw new Error(`README.md has no <!-- ${name}:start/end --> block`)
  return readme.replace(pattern, `$1\n${content}\n$2`)
}

export function updatedReadme(
  readme: string,
  actionYml: string = readFileSync('action.yml', 'utf8')
): string {
  const tables = renderTables(actionYml)
  return replaceBlock(replaceBlock(readme, 'inputs', tables.inputs), 'outputs', tables.outputs)
}
