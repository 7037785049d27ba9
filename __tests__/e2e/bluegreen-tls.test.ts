// Issue 11, test 4: the action's own connection follows libpq's sslmode against a Materialize
// that requires TLS, as Materialize Cloud does (the emulator's TLS mode: a self-signed
// certificate, and a plaintext startup refused with FATAL 08004). A run whose connection cannot
// be made fails before anything is touched, and says what to change in the profile.
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describeEmulatorOnly } from './support/backends.js'
import {
  PROD_SCHEMA,
  errorText,
  expectOutputs,
  greenLeftovers,
  releaseIn,
  releaseModel,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { tempRoot } from './support/paths.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

/** The fixture's production target with these TLS fields (none: sslmode unset). */
function profileWith(tls: Record<string, string>): string {
  const fields = Object.entries(tls)
    .map(([key, value]) => `      ${key}: "${value}"\n`)
    .join('')
  return `bluegreen:
  target: prod
  outputs:
    prod:
      type: materialize
      host: "{{ env_var('MZ_HOST') }}"
      port: "{{ env_var('MZ_PORT') | int }}"
      user: "{{ env_var('MZ_USER') }}"
      pass: "{{ env_var('DBT_ENV_SECRET_MZ_PASSWORD') }}"
      database: materialize
      schema: prod
      cluster: analytics
      threads: 2
${fields}`
}

describeEmulatorOnly("the TLS mode and its certificate are the emulator's")(
  'sslmode against a Materialize that requires TLS',
  () => {
    const suite = useBlueGreenSuite('bg-tls', { tls: true })
    let certificates: string
    let caFile: string

    beforeAll(() => {
      certificates = mkdtempSync(path.join(tempRoot(), 'bg-tls-ca-'))
      caFile = path.join(certificates, 'emulator-ca.pem')
      writeFileSync(caFile, suite.emulator.tls!.ca)
    })
    afterAll(() => rmSync(certificates, { recursive: true, force: true }))

    const deploy = (release: string, tls: Record<string, string>) => {
      suite.ws.commit(`Release ${release}`, {
        ...releaseModel(release),
        'profiles.yml': profileWith(tls)
      })
      return suite.run({ 'run-tests': 'false' })
    }

    it.each<[string, string, () => Record<string, string>]>([
      ['sslmode unset (prefer)', 'v-tls-prefer', () => ({})],
      ['sslmode require', 'v-tls-require', () => ({ sslmode: 'require' })],
      [
        "verify-full against the emulator's CA",
        'v-tls-verify-full',
        () => ({ sslmode: 'verify-full', sslrootcert: caFile })
      ]
    ])('%s connects, and the deploy is promoted', async (_case, release, tls) => {
      const result = await deploy(release, tls())
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe(release)
    })

    it.each<[string, Record<string, string>, RegExp]>([
      [
        'sslmode disable is refused by the server',
        { sslmode: 'disable' },
        /without TLS \(profile target "prod", sslmode disable\): TLS encryption is required\. The server requires TLS.*set sslmode to require/
      ],
      [
        "verify-full without the CA fails on the server's certificate",
        { sslmode: 'verify-full' },
        /over TLS \(profile target "prod", sslmode verify-full\): self-signed certificate\. The server's certificate did not verify against the system's trust store: set sslrootcert/
      ]
    ])('%s: a clear error, and nothing is touched', async (_case, tls, error) => {
      const before = await releaseIn(suite.mz, PROD_SCHEMA)
      const result = await deploy(`v-tls-refused-${tls.sslmode}`, tls)
      expectExit(result, 1)
      expect(errorText(result)).toMatch(error)
      expect(result.stdout).not.toContain('deploy_init')
      expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe(before)
      expect(await greenLeftovers(suite.mz)).toEqual([])
    })
  }
)
