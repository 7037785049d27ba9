/** An input that failed validation. Its message names the input and what is accepted. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    detail: string
  ) {
    super(`Input "${input}" ${detail}`)
    this.name = 'InputError'
  }
}

/** A failure the user can act on; its message is complete without a stack trace. */
export class ActionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ActionError'
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
