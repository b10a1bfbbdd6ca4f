import type { SecretIssue, SecretIssueReason } from '../catalog/definitions.ts'
import { PROVIDER_IDS, type ProviderId } from '../catalog/providers.ts'
import type { ClientTokensStatus } from '../middleware/client-auth.ts'
import type { ClientLimitsStatus } from '../middleware/client-quotas.ts'
import type { FyersTokenStatus } from '../providers/fyers/tokens.ts'
import type { NextValidity, NextValidityState } from '../rotation/next-validator.ts'
import { rotatingCredential } from '../rotation/rotating-credential.ts'
import type { CredentialState, ProviderSnapshot, SecretsSnapshot } from '../secrets/registry.ts'
import type { Secret } from '../secrets/secret.ts'
import type { StoreSourceStatus } from '../secrets/stores/store-sources.ts'
import type { ProviderHealth } from '../telemetry/provider-health.ts'

/** A secret as the status shows it: where it came from, its fingerprint and generation. */
export interface SecretView {
  readonly source: string
  /** `…ABCD`, or `[REDACTED]` for a secret shorter than 16 characters. */
  readonly fingerprint: string
  readonly generation: number
}

/** The staged next secret, with what its validation call said. */
export interface NextSecretView extends SecretView {
  readonly validity: NextValidityState
  readonly reason?: string
  readonly checkedAt?: string
}

/** One provider in `GET /admin/keys/status`. */
export interface ProviderStatus {
  readonly configured: boolean
  /** The blocking reasons when not configured, e.g. `missing`, `placeholder`. */
  readonly reasons: readonly SecretIssueReason[]
  /** Everything odd about the configuration (alias conflicts included), by variable. */
  readonly issues: readonly SecretIssue[]
  /** The rotating credential (`apiKey`, `accessToken`). */
  readonly credential: string
  /** Where the current value of the rotating credential came from. */
  readonly source: string | null
  readonly current: SecretView | null
  readonly next: NextSecretView | null
  /** Every credential's current and next secret. */
  readonly credentials: Readonly<
    Record<string, { current: SecretView | null; next: SecretView | null }>
  >
  readonly generation: number
  readonly loadedAt: string
  readonly health: {
    readonly consecutiveFailures: number
    readonly lastSuccessAt: string | null
    readonly lastFailureAt: string | null
    readonly lastErrorType: string | null
    readonly failovers: number
  }
  /** Fyers only, when keyline manages its tokens: expiries, refresh and vault. */
  readonly token?: FyersTokenStatus
}

/** The body of `GET /admin/keys/status`: fingerprints only, never a value. */
export interface KeyStatus {
  readonly runtime: string
  readonly time: string
  readonly providers: { readonly [P in ProviderId]: ProviderStatus }
  /**
   * Every credential read from a secure store: its source (`aws-sm:<id>`, `aws-ssm:<name>`,
   * `secrets-store:<binding>`), version id or stage, fetched-at, next refresh and last error.
   */
  readonly stores: readonly StoreSourceStatus[]
  /** The client tokens of the proxy: names and counts, never a token. */
  readonly clients?: ClientTokensStatus
  /** The per-client quotas: each client's limits, its current windows and refusals. */
  readonly limits?: ClientLimitsStatus
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString()

const view = (secret: Secret | undefined): SecretView | null => {
  if (!secret) return null
  const { source, fingerprint, generation } = secret.info()
  return { source, fingerprint, generation }
}

const nextView = (secret: Secret | undefined, validity: NextValidity | undefined) => {
  const base = view(secret)
  if (!base) return null
  const result: NextSecretView = {
    ...base,
    validity: validity?.state ?? 'unknown',
    ...(validity?.reason ? { reason: validity.reason } : {}),
    ...(validity?.checkedAt !== undefined ? { checkedAt: iso(validity.checkedAt) ?? '' } : {}),
  }
  return result
}

/** One provider's status from its snapshot, the next secret's validity and its health. */
export const providerStatus = (
  snapshot: ProviderSnapshot,
  validity: NextValidity | undefined,
  health: ProviderHealth
): ProviderStatus => {
  const credentials = snapshot.credentials as Record<string, CredentialState>
  const rotating = rotatingCredential(snapshot.provider).name
  const state = credentials[rotating]
  return {
    configured: snapshot.configured,
    reasons: [...new Set(snapshot.issues.filter((i) => i.blocking).map((i) => i.reason))],
    issues: snapshot.issues.map(({ reason, variable, blocking, message }) => ({
      reason,
      variable,
      blocking,
      message,
    })),
    credential: rotating,
    source: state?.current?.source ?? null,
    current: view(state?.current),
    next: nextView(state?.next, validity),
    credentials: Object.fromEntries(
      Object.entries(credentials).map(([name, s]) => [
        name,
        { current: view(s.current), next: view(s.next) },
      ])
    ),
    generation: snapshot.generation,
    loadedAt: iso(snapshot.loadedAt) ?? '',
    health: {
      consecutiveFailures: health.consecutiveFailures,
      lastSuccessAt: iso(health.lastSuccessAt),
      lastFailureAt: iso(health.lastFailureAt),
      lastErrorType: health.lastErrorType ?? null,
      failovers: health.failovers,
    },
  }
}

/** The whole status body. */
export const keyStatus = (
  snapshot: SecretsSnapshot,
  validity: (provider: ProviderId) => NextValidity | undefined,
  health: (provider: ProviderId) => ProviderHealth,
  runtime: string,
  now: number,
  stores: readonly StoreSourceStatus[] = [],
  tokens: { readonly fyers?: FyersTokenStatus } = {}
): KeyStatus => {
  const providers = {} as Record<ProviderId, ProviderStatus>
  for (const id of PROVIDER_IDS) {
    const status = providerStatus(snapshot[id], validity(id), health(id))
    const token = id === 'fyers' ? tokens.fyers : undefined
    providers[id] = token ? { ...status, token } : status
  }
  return { runtime, time: new Date(now).toISOString(), providers, stores }
}
