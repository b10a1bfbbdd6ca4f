import { html } from 'hono/html'
import { jsx } from 'hono/jsx/jsx-runtime'
import type { HtmlEscapedString } from 'hono/utils/html'

type Child = ReturnType<typeof jsx> | string

/**
 * `h(tag, props, ...children)`: what a JSX transform would call (hono/jsx's runtime, not its
 * hooks and DOM renderer, which would only grow the Worker bundle).
 */
const h = (tag: string, props: Record<string, unknown>, ...children: Child[]) =>
  jsx(tag, { ...props, children })

/** Paths of the console's own assets, served by keyline (nothing from a CDN). */
export const CONSOLE_ASSETS = {
  script: '/admin/console.js',
  style: '/admin/console.css',
} as const

/** Refresh interval of the status and events on the page, in ms. */
export const CONSOLE_REFRESH_MS = 5_000

/**
 * The admin console's page, rendered on the server with hono/jsx (called as functions: Node runs
 * `.ts` sources without a JSX transform). It holds no data and no secret: the script fills it
 * in after sign-in, with calls that carry the admin token as a bearer header.
 */
export const consolePage = (): HtmlEscapedString | Promise<HtmlEscapedString> => {
  const page = h(
    'html',
    { lang: 'en' },
    h(
      'head',
      {},
      h('meta', { charset: 'utf-8' }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('meta', { name: 'referrer', content: 'no-referrer' }),
      h('title', {}, 'keyline admin console'),
      h('link', { rel: 'stylesheet', href: CONSOLE_ASSETS.style }),
      h('script', { src: CONSOLE_ASSETS.script, defer: true })
    ),
    h(
      'body',
      { 'data-refresh-ms': String(CONSOLE_REFRESH_MS) },
      h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
      h(
        'header',
        {},
        h('h1', {}, 'keyline admin console'),
        h('p', { id: 'who', class: 'muted' }, 'Not signed in.')
      ),
      h(
        'main',
        { id: 'main', tabindex: '-1' },
        h(
          'section',
          { id: 'signin', 'aria-labelledby': 'signin-title' },
          h('h2', { id: 'signin-title' }, 'Sign in'),
          h(
            'form',
            // POST, and no field name: should the script not run, submitting sends nothing
            // (the token never lands in a URL); the button waits for the script.
            { id: 'signin-form', autocomplete: 'off', method: 'post' },
            h('label', { for: 'token' }, 'Admin token'),
            h('input', {
              id: 'token',
              type: 'password',
              required: true,
              autocomplete: 'off',
              spellcheck: 'false',
              'aria-describedby': 'token-help',
            }),
            h(
              'p',
              { id: 'token-help', class: 'help' },
              'ADMIN_TOKEN or ADMIN_TOKEN_NEW. It stays in this tab’s memory (never in a URL, cookie or storage) and is sent only as an Authorization header; reloading the page signs you out.'
            ),
            h(
              'button',
              { type: 'submit', class: 'primary', id: 'signin-button', disabled: true },
              'Sign in'
            )
          )
        ),
        h('p', { id: 'error', class: 'error', role: 'alert', hidden: true }),
        h('p', { id: 'result', class: 'result', role: 'status', 'aria-live': 'polite' }),
        h(
          'section',
          { id: 'console', 'aria-labelledby': 'status-title', hidden: true },
          h('h2', { id: 'status-title' }, 'Status'),
          h('p', { id: 'updated', class: 'muted' }),
          h(
            'div',
            { class: 'toolbar', role: 'group', 'aria-label': 'Console actions' },
            h('button', { type: 'button', id: 'reload', class: 'primary' }, 'Reload secrets'),
            h('button', { type: 'button', id: 'signout' }, 'Sign out')
          ),
          h('div', { id: 'providers', class: 'providers' }),
          h('div', { id: 'quotas', hidden: true })
        ),
        h(
          'section',
          { id: 'events-section', 'aria-labelledby': 'events-title', hidden: true },
          h('h2', { id: 'events-title' }, 'Rotation events'),
          h(
            'table',
            { id: 'events' },
            h(
              'caption',
              { class: 'visually-hidden' },
              'Reloads, validations, promotions, failovers, Fyers refreshes and sign-ins, newest first'
            ),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['When', 'Who', 'What', 'Provider', 'Result', 'Detail'].map((name) =>
                  h('th', { scope: 'col' }, name)
                )
              )
            ),
            h('tbody', { id: 'events-body' })
          ),
          h('p', { id: 'events-empty', class: 'muted', hidden: true }, 'No events yet.'),
          h('button', { type: 'button', id: 'events-more', hidden: true }, 'Show older events')
        )
      ),
      h(
        'dialog',
        { id: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
        h(
          'form',
          { method: 'dialog' },
          h('h2', { id: 'confirm-title' }, 'Confirm'),
          h('p', { id: 'confirm-text' }),
          h(
            'div',
            { class: 'actions' },
            h('button', { value: 'cancel', id: 'confirm-cancel' }, 'Cancel'),
            h('button', { value: 'ok', id: 'confirm-ok', class: 'primary' }, 'Confirm')
          )
        )
      )
    )
  )
  return html`<!doctype html>${page}`
}
