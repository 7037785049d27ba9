// CHANGELOG.md (Keep a Changelog) and the release a tag makes: its notes are the version's own
// section, and the tag, package.json and that section must agree.

/** The body of `## [version]`, up to the next `## ` heading or the link references. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const lines = changelog.split('\n')
  const heading = new RegExp(`^## \\[${version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]`)
  const start = lines.findIndex((line) => heading.test(line))
  if (start < 0) return undefined
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((line) => line.startsWith('## ') || /^\[[^\]]+\]: /.test(line))
  const body = (end < 0 ? rest : rest.slice(0, end)).join('\n').trim()
  return body === '' ? undefined : body
}

export interface ReleaseTag {
  version: string
  major: string
  prerelease: boolean
}

/** `v1.2.3` or `v1.2.3-rc.1`; anything else is refused. */
export function parseReleaseTag(tag: string): ReleaseTag {
  const match = /^v((\d+)\.\d+\.\d+(?:-([0-9A-Za-z.-]+))?)$/.exec(tag)
  if (!match) throw new Error(`${tag} is not a release tag (vMAJOR.MINOR.PATCH[-PRERELEASE])`)
  return { version: match[1] ?? '', major: `v${match[2]}`, prerelease: match[3] !== undefined }
}

/** The release notes for `tag`, after checking that package.json and CHANGELOG.md agree with it. */
export function releaseNotes(tag: string, packageVersion: string, changelog: string): string {
  const { version } = parseReleaseTag(tag)
  if (packageVersion !== version)
    throw new Error(`package.json says ${packageVersion}, the tag ${tag}: bump it and tag again`)
  const section = changelogSection(changelog, version)
  if (section === undefined)
    throw new Error(
      `CHANGELOG.md has no "## [${version}]" section with notes: move Unreleased there`
    )
  return section
}
