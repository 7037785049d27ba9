/**
 * Splits a command line into arguments the way a POSIX shell would for quoting only:
 * single and double quotes group, backslash escapes, nothing is expanded.
 */
export function splitArgs(line: string): string[] {
  const args: string[] = []
  let current = ''
  let inArg = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (quote) {
      if (char === quote) quote = undefined
      else if (char === '\\' && quote === '"' && i + 1 < line.length) current += line[++i]
      else current += char
    } else if (char === '"' || char === "'") {
      quote = char
      inArg = true
    } else if (char === '\\' && i + 1 < line.length) {
      current += line[++i]
      inArg = true
    } else if (/\s/.test(char)) {
      if (inArg) args.push(current)
      current = ''
      inArg = false
    } else {
      current += char
      inArg = true
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`)
  if (inArg) args.push(current)
  return args
}
