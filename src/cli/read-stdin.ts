import { CliError } from './cli-error.ts'

/**
 * Reads the new secret from stdin (piped, never from argv): one line, trimmed. Refuses a
 * terminal, where the value would be echoed, and an empty or multi-line input.
 */
export const readSecretFromStdin = async (
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
): Promise<string> => {
  if (stdin.isTTY) {
    throw new CliError(
      'Pipe the new secret on stdin, e.g. `pbpaste | keyline rotate anthropic`; it is never taken from the command line',
      2
    )
  }
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  const value = Buffer.concat(chunks).toString('utf8').trim()
  if (!value) throw new CliError('stdin is empty: pipe the new secret on stdin', 2)
  if (/[\r\n]/.test(value)) throw new CliError('stdin must hold the secret on one line', 2)
  return value
}
