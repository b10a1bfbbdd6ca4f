/**
 * `keyline/vault/server`: the stores of Node and Deno deployments — a file for one instance,
 * Redis for several — and {@link sharedStoreFromEnv}, which picks one from the environment.
 * Not for Workers: it imports `node:fs` and `ioredis`. (An entry that imports only
 * `src/store/server-store.ts` loads `ioredis` only when `KEYLINE_REDIS_URL` is set.)
 */
export { type FileStoreOptions, fileStore } from '../store/file-store.ts'
export {
  type RedisStore,
  type RedisStoreOptions,
  redactRedisUrl,
  redisStore,
} from '../store/redis-store.ts'
export {
  REDIS_URL_VARIABLE,
  type ServerSharedStore,
  sharedStoreFromEnv,
  VAULT_FILE_VARIABLE,
} from '../store/server-store.ts'
