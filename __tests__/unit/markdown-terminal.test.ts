import { describe, expect, it } from '@jest/globals'
import {
  ansiStyle,
  displayWidth,
  renderInline,
  renderMarkdown,
  splitRow,
  stripAnsi
} from '../../dev/demo/markdown.js'
import { formatActionLine, plainPalette, type LogState } from '../../dev/demo/terminal.js'

describe('renderMarkdown (plain)', () => {
  it('renders headings with an underline for levels 1-2 only', () => {
    expect(renderMarkdown('## Done: ok\n\n### Nodes')).toBe('Done: ok\n════════\n\nNodes')
  })

  it('renders lists, quotes and inline code, bold and links without markers', () => {
    const md = '- **Phase:** `all`\n> note _here_\n1. see [docs](https://x.y)'
    expect(renderMarkdown(md)).toBe('  • Phase: all\n│ note here\n  1. see docs (https://x.y)')
  })

  it('aligns table columns by display width, with escaped pipes and entities', () => {
    const md = [
      '| Status | Node | Time |',
      '| --- | --- | ---: |',
      '| ✅ pass | `a\\|b` | 0.1 s |',
      '| ❌ error | &lt;x&gt; | 12.0 s |'
    ].join('\n')
    const lines = renderMarkdown(md).split('\n')
    expect(lines).toEqual([
      '  Status   │ Node │   Time',
      '  ─────────┼──────┼───────',
      '  ✅ pass  │ a|b  │  0.1 s',
      '  ❌ error │ <x>  │ 12.0 s'
    ])
    const widths = lines.map(displayWidth)
    expect(new Set(widths).size).toBe(1)
  })

  it('keeps fenced code literal and indented, with its language', () => {
    const md = '```sql\nselect **1**;\n```\nafter'
    expect(renderMarkdown(md)).toBe('  sql\n    select **1**;\nafter')
  })

  it('turns <details> into a marker line and hides HTML comments', () => {
    const md =
      '<!-- marker -->\n<details><summary><code>model.x</code> (`a.sql`)</summary>\n\nboom\n</details>'
    expect(renderMarkdown(md)).toBe('▸ model.x (a.sql)\n\nboom')
  })

  it('collapses blank lines and trims them at both ends', () => {
    expect(renderMarkdown('\n\na\n\n\n\nb\n\n')).toBe('a\n\nb')
  })
})

describe('inline rendering and widths', () => {
  it('styles with ANSI and strips back to the text', () => {
    const text = renderInline('**bold** and `code`', ansiStyle)
    expect(text).not.toBe('bold and code')
    expect(stripAnsi(text)).toBe('bold and code')
  })

  it('does not treat underscores inside identifiers as italics', () => {
    expect(renderInline('pr_7 and analytics_dbt_deploy', ansiStyle)).toBe(
      'pr_7 and analytics_dbt_deploy'
    )
  })

  it('counts emoji as two columns, with or without VS16', () => {
    expect(displayWidth('✅')).toBe(2)
    expect(displayWidth('⚠️')).toBe(2)
    expect(displayWidth('⏭️ x')).toBe(4)
    expect(displayWidth('–…')).toBe(2)
  })

  it('splits table rows on unescaped pipes only', () => {
    expect(splitRow('| a | b \\| c |  |')).toEqual(['a', 'b | c', ''])
  })
})

describe('formatActionLine', () => {
  const format = (lines: string[]): Array<string | undefined> => {
    const state: LogState = { inGroup: false }
    return lines.map((line) => formatActionLine(line, 'stdout', state, plainPalette))
  }

  it('shows groups as headers, indents their lines and hides endgroup, masks and debug', () => {
    expect(
      format([
        '::group::dbt build',
        'line',
        '::add-mask::s3cret',
        '::debug::x',
        '::endgroup::',
        'after'
      ])
    ).toEqual(['▸ dbt build', '  │ line', undefined, undefined, undefined, 'after'])
  })

  it('renders annotations with their file and multi-line message', () => {
    const [line] = format(['::error title=dbt error%3A m,file=models/m.sql,line=3::bad%0Aworse'])
    expect(line).toBe('✖ error: dbt error: m: bad (models/m.sql:3)\n    worse')
  })

  it('strips the tool colours when the palette is plain', () => {
    const [line] = format(['\u001b[0m02:19:47  Running with dbt=1.11.7'])
    expect(line).toBe('02:19:47  Running with dbt=1.11.7')
  })
})
