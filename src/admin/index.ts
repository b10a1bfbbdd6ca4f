import { bundledConsoleAssets } from './console/bundled-assets.ts'
import { useConsoleAssets } from './console/console-source.ts'

// `keyline/admin`'s adminRoutes() serve the console's generated files unless given others.
useConsoleAssets(bundledConsoleAssets)

export { type AdminLogger, consoleJsonLogger } from '../log/sink.ts'
export { NextSecretValidator, type NextSecretValidatorOptions } from '../rotation/next-validator.ts'
export { type ReloadEpochOptions, reloadEpoch } from '../rotation/reload-epoch.ts'
export { type AdminAuthOptions, type AdminCaller, adminAuth } from './admin-auth.ts'
export {
  type AdminEpochOptions,
  type AdminOptions,
  adminRoutes,
  type PromoteResult,
  type ReloadResult,
} from './admin-routes.ts'
export type { AdminEnv } from './audit.ts'
export {
  type ClientAddressReader,
  cloudflareClientAddress,
  forwardedClientAddress,
} from './client-address.ts'
export { bundledConsoleAssets } from './console/bundled-assets.ts'
export {
  type ConsoleAssets,
  type ConsoleFile,
  useConsoleAssets,
} from './console/console-source.ts'
export type { RateLimitOptions } from './failure-limiter.ts'
export type { KeyStatus, NextSecretView, ProviderStatus, SecretView } from './key-status.ts'
