import type { CredentialDefinition } from '../../catalog/definitions.ts'
import type { StoreKind } from '../../catalog/keyline.ts'
import { keylineCredentials } from '../../catalog/keyline.ts'
import { PROVIDER_IDS, providerDefinitions } from '../../catalog/providers.ts'
import type { EnvRecord } from '../../env.ts'
import { parameterStoreRef } from './aws-parameter-store.ts'
import type { AwsCredentialsProvider } from './aws-request.ts'
import { AWS_CURRENT, AWS_PENDING, secretsManagerRef } from './aws-secrets-manager.ts'
import { isSecretsStoreBinding, secretsStoreRef } from './secrets-store.ts'
import { StoreCache, type StoreCacheOptions, type StoreEntry } from './store-cache.ts'
import type { StoreRef } from './store-fetch.ts'
import { READS, type StoreRead } from './store-read.ts'

/** `NAME_AWS_SECRET=<secret id or ARN>[#<json field>]`: the value of `NAME` in Secrets Manager. */
export const AWS_SECRET_SUFFIX = '_AWS_SECRET'
/**
 * `NAME_AWS_SECRET_FIELD=<json field>`: the field of the JSON secret `NAME_AWS_SECRET` names.
 * The same as `#<field>`, but it survives `.env` files, where an unquoted `#` starts a comment.
 */
export const AWS_SECRET_FIELD_SUFFIX = '_AWS_SECRET_FIELD'
/** `NAME_AWS_PARAMETER=<parameter name>`: the value of `NAME` in SSM Parameter Store. */
export const AWS_PARAMETER_SUFFIX = '_AWS_PARAMETER'
/** How long a fetched store value is used before it is refreshed, in seconds. */
export const STORE_TTL_VARIABLE = 'KEYLINE_STORE_TTL_SECONDS'
/** @default 3600, as in AWS's caching libraries */
export const DEFAULT_STORE_TTL_SECONDS = 3600

/** Every credential variable that may come from a store, with its next-slot variable. */
export const STORE_BACKED_VARIABLES: ReadonlyMap<string, string | undefined> = new Map([
  ...[
    ...PROVIDER_IDS.flatMap((id) =>
      Object.values<CredentialDefinition>(providerDefinitions[id].credentials)
    ),
    ...Object.values<CredentialDefinition>(keylineCredentials),
  ].flatMap((c) => [
    ...c.env.map((name, index) => [name, index === 0 ? c.next : undefined] as const),
    ...(c.next ? [[c.next, undefined] as const] : []),
  ]),
])

/** Each store-backed variable with its two locator variables, named once (no per-request strings). */
const LOCATORS: readonly (readonly [
  name: string,
  secret: string,
  parameter: string,
  field: string,
])[] = [...STORE_BACKED_VARIABLES.keys()].map(
  (name) =>
    [
      name,
      `${name}${AWS_SECRET_SUFFIX}`,
      `${name}${AWS_PARAMETER_SUFFIX}`,
      `${name}${AWS_SECRET_FIELD_SUFFIX}`,
    ] as const
)

/** One variable whose value comes from a store. */
interface Sourced {
  /** The variable it fills, e.g. `ANTHROPIC_API_KEY` or (from `AWSPENDING`) `ANTHROPIC_API_KEY_NEW`. */
  readonly name: string
  /** The variable that configures it, e.g. `ANTHROPIC_API_KEY_AWS_SECRET`. */
  readonly variable: string
  readonly ref: StoreRef
  /** The ref's source, with `#<field>` when one field of a JSON secret is read. */
  readonly source: string
  readonly field?: string
  /** For an `AWSPENDING` read: the current one, whose version it must differ from. */
  readonly currentOf?: StoreRef
}

interface Plan {
  readonly sourced: readonly Sourced[]
  readonly refs: readonly StoreRef[]
}

/** One store-backed variable in `GET /admin/keys/status`: where it is read, never its value. */
export interface StoreSourceStatus {
  /** The variable the value fills, e.g. `ANTHROPIC_API_KEY`. */
  readonly variable: string
  /** The variable that names the store, e.g. `ANTHROPIC_API_KEY_AWS_SECRET`. */
  readonly configuredBy: string
  readonly store: StoreKind
  /** `aws-sm:<id>` (`aws-sm:<id>#<field>` for a JSON field), `aws-ssm:<name>` or `secrets-store:<binding>`. */
  readonly source: string
  readonly stage: string | null
  readonly versionId: string | null
  /** `false` while the store holds no such version (no `AWSPENDING` staged). */
  readonly present: boolean
  readonly fetchedAt: string | null
  /** When the value is fetched again: its refresh moment, or after the backoff while failing. */
  readonly nextRefreshAt: string | null
  /** `true` when the last fetch failed and an older value is served. */
  readonly stale: boolean
  readonly consecutiveFailures: number
  readonly lastError: string | null
  readonly lastErrorAt: string | null
}

/** Options of {@link StoreSources}. */
export interface StoreSourcesOptions extends StoreCacheOptions {
  /**
   * AWS credentials when no static `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` is set: the Node
   * and Deno entries pass `@aws-sdk/credential-providers`' chain.
   * @default none (static keys only)
   */
  credentials?: AwsCredentialsProvider
  /** The fetch of every store call. @default globalThis.fetch */
  fetch?: typeof fetch
}

/** The global fetch, late-bound and called unbound (workerd rejects another `this`). */
export { type StoreRead, storeReadOf } from './store-read.ts'

const globalFetch: typeof fetch = (input, init) => fetch(input, init)

const RAW = Symbol('keyline.rawEnv')

const stringAt = (env: EnvRecord, name: string): string | undefined => {
  const value = env[name]
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString()

/** Splits `<id or ARN>#<json field>`; ARNs hold colons, never `#`. */
const splitField = (spec: string): { id: string; field?: string } => {
  const at = spec.lastIndexOf('#')
  return at > 0 && at < spec.length - 1
    ? { id: spec.slice(0, at), field: spec.slice(at + 1) }
    : { id: spec }
}

/**
 * Credentials from secure stores: AWS Secrets Manager (`NAME_AWS_SECRET`), SSM Parameter Store
 * (`NAME_AWS_PARAMETER`) and Cloudflare Secrets Store bindings named `NAME`. {@link overlay}
 * returns the environment with each such `NAME` holding its cached store value, so everything
 * that reads credentials (registry, admin and client auth, redaction) sees them as variables.
 */
export class StoreSources {
  readonly #cache: StoreCache
  readonly #credentials: AwsCredentialsProvider | undefined
  readonly #fetch: typeof fetch | undefined
  readonly #plans = new Map<string, Plan>()
  readonly #overlays = new WeakMap<object, { version: number; plan: Plan; env: EnvRecord }>()
  #ttl: { text: string | undefined; ms: number } = {
    text: undefined,
    ms: DEFAULT_STORE_TTL_SECONDS * 1000,
  }
  #lastPlan: Plan | undefined
  readonly #frozenPlans = new WeakMap<EnvRecord, Plan>()

  constructor(options: StoreSourcesOptions = {}) {
    const { credentials, fetch: doFetch, ...cache } = options
    this.#cache = new StoreCache(cache)
    this.#credentials = credentials
    this.#fetch = doFetch
  }

  /** Tells `listener` of every store fetch and its outcome (the app passes the metrics). */
  observe(listener: NonNullable<StoreCacheOptions['onFetch']>): void {
    this.#cache.observe(listener)
  }

  /** Makes every store value due: the next {@link overlay} refetches them all at once. */
  reload(): void {
    this.#cache.reload()
  }

  /**
   * `env` with every store-backed variable holding its store value (fetched on first use and
   * cached); `env` itself when none is configured. Synchronous while every value is fresh (the
   * hot path: no promise); otherwise waits for the due fetches, at most the fetch timeout.
   */
  overlay(env: EnvRecord): EnvRecord | Promise<EnvRecord> {
    const base = (env as { [RAW]?: EnvRecord })[RAW] ?? env
    const plan = this.#planOf(base)
    if (plan.sourced.length === 0) return base
    this.#lastPlan = plan
    const ttlMs = this.#ttlMs(base)
    const waits: Promise<void>[] = []
    const input = { env: base, credentials: this.#credentials, fetch: this.#fetch ?? globalFetch }
    for (const ref of plan.refs) {
      const wait = this.#cache.due(ref, input, ttlMs)
      if (wait) waits.push(wait)
    }
    if (waits.length > 0) return Promise.all(waits).then(() => this.#overlaid(base, plan))
    return this.#overlaid(base, plan)
  }

  /** The overlaid environment of `base`, rebuilt only when a cached value changed. */
  #overlaid(base: EnvRecord, plan: Plan): EnvRecord {
    const cached = this.#overlays.get(base)
    if (cached && cached.version === this.#cache.version && cached.plan === plan) return cached.env
    const overlaid = this.#build(base, plan)
    this.#overlays.set(base, { version: this.#cache.version, plan, env: overlaid })
    return overlaid
  }

  /** Every store-backed variable of the last environment read, for the admin status. */
  status(): StoreSourceStatus[] {
    const plan = this.#lastPlan
    if (!plan) return []
    return plan.sourced.map((s) => {
      const entry = this.#cache.entry(s.ref)
      return {
        variable: s.name,
        configuredBy: s.variable,
        store: s.ref.kind,
        source: s.source,
        stage: entry?.fetched?.stage ?? null,
        versionId: entry?.fetched?.versionId ?? null,
        present: entry?.fetched ? entry.fetched.value !== undefined : false,
        fetchedAt: iso(entry?.fetchedAt),
        // While failing, the next attempt comes after the backoff.
        nextRefreshAt: iso(
          entry?.fetched || entry?.lastError ? Math.max(entry.refreshAt, entry.retryAt) : undefined
        ),
        stale: Boolean(entry?.fetched && entry.lastError),
        consecutiveFailures: entry?.failures ?? 0,
        lastError: entry?.lastError ?? null,
        lastErrorAt: iso(entry?.lastError ? entry.lastErrorAt : undefined),
      }
    })
  }

  #ttlMs(env: EnvRecord): number {
    const text = stringAt(env, STORE_TTL_VARIABLE)
    if (text !== this.#ttl.text) {
      const seconds = Number(text)
      const valid = text !== undefined && Number.isFinite(seconds) && seconds > 0
      this.#ttl = { text, ms: (valid ? seconds : DEFAULT_STORE_TTL_SECONDS) * 1000 }
    }
    return this.#ttl.ms
  }

  /** The store-backed variables `env` configures; one plan per distinct configuration. */
  #planOf(env: EnvRecord): Plan {
    // A frozen environment (the server entries') cannot change: its plan is computed once.
    const frozen = Object.isFrozen(env)
    const known = frozen ? this.#frozenPlans.get(env) : undefined
    if (known) return known
    let key = ''
    for (const [name, secretVariable, parameterVariable, fieldVariable] of LOCATORS) {
      const secret = env[secretVariable]
      const parameter = env[parameterVariable]
      const value = env[name]
      const bound = typeof value === 'object' && value !== null && isSecretsStoreBinding(value)
      if (typeof secret !== 'string' && typeof parameter !== 'string' && !bound) continue
      const field = env[fieldVariable]
      key += `${name}\u0000${typeof secret === 'string' ? secret : ''}\u0000${typeof parameter === 'string' ? parameter : ''}\u0000${bound ? 1 : 0}\u0000${typeof field === 'string' ? field : ''}\u0001`
    }
    let plan = this.#plans.get(key)
    if (!plan) {
      if (this.#plans.size > 32) this.#plans.clear()
      plan = key === '' ? { sourced: [], refs: [] } : buildPlan(env)
      this.#plans.set(key, plan)
    }
    if (frozen) this.#frozenPlans.set(env, plan)
    return plan
  }

  #build(base: EnvRecord, plan: Plan): EnvRecord {
    const overlaid = Object.create(base) as Record<string, unknown>
    const reads = new Map<string, StoreRead>()
    for (const s of plan.sourced) {
      const entry = this.#cache.entry(s.ref)
      const read = sourcedValue(s, entry, s.currentOf && this.#cache.entry(s.currentOf))
      if (read.skip) continue
      if (read.value !== undefined) {
        overlaid[s.name] = read.value
        reads.set(s.name, { source: s.source, variable: s.variable })
      } else {
        // No value: a Secrets Store binding must not be read as one.
        if (isSecretsStoreBinding(base[s.name])) overlaid[s.name] = undefined
        reads.set(s.name, {
          source: s.source,
          variable: s.variable,
          error: read.error ?? `${s.source}: not fetched yet`,
        })
      }
    }
    Object.defineProperty(overlaid, RAW, { value: base })
    Object.defineProperty(overlaid, READS, { value: reads })
    return overlaid
  }
}

const buildPlan = (env: EnvRecord): Plan => {
  const sourced: Sourced[] = []
  const filled = new Set<string>()
  for (const [name, next] of STORE_BACKED_VARIABLES) {
    const secret = stringAt(env, `${name}${AWS_SECRET_SUFFIX}`)
    const parameter = stringAt(env, `${name}${AWS_PARAMETER_SUFFIX}`)
    if (secret) {
      const split = splitField(secret)
      const id = split.id
      const field = stringAt(env, `${name}${AWS_SECRET_FIELD_SUFFIX}`) ?? split.field
      const current = secretsManagerRef(id, AWS_CURRENT)
      const variable = `${name}${AWS_SECRET_SUFFIX}`
      const source = field ? `${current.source}#${field}` : current.source
      sourced.push({ name, variable, ref: current, source, ...(field ? { field } : {}) })
      // The rotation staged in Secrets Manager is the next value, unless the next slot has a store of its own.
      if (
        next &&
        !stringAt(env, `${next}${AWS_SECRET_SUFFIX}`) &&
        !stringAt(env, `${next}${AWS_PARAMETER_SUFFIX}`)
      ) {
        const pending = secretsManagerRef(id, AWS_PENDING)
        sourced.push({
          name: next,
          variable,
          ref: pending,
          source: field ? `${pending.source}#${field}` : pending.source,
          currentOf: current,
          ...(field ? { field } : {}),
        })
        filled.add(next)
      }
    } else if (parameter) {
      const ref = parameterStoreRef(parameter)
      sourced.push({ name, variable: `${name}${AWS_PARAMETER_SUFFIX}`, ref, source: ref.source })
    } else if (isSecretsStoreBinding(env[name]) && !filled.has(name)) {
      const ref = secretsStoreRef(name)
      sourced.push({ name, variable: name, ref, source: ref.source })
    }
  }
  const refs = [...new Map(sourced.map((s) => [s.ref.key, s.ref])).values()]
  return { sourced, refs }
}

/** The value a store-backed variable gets from its entry (and JSON field). */
const sourcedValue = (
  s: Sourced,
  entry: StoreEntry | undefined,
  current: StoreEntry | undefined
): { value?: string; error?: string; skip?: boolean } => {
  const fetched = entry?.fetched
  if (!fetched) return { error: entry?.lastError }
  if (fetched.value === undefined) return { skip: true }
  // AWSPENDING on the version that is AWSCURRENT already: nothing is staged.
  if (
    s.currentOf &&
    fetched.versionId !== undefined &&
    fetched.versionId === current?.fetched?.versionId
  ) {
    return { skip: true }
  }
  if (!s.field) {
    const whole = jsonObjectProblem(s, fetched.value)
    return whole ? { error: whole } : { value: fetched.value }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(fetched.value)
  } catch {
    return { error: `${s.ref.source}: the secret is not JSON, so it has no field ${s.field}` }
  }
  const field = (parsed as Record<string, unknown> | null)?.[s.field]
  if (typeof field === 'string') return { value: field }
  if (typeof field === 'number') return { value: String(field) }
  return { error: `${s.ref.source}: the secret has no string field ${s.field}` }
}

/** A field name that is shown in a message: an identifier, never anything that could be a value. */
const SHOWN_FIELD = /^[A-Za-z_][A-Za-z0-9_.-]{0,39}$/

/**
 * Why a store value that is a JSON object cannot stand for one credential (it is one only by
 * mistake: a `#<field>` lost to a `.env` comment, say), naming the way to pick a field; or
 * `undefined` for any other value.
 */
const jsonObjectProblem = (s: Sourced, value: string): string | undefined => {
  const text = value.trim()
  if (!text.startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const fields = Object.keys(parsed).filter((k) => SHOWN_FIELD.test(k))
  const named = fields.length ? ` (fields: ${fields.slice(0, 8).join(', ')})` : ''
  const what = `${s.ref.source}: the value is a JSON object${named}, not a single ${s.name} value`
  if (s.ref.kind !== 'aws-sm') return `${what}; store the value itself`
  const base = s.variable.slice(0, -AWS_SECRET_SUFFIX.length)
  return `${what}; name its field with ${base}${AWS_SECRET_FIELD_SUFFIX}=<field> (or ${s.variable}="<id>#<field>", quoted in a .env file, where an unquoted # starts a comment)`
}
