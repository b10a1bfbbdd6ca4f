/**
 * keyline's own credentials and sources, as data: the admin tokens, the client tokens and the
 * secure stores secrets may come from. Read by the admin guard, the client guard, the stores,
 * the redactor and the metrics alike, so each name is written once.
 */
import type { CredentialDefinition } from './definitions.ts'

/** The admin token and its next value during a rotation: `/admin/*` is off while neither is set. */
export const adminTokenDefinition = {
  env: ['ADMIN_TOKEN'],
  next: 'ADMIN_TOKEN_NEW',
  label: 'admin token',
} as const satisfies CredentialDefinition

/** The variables that hold the admin token: the current one, and the next one during its rotation. */
export const ADMIN_TOKEN_VARIABLES = [
  adminTokenDefinition.env[0],
  adminTokenDefinition.next,
] as const

/** Shortest admin token accepted: a shorter one leaves the admin API off. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/** The client tokens clients of the proxy present (`name=token`, `sha256:<hex>`, comma-separated). */
export const clientTokensDefinition = {
  env: ['KEYLINE_CLIENT_TOKENS'],
  label: 'client tokens',
} as const satisfies CredentialDefinition

/** The variable of the client tokens, unless `clientAuth` is told another. */
export const CLIENT_TOKENS_VARIABLE = clientTokensDefinition.env[0]

/** Shortest plaintext client token accepted. */
export const MIN_CLIENT_TOKEN_LENGTH = 16

/** The name every client token without one goes by, in logs and metrics. */
export const UNNAMED_CLIENT = 'unnamed'

/** What a client token's name may be: a letter, then letters, digits, `.`, `_` or `-`. */
export const CLIENT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/

/**
 * Per-client quotas (`name:rpm=N[:tpm=N][:rpd=N][:tpd=N]`, comma-separated): no secret, but read
 * like the token list (the variable, its `_FILE`, a secure store), so both can live together.
 */
export const clientLimitsDefinition = {
  env: ['KEYLINE_CLIENT_LIMITS'],
  label: 'client limits',
} as const satisfies CredentialDefinition

/** The variable of the per-client quotas. */
export const CLIENT_LIMITS_VARIABLE = clientLimitsDefinition.env[0]

/** `open` (the default: a request is served while the counter store fails) or `closed` (503). */
export const CLIENT_LIMITS_FAIL_VARIABLE = 'KEYLINE_CLIENT_LIMITS_FAIL'

/** The Durable Object namespace binding that holds the quota counters on Workers. */
export const CLIENT_LIMITS_BINDING = 'KEYLINE_LIMITS'

/**
 * The limits a client may have and their windows in seconds, each window fixed and aligned to
 * the UTC minute or day: requests (`rpm`, `rpd`: the `r` ones) and tokens, input + output as the
 * upstream's `usage` reports them (`tpm`, `tpd`).
 */
export const LIMIT_KINDS = { rpm: 60, tpm: 60, rpd: 86_400, tpd: 86_400 } as const
/** One of {@link LIMIT_KINDS}. */
export type LimitKind = keyof typeof LIMIT_KINDS

/** keyline's own credentials that may come from a secure store, beside the providers'. */
export const keylineCredentials = {
  adminToken: adminTokenDefinition,
  clientTokens: clientTokensDefinition,
  clientLimits: clientLimitsDefinition,
} as const satisfies Record<string, CredentialDefinition>

/** The stores keyline reads secrets from, as the status and the metrics name them. */
export const STORE_KINDS = ['aws-sm', 'aws-ssm', 'secrets-store'] as const
/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number]
