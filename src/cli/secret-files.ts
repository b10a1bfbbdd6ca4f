import { rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Replaces a secret file atomically (a temporary file beside it, mode 0600, then a rename), so
 * a reader sees the old content or the new one, never a partial write.
 */
export const writeSecretFile = async (path: string, content: string): Promise<void> => {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  await writeFile(temporary, content, { mode: 0o600 })
  await rename(temporary, path)
}
