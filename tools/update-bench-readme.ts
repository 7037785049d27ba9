// `npm run bench:readme [-- FILE ...]`: the README's benchmark block from each FILE (default
// bench-results.json), the output of `npm run bench`, in the order given.
import { readFileSync, writeFileSync } from 'node:fs'
import type { BenchResults } from '../dev/bench/results.js'
import { updatedBenchReadme } from './bench-readme.js'

const files = process.argv.length > 2 ? process.argv.slice(2) : ['bench-results.json']
const results = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResults)
writeFileSync('README.md', updatedBenchReadme(readFileSync('README.md', 'utf8'), results))
