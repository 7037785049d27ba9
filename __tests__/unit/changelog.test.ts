import { describe, it, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { changelogSection, parseReleaseTag, releaseNotes } from '../../tools/changelog.js'

const changelog = `# Changelog

## [Unreleased]

### Added

- Something new.

## [1.2.0] - 2026-12-01

### Fixed

- A bug.

## [1.1.0] - 2026-11-01

- Older.

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/compare/v1.1.0...v1.2.0
`

describe('release notes from CHANGELOG.md', () => {
  it("takes a version's section, up to the next heading or the link references", () => {
    expect(changelogSection(changelog, '1.2.0')).toBe('### Fixed\n\n- A bug.')
    expect(changelogSection(changelog, '1.1.0')).toBe('- Older.')
    expect(changelogSection(changelog, '1.2')).toBeUndefined()
    expect(changelogSection(changelog, '1.3.0')).toBeUndefined()
  })

  it('parses release tags: the major tag to move, and prereleases that move none', () => {
    expect(parseReleaseTag('v1.2.3')).toEqual({ version: '1.2.3', major: 'v1', prerelease: false })
    expect(parseReleaseTag('v2.0.0-rc.1')).toEqual({
      version: '2.0.0-rc.1',
      major: 'v2',
      prerelease: true
    })
    expect(() => parseReleaseTag('v1.2')).toThrow('not a release tag')
    expect(() => parseReleaseTag('1.2.3')).toThrow('not a release tag')
  })

  it('refuses a tag that package.json or CHANGELOG.md does not match', () => {
    expect(releaseNotes('v1.2.0', '1.2.0', changelog)).toBe('### Fixed\n\n- A bug.')
    expect(() => releaseNotes('v1.2.0', '1.1.0', changelog)).toThrow('package.json says 1.1.0')
    expect(() => releaseNotes('v1.3.0', '1.3.0', changelog)).toThrow('no "## [1.3.0]" section')
  })

  it('this repository keeps an Unreleased section in the Keep a Changelog form', () => {
    const ours = readFileSync('CHANGELOG.md', 'utf8')
    expect(ours).toContain('keepachangelog.com')
    expect(changelogSection(ours, 'Unreleased')).toBeDefined()
  })
})
