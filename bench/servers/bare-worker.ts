/**
 * The bare Hono proxy as a Cloudflare Worker, the comparator of the cold-start benchmark:
 * `GET /healthz` and `POST /v1/messages` forwarded with the `ANTHROPIC_API_KEY` binding.
 */
import { bareProxyApp } from '../support/bare-proxy-app.ts'

export default bareProxyApp()
