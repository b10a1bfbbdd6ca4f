/** A failure the CLI reports as one clear message and a non-zero exit code. */
export class CliError extends Error {
  override name = 'CliError'
  /** `1` for a failed operation, `2` for a usage error. */
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}
