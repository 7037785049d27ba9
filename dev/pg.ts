import pg from 'pg'

/**
 * Runs `use` on a new connection to `url`, then closes it. A server that goes away mid-query
 * (a Ctrl-C reaches PostgreSQL too) fails the query; pg also emits that as an `error` event,
 * which would crash the process if nothing listened.
 */
export async function withPgClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>
): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => undefined) // reported by the failing call
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
