import { COMMON_LABELS, GRAFANA } from './config.ts'

const CONTACT_POINT = 'keyline-oncall'

/** Example Grafana contact point: e-mail and a webhook, addresses from environment variables. */
export const contactPoints = (): unknown => ({
  apiVersion: 1,
  contactPoints: [
    {
      orgId: GRAFANA.orgId,
      name: CONTACT_POINT,
      receivers: [
        {
          uid: 'keyline-oncall-email',
          type: 'email',
          settings: { addresses: '$KEYLINE_ALERT_EMAILS', singleEmail: true },
          disableResolveMessage: false,
        },
        {
          uid: 'keyline-oncall-webhook',
          type: 'webhook',
          settings: { url: '$KEYLINE_ALERT_WEBHOOK_URL', httpMethod: 'POST' },
          disableResolveMessage: false,
        },
      ],
    },
  ],
})

/**
 * Example notification policy tree routing keyline's alerts (label `team=keyline`) to the
 * contact point: critical ones re-notify every hour, warnings every four.
 */
export const notificationPolicies = (): unknown => ({
  apiVersion: 1,
  policies: [
    {
      orgId: GRAFANA.orgId,
      receiver: CONTACT_POINT,
      group_by: ['grafana_folder', 'alertname'],
      routes: [
        {
          receiver: CONTACT_POINT,
          object_matchers: [
            ...Object.entries(COMMON_LABELS).map(([k, v]) => [k, '=', v]),
            ['severity', '=', 'critical'],
          ],
          group_by: ['alertname', 'keyline_provider'],
          group_wait: '30s',
          group_interval: '5m',
          repeat_interval: '1h',
        },
        {
          receiver: CONTACT_POINT,
          object_matchers: Object.entries(COMMON_LABELS).map(([k, v]) => [k, '=', v]),
          group_by: ['alertname'],
          group_wait: '1m',
          group_interval: '10m',
          repeat_interval: '4h',
        },
      ],
    },
  ],
})

/** The Grafana dashboard provider that loads the generated dashboard JSON from disk. */
export const dashboardProvider = (): unknown => ({
  apiVersion: 1,
  providers: [
    {
      name: 'keyline',
      orgId: GRAFANA.orgId,
      folder: GRAFANA.folder,
      type: 'file',
      disableDeletion: false,
      allowUiUpdates: false,
      updateIntervalSeconds: 60,
      options: { path: '/var/lib/grafana/dashboards/keyline', foldersFromFilesStructure: false },
    },
  ],
})
