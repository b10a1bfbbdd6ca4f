/**
 * The {@link SharedStore} of a single Node or Deno instance: one JSON file. Uses
 * `node:fs/promises` (Deno 2 supports it), so only the Node and Deno entries import it.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { memoryStore } from './memory-store.ts'
import type { PutOptions, SharedStore } from './shared-store.ts'
import { expiry } from './store-arguments.ts'

/** One stored value: `v` the text, `e` its expiry in epoch ms (absent: none). */
interface FileEntry {
  readonly v: string
  readonly e?: number
}

type FileContents = Record<string, FileEntry>

const parseFile = (text: string): FileContents => {
  const parsed = JSON.parse(text) as unknown
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('not a keyline store file')
  }
  const out: FileContents = {}
  for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const { v, e } = (entry ?? {}) as Partial<FileEntry>
    if (typeof v === 'string') out[key] = typeof e === 'number' ? { v, e } : { v }
  }
  return out
}

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** The clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number
}

/**
 * A {@link SharedStore} in the JSON file at `path`, for ONE instance: read once, then kept in
 * memory and written through. Each write goes to a temporary file (mode 0600) renamed over
 * `path`, so a crash never leaves half a file. TTLs are kept with the values; the lock is held in
 * this process (another process does not see it). A missing file is an empty store; an unreadable
 * one makes every operation reject (the file is never overwritten with less than it held).
 */
export const fileStore = (path: string, options: FileStoreOptions = {}): SharedStore => {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('fileStore: path must be a file path')
  const now = options.now ?? Date.now
  const locks = memoryStore({ now })
  let loaded: Promise<FileContents> | undefined
  /** Writes run one after another, in call order. */
  let queue: Promise<unknown> = Promise.resolve()

  const load = (): Promise<FileContents> => {
    loaded ??= readFile(path, 'utf8').then(parseFile, (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return {}
      throw error
    })
    return loaded
  }

  const persist = async (contents: FileContents): Promise<void> => {
    const at = now()
    const live: FileContents = {}
    for (const [key, entry] of Object.entries(contents)) {
      if (entry.e === undefined || entry.e > at) live[key] = entry
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const temp = `${path}.${crypto.randomUUID()}.tmp`
    await writeFile(temp, JSON.stringify(live), { mode: 0o600 })
    await chmod(temp, 0o600)
    await rename(temp, path)
  }

  const update = (change: (contents: FileContents) => boolean): Promise<void> => {
    const run = queue.then(async () => {
      const contents = await load()
      if (change(contents)) await persist(contents)
    })
    queue = run.catch(() => undefined)
    return run
  }

  return {
    kind: 'file',
    async get(key: string): Promise<string | null> {
      const entry = (await load())[key]
      if (!entry || (entry.e !== undefined && entry.e <= now())) return null
      return entry.v
    },
    async put(key: string, value: string, put: PutOptions = {}): Promise<void> {
      const until = expiry(now(), put.ttlSeconds)
      return update((contents) => {
        contents[key] = until === Number.POSITIVE_INFINITY ? { v: value } : { v: value, e: until }
        return true
      })
    },
    async delete(key: string): Promise<void> {
      return update((contents) => {
        if (!(key in contents)) return false
        delete contents[key]
        return true
      })
    },
    lock: (key, owner, ttlMs) => locks.lock(key, owner, ttlMs),
    unlock: (key, owner) => locks.unlock(key, owner),
  }
}
