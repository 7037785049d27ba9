// `npm run bench:readme [-- FILE]`: the README's benchmark block from FILE (default
// bench-results.json), the output of `npm run bench`.
import { readFileSync, writeFileSync } from 'node:fs'
import type { BenchResults } from '../dev/bench/results.js'
import { updatedBenchReadme } from './bench-readme.js'

const file = process.argv[2] ?? 'bench-results.json'
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults
writeFileSync('README.md', updatedBenchReadme(readFileSync('README.md', 'utf8'), results))
