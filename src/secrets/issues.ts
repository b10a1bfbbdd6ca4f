/** Why a credential or setting is not usable, or what is odd about it. */
export type SecretIssueReason =
  | 'missing'
  | 'empty'
  | 'placeholder'
  | 'invalid_characters'
  | 'alias_conflict'
  | 'file_unreadable'
  | 'file_unsupported'
  | 'invalid_url'

/** A reason kept beside the snapshot, naming the variable concerned and never its value. */
export interface SecretIssue {
  readonly reason: SecretIssueReason
  /** The variable the issue is about, e.g. `CLAUDE_API_KEY` or `ANTHROPIC_API_KEY_FILE`. */
  readonly variable: string
  /** `true` when the issue stops the provider from being configured. */
  readonly blocking: boolean
  readonly message: string
}
