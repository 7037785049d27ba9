// The preflight's rule for which manifest parents a model really reads (src/bluegreen/preflight.ts):
// a `-- depends_on: {{ ref(…) }}` comment only orders dbt's build, so a seed named there is no
// read that green could take from production.
import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { readsByRef } = await import('../../src/bluegreen/preflight.js')

const seed = { name: 'country_codes' }
const reads = (raw_code?: string) => readsByRef({ raw_code }, seed)

describe('readsByRef', () => {
  it('sees ref() in single or double quotes, with spaces, and the two-argument package form', () => {
    expect(reads("select * from {{ ref('country_codes') }}")).toBe(true)
    expect(reads('select * from {{ ref( "country_codes" ) }}')).toBe(true)
    expect(reads("select * from {{ ref('shop', 'country_codes') }}")).toBe(true)
  })

  it('ignores a -- depends_on: comment, and still sees a real ref beside it', () => {
    expect(reads("-- depends_on: {{ ref('country_codes') }}\nselect 1")).toBe(false)
    expect(reads("--depends_on: {{ ref('country_codes') }}\nselect 1")).toBe(false)
    expect(
      reads("-- depends_on: {{ ref('country_codes') }}\nselect * from {{ ref('country_codes') }}")
    ).toBe(true)
  })

  it('does not take another model whose name merely contains the seed name', () => {
    expect(reads("select * from {{ ref('country_codes_v2') }}")).toBe(false)
    expect(reads("select * from {{ ref('old_country_codes') }}")).toBe(false)
  })

  it('counts a parent as read when the manifest carries no raw code (older artifacts)', () => {
    expect(reads(undefined)).toBe(true)
  })
})
