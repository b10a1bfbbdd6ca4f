import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { OtelExportConfig } from './config.ts'

/** Where the process runs, as reported in `process.runtime.name` (semantic-convention values). */
export type TelemetryRuntime = 'nodejs' | 'deno' | 'workerd'

/** What {@link buildResource} adds besides the environment's attributes. */
export interface ResourceOptions {
  /** Reported as `process.runtime.name`. */
  readonly runtime: TelemetryRuntime
  /**
   * `service.instance.id`: one per process (Node, Deno) or isolate (Workers), so cumulative
   * series from different instances never collide. `OTEL_RESOURCE_ATTRIBUTES` may override it.
   */
  readonly instanceId: string
}

// Incubating semantic-convention keys, spelt out to keep the incubating module out of bundles.
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id'
const ATTR_PROCESS_RUNTIME_NAME = 'process.runtime.name'

/**
 * The exported resource, lowest precedence first: the SDK's defaults (`telemetry.sdk.*`), the
 * runtime and instance id, `OTEL_RESOURCE_ATTRIBUTES`, then the service name
 * (`OTEL_SERVICE_NAME`, default `keyline`).
 */
export const buildResource = (config: OtelExportConfig, options: ResourceOptions): Resource =>
  defaultResource().merge(
    resourceFromAttributes({
      [ATTR_PROCESS_RUNTIME_NAME]: options.runtime,
      [ATTR_SERVICE_INSTANCE_ID]: options.instanceId,
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
    })
  )
