import { readFileSync, writeFileSync } from 'node:fs'
import { updatedReadme } from './readme.js'

writeFileSync('README.md', updatedReadme(readFileSync('README.md', 'utf8')))
