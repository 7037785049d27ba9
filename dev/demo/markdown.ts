// A small Markdown renderer for a terminal: enough for the action's job summaries and PR
// comments (headings, paragraphs, lists, quotes, tables, fenced code, <details>, inline bold,
// italics, code and links). Pure: the styling is passed in, so tests use plain text.

export interface Style {
  bold(text: string): string
  dim(text: string): string
  italic(text: string): string
  code(text: string): string
  heading(text: string, level: number): string
}

const identity = (text: string): string => text

export const plainStyle: Style = {
  bold: identity,
  dim: identity,
  italic: identity,
  code: identity,
  heading: identity
}

const sgr =
  (open: string, close: string) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`

export const ansiStyle: Style = {
  bold: sgr('1', '22'),
  dim: sgr('2', '22'),
  italic: sgr('3', '23'),
  code: sgr('36', '39'),
  heading: (text, level) => (level <= 2 ? sgr('1;4', '22;24')(text) : sgr('1', '22')(text))
}

// --- display width -----------------------------------------------------------------------------

// SGR escape sequences (colours), built from a string so the regex has no control character.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

/** Code points a terminal draws two columns wide: CJK and most emoji. */
function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    [0x231a, 0x231b, 0x23e9, 0x23ea, 0x23eb, 0x23ec, 0x23f0, 0x23f3, 0x2705, 0x274c].includes(
      codePoint
    ) ||
    (codePoint >= 0x2614 && codePoint <= 0x2615) ||
    (codePoint >= 0x2648 && codePoint <= 0x2653) ||
    (codePoint >= 0x26aa && codePoint <= 0x26ab) ||
    (codePoint >= 0x26bd && codePoint <= 0x26be) ||
    (codePoint >= 0x2753 && codePoint <= 0x2757) ||
    (codePoint >= 0x2795 && codePoint <= 0x2797)
  )
}

const isZeroWidth = (codePoint: number): boolean =>
  (codePoint >= 0x300 && codePoint <= 0x36f) || codePoint === 0x200d || codePoint === 0xfe0e

/** Columns a string takes in a terminal (ANSI codes excluded). */
export function displayWidth(text: string): number {
  let width = 0
  let previousNarrowSymbol = false
  for (const char of stripAnsi(text)) {
    const codePoint = char.codePointAt(0)!
    if (codePoint === 0xfe0f) {
      // VS16 turns the symbol before it (⚠, ⏭) into a two-column emoji.
      if (previousNarrowSymbol) width += 1
      previousNarrowSymbol = false
      continue
    }
    if (isZeroWidth(codePoint)) continue
    const wide = isWide(codePoint)
    width += wide ? 2 : 1
    previousNarrowSymbol = !wide && codePoint >= 0x2000
  }
  return width
}

function pad(text: string, width: number, align: Align): string {
  const gap = Math.max(0, width - displayWidth(text))
  if (align === 'right') return ' '.repeat(gap) + text
  if (align === 'center') {
    const left = Math.floor(gap / 2)
    return ' '.repeat(left) + text + ' '.repeat(gap - left)
  }
  return text + ' '.repeat(gap)
}

// --- inline ------------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&amp;': '&',
  '&quot;': '"',
  '&#39;': "'",
  '&nbsp;': ' '
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|#39|nbsp);/g, (entity) => ENTITIES[entity] ?? entity)
}

/** Emphasis, links and HTML in text that is not code. */
function renderProse(text: string, style: Style): string {
  return decodeEntities(
    text
      .replace(/<br\s*\/?>/gi, ' ')
      .replace(/<\/?(?:b|strong)>/gi, '**')
      .replace(/<[^>]+>/g, '')
      .replace(/\\([|\\`*_[\]<>#])/g, '$1')
      .replace(/\*\*([^*]+)\*\*/g, (_, inner: string) => style.bold(inner))
      .replace(/(^|[^\w])_([^_]+)_(?=[^\w]|$)/g, (_, lead: string, inner: string) => {
        return lead + style.italic(inner)
      })
      .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_, label: string, url: string) => {
        return `${label} ${style.dim(`(${url})`)}`
      })
  )
}

/** Renders one line of inline Markdown; code spans are left literal. */
export function renderInline(text: string, style: Style): string {
  const withHtmlCode = text.replace(/<code>(.*?)<\/code>/gi, (_, inner: string) => `\`${inner}\``)
  const parts = withHtmlCode.split(/(`[^`]+`)/)
  return parts
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1
        ? style.code(decodeEntities(part.slice(1, -1)))
        : renderProse(part, style)
    )
    .join('')
}

// --- tables ------------------------------------------------------------------------------------

type Align = 'left' | 'right' | 'center'

/** Splits `| a | b \| c |` into cells; an escaped pipe (also in code, as in GFM) is a pipe. */
export function splitRow(line: string): string[] {
  const cells: string[] = []
  let current = ''
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!
    if (char === '\\' && body[i + 1] === '|') {
      current += '|'
      i++
    } else if (char === '|') {
      cells.push(current.trim())
      current = ''
    } else {
      current += char
    }
  }
  cells.push(current.trim())
  return cells
}

const isSeparatorRow = (line: string): boolean =>
  /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(line)

function alignmentOf(cell: string): Align {
  const left = cell.startsWith(':')
  const right = cell.endsWith(':')
  if (left && right) return 'center'
  return right ? 'right' : 'left'
}

function renderTable(lines: string[], style: Style): string[] {
  const aligns = splitRow(lines[1]!).map(alignmentOf)
  const rows = [lines[0]!, ...lines.slice(2)].map((line) =>
    splitRow(line).map((cell) => renderInline(cell, style))
  )
  const columns = Math.max(...rows.map((row) => row.length))
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...rows.map((row) => displayWidth(row[c] ?? '')))
  )
  const format = (row: string[]): string =>
    widths.map((w, c) => pad(row[c] ?? '', w, aligns[c] ?? 'left')).join(style.dim(' │ '))
  const header = rows[0]!.map((cell) => style.bold(cell))
  const rule = style.dim(widths.map((w) => '─'.repeat(w)).join('─┼─'))
  return [format(header), rule, ...rows.slice(1).map(format)].map((line) => `  ${line}`)
}

// --- blocks ------------------------------------------------------------------------------------

interface Block {
  lines: string[]
  next: number
}

function fencedCode(lines: string[], start: number, style: Style): Block {
  const language = lines[start]!.trim().slice(3).trim()
  const out = language ? [style.dim(`  ${language}`)] : []
  let i = start + 1
  for (; i < lines.length && !lines[i]!.trim().startsWith('```'); i++) {
    out.push(`    ${style.code(lines[i]!)}`)
  }
  return { lines: out, next: i + 1 }
}

function table(lines: string[], start: number, style: Style): Block {
  let end = start + 2
  while (end < lines.length && lines[end]!.trim().startsWith('|')) end++
  return { lines: renderTable(lines.slice(start, end), style), next: end }
}

function headingLine(level: number, text: string, style: Style): string[] {
  const rendered = style.heading(renderInline(text, plainStyle), level)
  return level <= 2 ? [rendered, style.dim('═'.repeat(displayWidth(text)))] : [rendered]
}

/** One line outside code and tables. */
function renderLine(line: string, style: Style): string[] {
  const trimmed = line.trim()
  const heading = /^(#{1,6})\s+(.*)$/.exec(trimmed)
  if (heading) return headingLine(heading[1]!.length, heading[2]!, style)
  const summary = /^<details>\s*<summary>(.*?)<\/summary>(.*)$/i.exec(trimmed)
  if (summary) return [`${style.dim('▸')} ${renderInline(summary[1]!, style)}`]
  if (/^<\/?details>$/i.test(trimmed) || /^<!--.*-->$/.test(trimmed)) return []
  const quote = /^>\s?(.*)$/.exec(trimmed)
  if (quote) return [`${style.dim('│')} ${renderInline(quote[1]!, style)}`]
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line)
  if (bullet) return [`${bullet[1]}  • ${renderInline(bullet[2]!, style)}`]
  const numbered = /^(\s*)(\d+)[.)]\s+(.*)$/.exec(line)
  if (numbered) return [`${numbered[1]}  ${numbered[2]}. ${renderInline(numbered[3]!, style)}`]
  if (/^(-{3,}|\*{3,}|_{3,})$/.test(trimmed)) return [style.dim('─'.repeat(40))]
  return [renderInline(line, style)]
}

function isTableStart(lines: string[], i: number): boolean {
  return lines[i]!.trim().startsWith('|') && i + 1 < lines.length && isSeparatorRow(lines[i + 1]!)
}

/** Renders Markdown for a terminal. Consecutive blank lines collapse into one. */
export function renderMarkdown(markdown: string, style: Style = plainStyle): string {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n')
  const out: string[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim().startsWith('```')) {
      const block = fencedCode(lines, i, style)
      out.push(...block.lines)
      i = block.next
    } else if (isTableStart(lines, i)) {
      const block = table(lines, i, style)
      out.push(...block.lines)
      i = block.next
    } else {
      out.push(...(line.trim() === '' ? [''] : renderLine(line, style)))
      i++
    }
  }
  return collapseBlankLines(out).join('\n')
}

function collapseBlankLines(lines: string[]): string[] {
  const result = lines.filter((line, i) => line !== '' || (i > 0 && lines[i - 1] !== ''))
  while (result.length > 0 && result[0] === '') result.shift()
  while (result.length > 0 && result[result.length - 1] === '') result.pop()
  return result
}
