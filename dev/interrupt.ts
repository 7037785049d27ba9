/**
 * An AbortSignal for a dev tool's run, aborted by the first SIGINT or SIGTERM, after which the
 * tool stops what it started and exits 130. Repeats are ignored: a terminal's Ctrl-C reaches
 * npm as well as the tool, and npm forwards it once more.
 */
export function abortOnSignals(onInterrupt: (signal: NodeJS.Signals) => void): AbortSignal {
  const controller = new AbortController()
  const interrupted = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    onInterrupt(signal)
    controller.abort(signal)
  }
  process.on('SIGINT', interrupted)
  process.on('SIGTERM', interrupted)
  return controller.signal
}

/** The exit status of a run that `abortOnSignals` interrupted: 128 + SIGINT, like a shell. */
export const INTERRUPTED_EXIT_CODE = 130
