// `npm run emulator [-- --port N] [--tls]`: PostgreSQL + the Materialize emulator until Ctrl-C.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmulator, type Emulator } from './index.js'

function portArgument(argv: string[]): number {
  const at = argv.findIndex((a) => a === '--port' || a.startsWith('--port='))
  if (at < 0) return 6875 // Materialize's SQL port
  const value = argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1]
  const port = Number(value)
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad --port: ${value}`)
  return port
}

/** With --tls: writes the CA for sslrootcert, and the psql line that verifies it. */
function psqlLine(emulator: Emulator): string {
  if (!emulator.tls) return `psql "${emulator.url()}?sslmode=disable"`
  const ca = path.join(tmpdir(), `mz-emulator-${emulator.port}-ca.pem`)
  writeFileSync(ca, emulator.tls.ca)
  return `psql "${emulator.url()}?sslmode=verify-full&sslrootcert=${ca}"`
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const emulator = await startEmulator({ port: portArgument(argv), tls: argv.includes('--tls') })
  console.log(`Materialize emulator listening on ${emulator.host}:${emulator.port}`)
  console.log(`  ${emulator.url()}`)
  console.log(`  ${psqlLine(emulator)}`)
  console.log('Press Ctrl-C to stop.')
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      }
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
