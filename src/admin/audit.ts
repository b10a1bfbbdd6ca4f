import type { Context } from 'hono'
import { KeylineError } from '../errors/keyline-error.ts'
import type { AdminLogger } from '../log/sink.ts'
import type { AdminAuthVariables } from './admin-auth.ts'

/** An admin action that is audited. */
export type AdminAction =
  | 'status'
  | 'reload'
  | 'validate'
  | 'promote'
  | 'fyers-login'
  | 'fyers-refresh'
  | 'fyers-sign-in'

/** How an audited action ended. */
export type AuditResult = 'ok' | 'rejected' | 'error'

/** One audited action of a request, as the rotation events log keeps it. */
export interface AuditEntry {
  readonly action: AdminAction
  readonly provider: string | null
  readonly result: AuditResult
  /** The admin token's fingerprint; `null` when no bearer was involved (the sign-in callback). */
  readonly token: string | null
  readonly at: number
  readonly detail: string | null
}

/** What {@link writeAudit} puts on `c.var`: the request's audited actions, in order. */
export interface AuditVariables {
  auditTrail: readonly AuditEntry[]
}

/** The Hono environment of the admin routes: the caller and the request's audit trail. */
export type AdminEnv = { Variables: AdminAuthVariables & AuditVariables }

/** The short detail an event keeps of an audit line's extra fields (never a secret). */
const detailOf = (extra: Record<string, unknown>): string | null => {
  const parts = Object.entries(extra)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => `${k}: ${v}`)
  return parts.length > 0 ? parts.join(', ') : null
}

/**
 * Writes the audit line of one admin action: who (admin token variable and fingerprint, client
 * address), what (action, provider), how it ended, when. Never a token or secret value.
 */
export const writeAudit = (
  log: AdminLogger,
  c: Context<{ Variables: AdminAuthVariables & AuditVariables }>,
  action: AdminAction,
  provider: string | null,
  result: AuditResult,
  now: number,
  extra: Record<string, unknown> = {}
): void => {
  const caller = c.get('adminCaller')
  log({
    level: result === 'error' ? 'error' : 'info',
    msg: 'admin audit',
    action,
    provider,
    result,
    token: caller?.fingerprint ?? null,
    tokenVariable: caller?.variable ?? null,
    client: caller?.client ?? null,
    time: new Date(now).toISOString(),
    ...extra,
  })
  const entry: AuditEntry = {
    action,
    provider,
    result,
    token: caller?.fingerprint ?? null,
    at: now,
    detail: detailOf(extra),
  }
  c.set('auditTrail', [...(c.get('auditTrail') ?? []), entry])
}

/** Runs an admin action and audits its outcome, rethrowing any error for `onError`. */
export const audited = async <T>(
  log: AdminLogger,
  c: Context<{ Variables: AdminAuthVariables & AuditVariables }>,
  action: AdminAction,
  provider: string | null,
  now: () => number,
  run: () => Promise<{ result: T; extra?: Record<string, unknown> }>
): Promise<T> => {
  try {
    const { result, extra } = await run()
    writeAudit(log, c, action, provider, 'ok', now(), extra)
    return result
  } catch (err) {
    const known = err instanceof KeylineError
    writeAudit(log, c, action, provider, known ? 'rejected' : 'error', now(), {
      error: known ? err.type : 'internal_error',
    })
    throw err
  }
}
