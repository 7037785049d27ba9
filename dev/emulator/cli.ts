// `npm run emulator [-- --port N]`: PostgreSQL + the Materialize emulator until Ctrl-C.
import { startEmulator } from './index.js'

function portArgument(argv: string[]): number {
  const at = argv.findIndex((a) => a === '--port' || a.startsWith('--port='))
  if (at < 0) return 6875 // Materialize's SQL port
  const value = argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1]
  const port = Number(value)
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad --port: ${value}`)
  return port
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ port: portArgument(process.argv.slice(2)) })
  console.log(`Materialize emulator listening on ${emulator.host}:${emulator.port}`)
  console.log(`  ${emulator.url()}`)
  console.log(`  psql "${emulator.url()}?sslmode=disable"`)
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
