// Terminal output for the dev tools: colours (off for pipes and NO_COLOR), and the action's
// log as the runner would show it, with workflow commands turned into readable lines.
import { parseWorkflowCommand } from '../runner.js'
import { ansiStyle, plainStyle, stripAnsi, type Style } from './markdown.js'

export interface Palette {
  bold: (text: string) => string
  dim: (text: string) => string
  red: (text: string) => string
  green: (text: string) => string
  yellow: (text: string) => string
  cyan: (text: string) => string
  magenta: (text: string) => string
  markdown: Style
  /** Whether escape codes reach the reader; without, the action's own colours are stripped. */
  ansi: boolean
}

const sgr =
  (open: string, close: string) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`

const identity = (text: string): string => text

export const plainPalette: Palette = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
  magenta: identity,
  markdown: plainStyle,
  ansi: false
}

export const ansiPalette: Palette = {
  bold: sgr('1', '22'),
  dim: sgr('2', '22'),
  red: sgr('31', '39'),
  green: sgr('32', '39'),
  yellow: sgr('33', '39'),
  cyan: sgr('36', '39'),
  magenta: sgr('35', '39'),
  markdown: ansiStyle,
  ansi: true
}

/** Colours unless NO_COLOR is set or the stream is not a terminal (FORCE_COLOR overrides). */
export function paletteFor(stream: NodeJS.WriteStream, env = process.env): Palette {
  if (env.NO_COLOR) return plainPalette
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return ansiPalette
  return stream.isTTY ? ansiPalette : plainPalette
}

const ANNOTATION_ICONS: Record<string, string> = { error: '✖', warning: '⚠', notice: 'ℹ' }
/** Commands that carry nothing for a reader (and add-mask carries a secret). */
const HIDDEN_COMMANDS = new Set([
  'endgroup',
  'debug',
  'add-mask',
  'set-output',
  'save-state',
  'add-path',
  'stop-commands',
  'echo'
])

export interface LogState {
  inGroup: boolean
}

function annotationLine(
  level: string,
  message: string,
  properties: Record<string, string>,
  p: Palette
): string {
  const colour = level === 'error' ? p.red : level === 'warning' ? p.yellow : p.cyan
  const where = properties.file
    ? ` ${p.dim(`(${properties.file}${properties.line ? `:${properties.line}` : ''})`)}`
    : ''
  const title = properties.title ? `${properties.title}: ` : ''
  const [first = '', ...rest] = message.split('\n')
  const head = colour(`${ANNOTATION_ICONS[level]} ${level}: ${title}${first}`) + where
  return [head, ...rest.map((line) => `    ${line}`)].join('\n')
}

/**
 * How the runner's log viewer would show one line of the action's output: a group header, an
 * annotation, a plain line indented inside its group, or nothing (undefined).
 */
export function formatActionLine(
  line: string,
  stream: 'stdout' | 'stderr',
  state: LogState,
  p: Palette
): string | undefined {
  const command = stream === 'stdout' ? parseWorkflowCommand(line) : undefined
  if (command?.name === 'group') {
    state.inGroup = true
    return `${p.cyan('▸')} ${p.bold(command.message)}`
  }
  if (command?.name === 'endgroup') state.inGroup = false
  if (command && HIDDEN_COMMANDS.has(command.name)) return undefined
  if (command && ANNOTATION_ICONS[command.name]) {
    return annotationLine(command.name, command.message, command.properties, p)
  }
  const indent = state.inGroup ? p.dim('  │ ') : ''
  const text = p.ansi ? line : stripAnsi(line)
  return indent + (stream === 'stderr' ? p.red(text) : text)
}

/** Formats a whole log (e.g. the tail of a failed run) as the live printer would. */
export function formatActionLog(lines: string[], p: Palette): string[] {
  const state: LogState = { inGroup: false }
  return lines
    .map((line) => formatActionLine(line, 'stdout', state, p))
    .filter((line): line is string => line !== undefined)
}

/** A line printer for one action run: keeps the group state between lines. */
export function actionLogPrinter(
  write: (text: string) => void,
  p: Palette
): (line: string, stream: 'stdout' | 'stderr') => void {
  const state: LogState = { inGroup: false }
  return (line, stream) => {
    const text = formatActionLine(line, stream, state, p)
    if (text !== undefined) write(`${text}\n`)
  }
}

/** A banner between the demo's steps. */
export function banner(title: string, subtitle: string, p: Palette, width = 78): string {
  const rule = p.magenta('━'.repeat(width))
  return `\n${rule}\n${p.bold(p.magenta(title))}\n${p.dim(subtitle)}\n${rule}\n`
}
