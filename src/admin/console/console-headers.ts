import { secureHeaders } from 'hono/secure-headers'

/**
 * The console's Content-Security-Policy: only keyline's own script and style sheet, calls to
 * keyline only, no framing, no inline script or style, no plugins, no form posts elsewhere.
 */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
} as const

/**
 * The console's security headers (hono's `secureHeaders` with the CSP above), applied at build
 * time by scripts/generate-console.ts: console-routes.ts serves the headers it produced
 * (`CONSOLE_HEADERS` of console-assets.ts), so the Worker carries no header middleware.
 */
export const consoleSecureHeaders: ReturnType<typeof secureHeaders> = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: [...CONSOLE_CSP.defaultSrc],
    scriptSrc: [...CONSOLE_CSP.scriptSrc],
    styleSrc: [...CONSOLE_CSP.styleSrc],
    connectSrc: [...CONSOLE_CSP.connectSrc],
    imgSrc: [...CONSOLE_CSP.imgSrc],
    formAction: [...CONSOLE_CSP.formAction],
    frameAncestors: [...CONSOLE_CSP.frameAncestors],
    baseUri: [...CONSOLE_CSP.baseUri],
    objectSrc: [...CONSOLE_CSP.objectSrc],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  crossOriginResourcePolicy: 'same-origin',
  crossOriginOpenerPolicy: 'same-origin',
})
