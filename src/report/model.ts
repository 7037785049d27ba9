// What a run reports, independent of where it is shown (summary, PR comment, outputs).
export interface ReportedNode {
  uniqueId: string
  name: string
  resourceType: string
  status: string
  seconds: number
  /** Why the node was selected: new, modified, downstream of a change, or a full build. */
  reason: string
  message?: string
  file?: string
}

export interface RunReport {
  title: string
  status: string
  headline: string
  facts: Array<[string, string]>
  /** The dbt nodes a build ran; absent for runs that build nothing (teardown, blue/green). */
  nodes?: ReportedNode[]
  notes: string[]
  /** Extra Markdown sections (already escaped), e.g. a timeline. */
  sections?: string[]
  /** Sections the PR comment shows as well as the summary (after `sections`), e.g. a cutover plan. */
  sharedSections?: string[]
  /**
   * A run that only confirms an earlier one (a repeated teardown): the PR comment keeps the
   * earlier report of the same title and gains this line, instead of being replaced.
   */
  followUp?: string
}

export const failed = (node: ReportedNode): boolean =>
  ['error', 'fail', 'runtime error'].includes(node.status)
