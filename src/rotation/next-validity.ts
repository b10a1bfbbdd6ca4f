/** What keyline knows about a staged next secret: `valid`, `invalid` or not known yet. */
export type NextValidityState = 'valid' | 'invalid' | 'unknown'

/** The outcome of checking a next secret with a cheap authenticated upstream call. */
export interface NextValidity {
  readonly state: NextValidityState
  /**
   * Why it is not valid, without any upstream text: e.g. `http_401`, `fyers_code_-16`,
   * `client_id_missing`, `network_error`, `timeout`, `not_checked`.
   */
  readonly reason?: string
  /** Epoch milliseconds of the check; absent when it never ran. */
  readonly checkedAt?: number
}

/** A next secret that has not been checked yet. */
export const NOT_CHECKED: NextValidity = Object.freeze({ state: 'unknown', reason: 'not_checked' })
