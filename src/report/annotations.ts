// Error annotations on the source files of failed models and tests.
import * as core from '@actions/core'
import type { ReportedNode } from './model.js'
import { failed } from './model.js'
import { redact } from '../secrets.js'

export function annotateFailures(nodes: ReportedNode[] = []): void {
  for (const node of nodes.filter(failed)) {
    const message = redact(node.message ?? `${node.resourceType} ${node.name} ${node.status}`)
    core.error(message, { title: `dbt ${node.status}: ${node.uniqueId}`, file: node.file })
  }
}
