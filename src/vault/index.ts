/**
 * `keyline/vault`: Fernet on WebCrypto (interoperable with Python's `cryptography.fernet`), the
 * encrypted token vault, and the stores that run everywhere (memory, Workers KV). The Node/Deno
 * stores (file, Redis) are in `keyline/vault/server`.
 */

export {
  KV_BINDING,
  KV_MIN_TTL_SECONDS,
  type KvNamespaceLike,
  kvStore,
  kvStoreFromEnv,
} from '../store/kv-store.ts'
export { type MemoryStoreOptions, memoryStore } from '../store/memory-store.ts'
export type { PutOptions, SharedStore } from '../store/shared-store.ts'
export { type DecryptOptions, Fernet, InvalidToken, MultiFernet } from './fernet.ts'
export {
  NO_VAULT_KEY_REASON,
  TokenVault,
  type TokenVaultOptions,
  VAULT_KEY_OLD_VARIABLE,
  VAULT_KEY_VARIABLE,
  type VaultFromEnv,
  type VaultKeys,
  type VaultWarning,
  vaultFromEnv,
} from './token-vault.ts'
