import type { SecretIssue } from '../catalog/definitions.ts'
import {
  type CredentialDefinition,
  type ProviderDefinition,
  type SettingDefinition,
  variablesOf,
} from '../catalog/definitions.ts'
import {
  credentialDefinition,
  PROVIDER_IDS,
  type ProviderId,
  providerDefinitions,
} from '../catalog/providers.ts'
import type { EnvRecord } from '../env.ts'
import { type FileReader, type FoundValue, readValue, runtimeFileReader } from './read-value.ts'
import { Secret, type SecretSlot } from './secret.ts'
import {
  type StoreSourceStatus,
  StoreSources,
  type StoreSourcesOptions,
} from './stores/store-sources.ts'

/** The current and next values of one credential, with what was odd about them. */
export interface CredentialState {
  readonly current?: Secret
  readonly next?: Secret
  readonly issues: readonly SecretIssue[]
}

type Definitions = typeof providerDefinitions
type CredentialName<P extends ProviderId> = keyof Definitions[P]['credentials'] & string
type SettingName<P extends ProviderId> = keyof Definitions[P]['settings'] & string

/** One provider's configuration as read at one moment. */
export interface ProviderSnapshot<P extends ProviderId = ProviderId> {
  readonly provider: P
  /** `true` when every credential has a usable current value and every setting is valid. */
  readonly configured: boolean
  readonly credentials: { readonly [K in CredentialName<P>]: CredentialState }
  readonly settings: { readonly [K in SettingName<P>]: string }
  /** Every issue of every credential and setting; the blocking ones say why it is not configured. */
  readonly issues: readonly SecretIssue[]
  /** Changes whenever a current credential value or a setting of this provider changes. */
  readonly generation: number
  /** When the registry first saw this generation (epoch milliseconds). */
  readonly loadedAt: number
}

/** Every provider's configuration as read for one request. */
export type SecretsSnapshot = { readonly [P in ProviderId]: ProviderSnapshot<P> }

/** Options of {@link SecretRegistry}. */
export interface SecretRegistryOptions {
  /**
   * Reads `<NAME>_FILE` secrets; `null` reads none (`_FILE` variables are reported unusable).
   * @default the runtime's own reader on Node and Deno (see {@link runtimeFileReader}); none on Workers
   */
  readFile?: FileReader | null
  /**
   * How long a `_FILE` secret is cached before it is read again, so a remounted file is picked up
   * without a restart. `reload()` drops the cache at once.
   * @default 5000
   */
  fileCacheMs?: number
  /**
   * Secure stores (`NAME_AWS_SECRET`, `NAME_AWS_PARAMETER`, Secrets Store bindings): their AWS
   * credentials provider, fetch timeout, clock. Pass a {@link StoreSources} to share one.
   * @default new StoreSources() — static AWS keys only, 3000 ms per fetch
   */
  stores?: StoreSources | StoreSourcesOptions
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

interface ProviderTrack {
  signature: string
  generation: number
  loadedAt: number
}

/**
 * The one typed registry of provider credentials. It reads every provider's variables from the
 * environment a request sees, keeps a generation per value that changes when the value changes,
 * and never hands out a raw value except through {@link Secret.reveal}.
 */
export class SecretRegistry {
  readonly #readFile: FileReader | undefined
  readonly #fileCacheMs: number
  readonly #now: () => number
  readonly #fileCache = new Map<string, { at: number; text: Promise<string> }>()
  readonly #values = new Map<string, Secret>()
  readonly #providers = new Map<string, ProviderTrack>()
  /**
   * Values that override the bound ones: promotions and values keyline obtained itself (a
   * refreshed token). `replaced` is the bound value each one replaced (`pending` until the next
   * read sees what is bound).
   */
  readonly #overrides = new Map<string, Override>()
  #counter = 0
  /** Bumped by every promotion and reload: a snapshot from before is not reused. */
  #version = 0
  #lastSnapshot:
    | {
        values: readonly (string | undefined)[]
        version: number
        snapshot: SecretsSnapshot
        /** The environment read, when frozen: the same one again holds the same values. */
        frozen: EnvRecord | undefined
      }
    | undefined
  /** Where store-backed credentials are fetched and cached. */
  readonly stores: StoreSources

  constructor(options: SecretRegistryOptions = {}) {
    const fileCacheMs = options.fileCacheMs ?? 5000
    if (!Number.isFinite(fileCacheMs) || fileCacheMs < 0) {
      throw new TypeError('fileCacheMs must be a non-negative number of milliseconds')
    }
    this.#fileCacheMs = fileCacheMs
    this.#now = options.now ?? Date.now
    this.stores =
      options.stores instanceof StoreSources
        ? options.stores
        : new StoreSources({ now: this.#now, ...options.stores })
    const readFile =
      options.readFile === undefined ? runtimeFileReader() : (options.readFile ?? undefined)
    this.#readFile = readFile && ((path) => this.#cachedRead(readFile, path))
  }

  /**
   * Reads a file through the registry's cache (what {@link reload} drops), for files that hold
   * no provider's secret, e.g. `KEYLINE_CLIENT_TOKENS_FILE`; `undefined` where files cannot be
   * read (Workers).
   */
  readCachedFile(path: string): Promise<string> | undefined {
    return this.#readFile?.(path)
  }

  /**
   * Forgets cached file contents and makes every store value due, so the next {@link resolve}
   * reads (and refetches) every source again.
   */
  reload(): void {
    this.#fileCache.clear()
    this.stores.reload()
    this.#version++
  }

  /**
   * `env` with each store-backed credential holding its cached store value (see
   * {@link StoreSources.overlay}), for code that reads credentials from the environment.
   */
  environment(env: EnvRecord): EnvRecord | Promise<EnvRecord> {
    return this.stores.overlay(env)
  }

  /** Every store-backed credential's source, version, fetch times and last error. */
  storeStatus(): StoreSourceStatus[] {
    return this.stores.status()
  }

  /**
   * Makes a next secret current in this process (after a failover or `POST /admin/keys/promote`)
   * until the binding is updated: the override holds while the bound current value is still the
   * one it replaced, and is dropped as soon as that binding changes.
   */
  promote(next: Secret, replaced: Secret | undefined): void {
    if (next.slot !== 'next') throw new TypeError('only a next secret can be promoted')
    const key = `${next.provider}.${next.credential}`
    const earlier = this.#overrides.get(key)
    // Promoting over an override: the binding still holds what the first one replaced.
    const bound =
      earlier && !earlier.pending && replaced?.reveal() === earlier.value
        ? earlier.replaced
        : replaced?.reveal()
    const definition = credentialDefinition(next.provider, next.credential)
    this.#overrides.set(key, {
      value: next.reveal(),
      source: `promoted:${definition?.next ?? next.credential}`,
      replaced: bound,
      pending: false,
    })
    this.#version++
  }

  /**
   * Makes `value` the current value of a credential, as a value keyline obtained itself (a
   * refreshed or signed-in token, one read from the vault) whose `source` says where from. Like
   * a promotion it holds until the binding changes; for a credential whose values say when they
   * expire, a bound value that lasts longer wins over it.
   */
  supply(provider: ProviderId, credential: string, value: string, source: string): void {
    if (!credentialDefinition(provider, credential)) {
      throw new TypeError(`${provider} has no credential ${credential}`)
    }
    const key = `${provider}.${credential}`
    const earlier = this.#overrides.get(key)
    this.#overrides.set(key, {
      value,
      source,
      replaced: earlier?.replaced,
      pending: earlier ? earlier.pending : true,
    })
    this.#version++
  }

  /** The bound current value of a credential (environment or `_FILE`), overrides aside. */
  async bound(
    env: EnvRecord,
    provider: ProviderId,
    credential: string
  ): Promise<string | undefined> {
    const definition = credentialDefinition(provider, credential)
    if (!definition) throw new TypeError(`${provider} has no credential ${credential}`)
    for (const name of definition.env) {
      const read = await readValue(env, name, this.#readFile)
      if (read.found) return read.found.value
    }
    return undefined
  }

  /**
   * Reads every provider's configuration from `env`. While every variable it reads holds the
   * same text as last time, no `_FILE` variable is set and nothing was promoted or reloaded,
   * the last snapshot is returned as it is: per request this costs a read of each variable.
   */
  async resolve(given: EnvRecord): Promise<SecretsSnapshot> {
    const overlaid = this.stores.overlay(given)
    const env = overlaid instanceof Promise ? await overlaid : overlaid
    const last = this.#lastSnapshot
    if (
      last &&
      last.version === this.#version &&
      (last.frozen === env || sameValues(env, last.values))
    ) {
      return last.snapshot
    }
    const values = envValues(env)
    const version = this.#version
    const providers = await Promise.all(PROVIDER_IDS.map((id) => this.#resolveProvider(env, id)))
    const snapshot = Object.fromEntries(
      PROVIDER_IDS.map((id, index) => [id, providers[index]])
    ) as unknown as SecretsSnapshot
    if (values !== undefined) {
      const frozen = Object.isFrozen(env) ? env : undefined
      this.#lastSnapshot = { values, version, snapshot, frozen }
    }
    return snapshot
  }

  /** Reads one provider's configuration from `env`. */
  async resolveProvider<P extends ProviderId>(
    env: EnvRecord,
    provider: P
  ): Promise<ProviderSnapshot<P>> {
    const overlaid = this.stores.overlay(env)
    return this.#resolveProvider(overlaid instanceof Promise ? await overlaid : overlaid, provider)
  }

  async #resolveProvider<P extends ProviderId>(
    env: EnvRecord,
    provider: P
  ): Promise<ProviderSnapshot<P>> {
    const definition: ProviderDefinition = providerDefinitions[provider]
    const issues: SecretIssue[] = []
    const credentials: Record<string, CredentialState> = {}
    const settings: Record<string, string> = {}
    const signature: string[] = []
    let configured = true

    for (const [name, credential] of Object.entries<CredentialDefinition>(definition.credentials)) {
      const state = await this.#resolveCredential(env, definition, name, credential)
      credentials[name] = state
      issues.push(...state.issues)
      if (!state.current && !credential.optional) configured = false
      signature.push(`${name}:${state.current?.generation ?? '-'}`)
    }
    for (const [name, setting] of Object.entries<SettingDefinition>(definition.settings)) {
      const { value, issue } = readSetting(env, setting)
      settings[name] = value
      if (issue) {
        issues.push(issue)
        configured = false
      }
      signature.push(`${name}=${value}`)
    }

    const track = this.#trackProvider(provider, signature.join('|'))
    return {
      provider,
      configured,
      credentials,
      settings,
      issues,
      generation: track.generation,
      loadedAt: track.loadedAt,
    } as unknown as ProviderSnapshot<P>
  }

  async #resolveCredential(
    env: EnvRecord,
    definition: ProviderDefinition,
    name: string,
    credential: CredentialDefinition
  ): Promise<CredentialState> {
    const issues: SecretIssue[] = []
    const reads = await Promise.all(credential.env.map((v) => readValue(env, v, this.#readFile)))
    let chosen: FoundValue | undefined
    for (const [index, read] of reads.entries()) {
      issues.push(...read.issues)
      if (!read.found) continue
      if (!chosen) {
        chosen = read.found
      } else if (read.found.value !== chosen.value) {
        issues.push({
          reason: 'alias_conflict',
          variable: credential.env[index] as string,
          blocking: false,
          message: `${credential.env[index]} differs from ${credential.env[0]}; ${sourceName(chosen)} is used`,
        })
      }
    }
    if (!chosen && !credential.optional) {
      const names = credential.env.join(' or ')
      // A store that could not be read says why, instead of "set …".
      const store = issues.find((i) => i.reason === 'store_unavailable')
      issues.push({
        reason: store ? 'store_unavailable' : 'missing',
        variable: store?.variable ?? credential.env[0],
        blocking: true,
        message: store
          ? `${definition.name} ${credential.label} is not configured: ${store.message}`
          : `${definition.name} ${credential.label} is not configured: set ${names}`,
      })
    }
    let nextFound: FoundValue | undefined
    if (credential.next) {
      const read = await readValue(env, credential.next, this.#readFile)
      issues.push(...read.issues)
      nextFound = read.found
    }
    const override = this.#overrideOver(definition.id, name, credential, chosen)
    if (override) {
      chosen = override
      if (nextFound?.value === override.value) nextFound = undefined
    }
    const current = chosen && this.#track(definition.id, name, 'current', chosen)
    const next = nextFound && this.#track(definition.id, name, 'next', nextFound)
    return { current, next, issues }
  }

  /** The override of the bound value, while the binding is unchanged (and it lasts longer). */
  #overrideOver(
    provider: string,
    name: string,
    credential: CredentialDefinition,
    bound: FoundValue | undefined
  ): FoundValue | undefined {
    const key = `${provider}.${name}`
    const override = this.#overrides.get(key)
    if (!override) return undefined
    if (override.pending) {
      override.replaced = bound?.value
      override.pending = false
    }
    const outlasted =
      bound !== undefined &&
      credential.expiresAt !== undefined &&
      (credential.expiresAt(bound.value) ?? Number.NEGATIVE_INFINITY) >
        (credential.expiresAt(override.value) ?? Number.NEGATIVE_INFINITY)
    if (bound?.value !== override.replaced || outlasted) {
      this.#overrides.delete(key)
      return undefined
    }
    return { value: override.value, source: override.source }
  }

  #track(provider: string, credential: string, slot: SecretSlot, found: FoundValue): Secret {
    const key = `${provider}.${credential}.${slot}`
    const previous = this.#values.get(key)
    if (previous && previous.reveal() === found.value) {
      if (previous.source === found.source) return previous
      const moved = new Secret(found.value, { ...previous.info(), source: found.source })
      this.#values.set(key, moved)
      return moved
    }
    const fresh = new Secret(found.value, {
      provider,
      credential,
      slot,
      source: found.source,
      generation: ++this.#counter,
    })
    this.#values.set(key, fresh)
    return fresh
  }

  #trackProvider(provider: string, signature: string): ProviderTrack {
    const previous = this.#providers.get(provider)
    if (previous && previous.signature === signature) return previous
    // Each provider counts its own generations: a fresh start shows generation 1.
    const track = {
      signature,
      generation: (previous?.generation ?? 0) + 1,
      loadedAt: this.#now(),
    }
    this.#providers.set(provider, track)
    return track
  }

  #cachedRead(readFile: FileReader, path: string): Promise<string> {
    const now = this.#now()
    const hit = this.#fileCache.get(path)
    if (hit && now - hit.at < this.#fileCacheMs) return hit.text
    const text = readFile(path)
    this.#fileCache.set(path, { at: now, text })
    // Forget a failed read so the next request retries, unless a newer read (after reload())
    // has taken its place already.
    text.catch(() => {
      if (this.#fileCache.get(path)?.text === text) this.#fileCache.delete(path)
    })
    return text
  }
}

interface Override {
  readonly value: string
  readonly source: string
  replaced: string | undefined
  pending: boolean
}

/** Every variable any provider reads, `_FILE` forms included. */
const ALL_VARIABLES: readonly string[] = PROVIDER_IDS.flatMap((id) =>
  variablesOf(providerDefinitions[id])
)

/** The text of every variable the registry reads (`undefined` for none), or `undefined` when a `_FILE` is set. */
const envValues = (env: EnvRecord): (string | undefined)[] | undefined => {
  const values: (string | undefined)[] = new Array(ALL_VARIABLES.length)
  for (let i = 0; i < ALL_VARIABLES.length; i++) {
    const name = ALL_VARIABLES[i] as string
    const value = env[name]
    if (typeof value !== 'string') continue
    if (name.endsWith('_FILE') && value.trim() !== '') return undefined
    values[i] = value
  }
  return values
}

/** Whether `env` holds the same text in every variable the registry reads as `values`: no allocation. */
const sameValues = (env: EnvRecord, values: readonly (string | undefined)[]): boolean => {
  for (let i = 0; i < ALL_VARIABLES.length; i++) {
    const value = env[ALL_VARIABLES[i] as string]
    if ((typeof value === 'string' ? value : undefined) !== values[i]) return false
  }
  return true
}

const sourceName = (found: FoundValue): string => found.source.replace(/^env:/, '')

const readSetting = (
  env: EnvRecord,
  setting: SettingDefinition
): { value: string; issue?: SecretIssue } => {
  const raw = env[setting.env]
  const value = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : setting.default
  if (setting.optional && value === '') return { value }
  if (setting.kind === 'url' && !isHttpUrl(value)) {
    return {
      value: setting.default,
      issue: {
        reason: 'invalid_url',
        variable: setting.env,
        blocking: true,
        message: `${setting.env} must be an absolute http(s) URL without credentials, query or fragment`,
      },
    }
  }
  return { value: value.replace(/\/+$/, '') }
}

const isHttpUrl = (value: string): boolean => {
  // A query or fragment would swallow the path appended to the base URL (`…#/v1/messages`).
  if (/[?#]/.test(value)) return false
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
  } catch {
    return false
  }
}
