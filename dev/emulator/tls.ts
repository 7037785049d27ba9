// A throwaway self-signed certificate for the emulator's TLS mode, made by the openssl CLI
// (node:crypto cannot issue X.509 certificates). It is its own CA: clients verify against it
// with sslrootcert, for localhost and 127.0.0.1.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

export interface Certificate {
  /** PEM private key. */
  key: string
  /** PEM certificate; also the CA to verify the emulator with. */
  cert: string
}

export async function selfSignedCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mz-emulator-tls-'))
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '7',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert
    ])
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
