export { STORE_KINDS, type StoreKind } from '../../catalog/keyline.ts'
export { parameterStoreRef } from './aws-parameter-store.ts'
export {
  type AwsCredentials,
  type AwsCredentialsProvider,
  AwsStoreError,
  awsEndpoint,
  awsRegion,
} from './aws-request.ts'
export { AWS_CURRENT, AWS_PENDING, secretsManagerRef } from './aws-secrets-manager.ts'
export {
  isSecretsStoreBinding,
  type SecretsStoreBinding,
  secretsStoreRef,
} from './secrets-store.ts'
export { StoreCache, type StoreCacheOptions, type StoreFetchOutcome } from './store-cache.ts'
export type { StoreRef } from './store-fetch.ts'
export {
  AWS_PARAMETER_SUFFIX,
  AWS_SECRET_SUFFIX,
  DEFAULT_STORE_TTL_SECONDS,
  STORE_BACKED_VARIABLES,
  STORE_TTL_VARIABLE,
  type StoreRead,
  type StoreSourceStatus,
  StoreSources,
  type StoreSourcesOptions,
  storeReadOf,
} from './store-sources.ts'
