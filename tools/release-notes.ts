// `node --import tsx tools/release-notes.ts TAG`: prints TAG's release notes from CHANGELOG.md,
// or fails when package.json's version or the changelog does not match TAG. The release
// workflow runs it before anything is published.
import { readFileSync } from 'node:fs'
import { releaseNotes } from './changelog.js'

const tag = process.argv[2] ?? ''
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
try {
  process.stdout.write(`${releaseNotes(tag, version, readFileSync('CHANGELOG.md', 'utf8'))}\n`)
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
