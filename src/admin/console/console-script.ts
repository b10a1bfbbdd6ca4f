/**
 * The console's script, served as `GET /admin/console.js` (the CSP allows scripts from keyline
 * only, none inline). Plain browser JavaScript, served minified: edit it here, then run
 * `npx node scripts/generate-console.ts` (it writes console-assets.ts). The admin token lives
 * in one closure variable: it is sent as `Authorization: Bearer` on same-origin calls and is
 * never written to a URL, a cookie, storage or the DOM. Everything shown is set with `textContent`.
 */
export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var token = null;
  var timer = null;
  var busy = false;
  var lastStatus = null;
  var olderCursor = null;
  var olderShown = false;
  var $ = function (id) { return document.getElementById(id); };
  var refreshMs = Number(document.body.getAttribute('data-refresh-ms')) || 5000;
  var NAMES = { anthropic: 'Anthropic', fyers: 'Fyers' };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else if (attrs[k] === true) node.setAttribute(k, '');
      else if (attrs[k] !== false && attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function when(iso) {
    if (!iso) return 'never';
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }
  function showError(text) { var e = $('error'); e.textContent = text; e.hidden = !text; }
  function showResult(result) {
    var box = $('result');
    if (result && typeof result === 'object') {
      box.textContent = result.text;
      if (/^https?:\/\//.test(result.link)) box.appendChild(el('a', { href: result.link, target: '_blank', rel: 'noopener noreferrer', text: 'Fyers sign-in' }));
    } else {
      box.textContent = result;
    }
  }

  /** A sentence for a failed call: never a stack, never the token. */
  function sentence(res, body) {
    if (res.status === 401) return 'The admin token was not accepted. Check it and sign in again.';
    if (res.status === 429) {
      var wait = res.headers.get('retry-after');
      return 'Too many failed attempts from this address. Wait ' + (wait ? wait + ' seconds' : 'a minute') + ' before trying again.';
    }
    if (res.status === 404) return 'The admin API is off on this server: no admin token is configured.';
    var message = body && body.error && typeof body.error.message === 'string' ? body.error.message : '';
    return message ? message.replace(/\.?$/, '.') : 'keyline answered with HTTP ' + res.status + '.';
  }

  /** One admin call: resolves to the JSON body, or rejects with a sentence. */
  function call(method, path, json) {
    var headers = { authorization: 'Bearer ' + token, accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, {
      method: method, headers: headers, credentials: 'omit', cache: 'no-store',
      referrerPolicy: 'no-referrer', body: json === undefined ? undefined : JSON.stringify(json)
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (res.ok) return body;
        var err = new Error(sentence(res, body));
        err.status = res.status;
        throw err;
      });
    }, function () {
      var err = new Error('keyline could not be reached. Check the server and your network, then try again.');
      err.status = 0;
      throw err;
    });
  }

  function signedIn(yes) {
    $('signin').hidden = yes;
    $('console').hidden = !yes;
    $('events-section').hidden = !yes;
    $('who').textContent = yes ? 'Signed in. The status refreshes every ' + Math.round(refreshMs / 1000) + ' seconds.' : 'Not signed in.';
    if (!yes) {
      token = null;
      lastStatus = null;
      shown = '';
      olderShown = false;
      olderCursor = null;
      $('events-body').textContent = '';
      if (timer) clearInterval(timer);
      timer = null;
      $('providers').textContent = '';
      $('events-body').textContent = '';
    }
  }

  function failed(err) {
    if (err.status === 401 || err.status === 404) { signedIn(false); $('token').focus(); }
    showError(err.message);
  }

  function row(dl, term, value, cls) {
    dl.appendChild(el('dt', { text: term }));
    dl.appendChild(el('dd', { text: value, className: cls || null }));
  }
  function secret(view) {
    return view ? view.fingerprint + ' (generation ' + view.generation + ', from ' + view.source + ')' : 'none';
  }

  function providerCard(id, p) {
    var name = NAMES[id] || id;
    var titleId = 'p-' + id + '-title';
    var dl = el('dl');
    row(dl, 'Configured', p.configured ? 'yes' : 'no: ' + (p.issues.filter(function (i) { return i.blocking; }).map(function (i) { return i.message; }).join(' ') || p.reasons.join(', ')), p.configured ? 'ok' : 'bad');
    row(dl, 'Source', p.source || 'none');
    row(dl, 'Current ' + p.credential, secret(p.current));
    row(dl, 'Next ' + p.credential, p.next ? secret(p.next) : 'none staged');
    if (p.next) row(dl, 'Next validity', p.next.validity + (p.next.reason ? ' (' + p.next.reason + ')' : '') + (p.next.checkedAt ? ', checked ' + when(p.next.checkedAt) : ''), p.next.validity === 'valid' ? 'ok' : p.next.validity === 'invalid' ? 'bad' : 'warn');
    row(dl, 'Generation', String(p.generation) + ', loaded ' + when(p.loadedAt));
    var h = p.health;
    row(dl, 'Health', h.consecutiveFailures + ' failure' + (h.consecutiveFailures === 1 ? '' : 's') + ' in a row' + (h.lastErrorType ? ', last error ' + h.lastErrorType : ''), h.consecutiveFailures > 0 ? 'bad' : 'ok');
    row(dl, 'Last success', when(h.lastSuccessAt));
    row(dl, 'Last failure', when(h.lastFailureAt));
    row(dl, 'Failovers', String(h.failovers));
    var t = p.token;
    if (t) {
      row(dl, 'Access token expires', t.accessToken.expiresAt ? when(t.accessToken.expiresAt) : 'unknown');
      row(dl, 'Refresh token', t.refreshToken.daysLeft === null ? 'expiry unknown' : t.refreshToken.daysLeft + ' days left (until ' + when(t.refreshToken.expiresAt) + ')', t.refreshToken.daysLeft !== null && t.refreshToken.daysLeft < 2 ? 'warn' : null);
      var last = t.refresh.last;
      row(dl, 'Last refresh', last ? last.outcome + ' (' + last.trigger + ') ' + when(last.at) + (last.reason ? ': ' + last.reason : '') : 'none yet', last && last.outcome === 'failure' ? 'bad' : null);
      row(dl, 'Refresh possible', t.refresh.possible ? 'yes' : t.refresh.missing.length ? 'no: set ' + t.refresh.missing.join(', ') : 'no: the refresh token expired, sign in', t.signIn.needed ? 'bad' : null);
      if (t.refresh.nextAt) row(dl, 'Next timed refresh', when(t.refresh.nextAt));
      row(dl, 'Sign-in possible', t.signIn.possible ? 'yes' : 'no: set ' + t.signIn.missing.join(', '));
      row(dl, 'Token vault', t.vault.persisted ? 'persisted in ' + t.vault.store : 'not persisted' + (t.vault.reason ? ': ' + t.vault.reason : ''));
    }
    var actions = el('div', { className: 'actions', role: 'group', 'aria-label': name + ' actions' });
    actions.appendChild(el('button', { type: 'button', id: 'validate-' + id, 'data-action': 'validate', 'data-provider': id, disabled: !p.next, text: 'Validate next' }));
    actions.appendChild(el('button', { type: 'button', id: 'promote-' + id, 'data-action': 'promote', 'data-provider': id, disabled: !p.next, text: 'Promote next' }));
    if (t) {
      actions.appendChild(el('button', { type: 'button', id: 'fyers-refresh', 'data-action': 'fyers-refresh', 'data-provider': id, disabled: !t.refresh.possible, text: 'Refresh Fyers token' }));
      actions.appendChild(el('button', { type: 'button', id: 'fyers-sign-in', 'data-action': 'fyers-sign-in', 'data-provider': id, disabled: !t.signIn.possible, text: 'Fyers sign-in' }));
    }
    return el('article', { className: 'provider', id: 'provider-' + id, 'aria-labelledby': titleId }, [el('h3', { id: titleId, text: name }), dl, actions]);
  }

  var shown = '';
  function renderStatus(status) {
    lastStatus = status;
    $('updated').textContent = 'Runtime ' + status.runtime + ', updated ' + when(status.time) + '.';
    renderQuotas(status.limits);
    // Unchanged cards are left alone, so a refresh never moves the keyboard focus.
    var next = JSON.stringify(status.providers);
    if (next === shown) return;
    shown = next;
    var focused = document.activeElement && document.activeElement.id;
    var box = $('providers');
    box.textContent = '';
    Object.keys(status.providers).forEach(function (id) { box.appendChild(providerCard(id, status.providers[id])); });
    if (focused && $(focused) && !$(focused).disabled) $(focused).focus();
  }

  // Client quotas (GET /admin/keys/status limits): a row per client and limit, a bar of its use.
  function renderQuotas(limits) {
    var box = $('quotas');
    var rows = [];
    Object.keys(limits ? limits.clients : {}).forEach(function (name) {
      var c = limits.clients[name];
      if (!c.counts.length) rows.push([name, c.blocked || c.error, '', '']);
      c.counts.forEach(function (k) {
        rows.push([name, k.kind + (k.limit ? '=' + k.limit : ' today'), k.used, k.limit ? el('meter', { max: k.limit, value: k.used, title: k.used + ' / ' + k.limit }) : '']);
      });
    });
    box.hidden = !rows.length;
    box.textContent = '';
    box.appendChild(el('h3', { text: 'Client quotas' + (limits ? ' (' + limits.engine + ')' : '') }));
    var columns = ['Client', 'Limit', 'Used', 'Usage'];
    box.appendChild(el('table', {}, [
      el('caption', { className: 'visually-hidden', text: 'Each client’s quotas and what it used of them' }),
      el('thead', {}, [el('tr', {}, columns.map(function (name) { return el('th', { scope: 'col', text: name }); }))]),
      el('tbody', {}, rows.map(function (r) {
        return el('tr', {}, r.map(function (v, i) { return el('td', { 'data-label': columns[i], text: v.nodeType ? null : String(v) }, [v.nodeType && v]); }));
      }))
    ]));
    (limits ? limits.issues : []).forEach(function (text) { box.appendChild(el('p', { className: 'warn', text: text })); });
  }

  function eventRow(e) {
    var cells = [['When', when(e.at)], ['Who', e.who], ['What', e.action], ['Provider', e.provider || '-'], ['Result', e.result], ['Detail', e.detail || '']];
    return el('tr', { 'data-event': e.id }, cells.map(function (c) {
      return el('td', { 'data-label': c[0], text: c[1], className: c[0] === 'Result' ? (e.result === 'ok' ? 'ok' : 'bad') : null });
    }));
  }
  // mode: 'replace' (the newest page), 'older' (a page appended below) or 'newer' (the periodic
  // refresh once older pages are shown: only events above the first row are added).
  function renderEvents(page, mode) {
    var body = $('events-body');
    if (mode === 'newer' && olderShown) {
      var first = body.firstElementChild && body.firstElementChild.getAttribute('data-event');
      page.events.filter(function (e) { return !first || e.id > first; }).reverse()
        .forEach(function (e) { body.insertBefore(eventRow(e), body.firstElementChild); });
    } else {
      if (mode !== 'older') body.textContent = '';
      page.events.forEach(function (e) { body.appendChild(eventRow(e)); });
      olderShown = mode === 'older';
      olderCursor = page.next;
    }
    $('events-empty').hidden = body.children.length > 0;
    $('events-more').hidden = olderCursor === null;
  }

  function refresh() {
    if (!token || busy) return Promise.resolve();
    busy = true;
    return Promise.all([call('GET', '/admin/keys/status'), call('GET', '/admin/events?limit=20')])
      .then(function (r) { renderStatus(r[0]); renderEvents(r[1], 'newer'); showError(''); })
      .catch(failed)
      .then(function () { busy = false; });
  }

  function ask(text) {
    var dialog = $('confirm');
    $('confirm-text').textContent = text;
    return new Promise(function (resolve) {
      dialog.addEventListener('close', function onClose() {
        dialog.removeEventListener('close', onClose);
        resolve(dialog.returnValue === 'ok');
      });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  function generations(status) {
    return Object.keys(status.providers).map(function (id) { return (NAMES[id] || id) + ' ' + status.providers[id].generation; }).join(', ');
  }

  var ACTIONS = {
    reload: {
      confirm: function () { return 'Reload every provider’s secrets from their sources now?'; },
      run: function () {
        var before = lastStatus;
        return call('POST', '/admin/keys/reload').then(function (s) {
          renderStatus(s);
          return 'Reloaded. Generations ' + (before ? generations(before) + ' → ' : '') + generations(s) + (s.reload.propagated ? '; other instances follow.' : '.');
        });
      }
    },
    validate: {
      confirm: function (p) { return 'Validate the next ' + NAMES[p] + ' credential with one call to ' + NAMES[p] + ' now?'; },
      run: function (p) {
        return call('POST', '/admin/keys/validate', { provider: p }).then(function (s) {
          renderStatus(s);
          var next = s.providers[p].next;
          return 'The next ' + NAMES[p] + ' credential ' + (next ? next.fingerprint + ' is ' + next.validity + (next.reason ? ' (' + next.reason + ')' : '') : 'is not staged') + '.';
        });
      }
    },
    promote: {
      confirm: function (p) { return 'Promote the next ' + NAMES[p] + ' credential, so it is used from now on?'; },
      run: function (p) {
        return call('POST', '/admin/keys/promote', { provider: p }).then(function (s) {
          renderStatus(s);
          return 'Promoted the next ' + NAMES[p] + ' ' + s.promoted.credential + ' ' + s.promoted.fingerprint + (s.promoted.replaced ? '; it replaced ' + s.promoted.replaced : '') + '.';
        });
      }
    },
    'fyers-refresh': {
      confirm: function () { return 'Refresh the Fyers access token now, with the refresh token and PIN?'; },
      run: function () {
        return call('POST', '/admin/fyers/refresh').then(function (r) {
          return 'The Fyers access token was refreshed' + (r.by === 'another' ? ' by another instance' : '') + (r.token ? ': ' + r.token : '') + '.';
        });
      }
    },
    'fyers-sign-in': {
      confirm: function () { return 'Open the Fyers sign-in page in a new window? Sign in there; keyline keeps the new tokens.'; },
      run: function () {
        return call('POST', '/admin/fyers/login').then(function (r) {
          window.open(r.url, '_blank', 'noopener,noreferrer');
          // A blocked pop-up leaves the link below to follow (it holds no secret: the client id
          // is public, the state is signed and single use).
          return {
            text: 'The Fyers sign-in page opened in a new window; if it did not, use this link (it works until ' + when(r.expiresAt) + '): ',
            link: r.url
          };
        });
      }
    }
  };

  function act(button) {
    var action = ACTIONS[button.getAttribute('data-action')];
    var provider = button.getAttribute('data-provider');
    var id = button.id;
    return ask(action.confirm(provider)).then(function (ok) {
      if (!ok) { showResult('Cancelled.'); $(id) && $(id).focus(); return; }
      showResult('Working…');
      showError('');
      busy = true;
      return action.run(provider).then(showResult, function (err) { showResult(''); failed(err); })
        .then(function () { busy = false; return refresh(); })
        .then(function () {
          var lost = !document.activeElement || document.activeElement === document.body;
          if (lost && $(id)) $(id).focus();
        });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-button').disabled = false;
    $('signin-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var input = $('token');
      var value = input.value.trim();
      input.value = '';
      if (!value) { showError('Enter the admin token.'); return; }
      token = value;
      showError('');
      showResult('Signing in…');
      call('GET', '/admin/keys/status').then(function (status) {
        signedIn(true);
        renderStatus(status);
        showResult('Signed in.');
        timer = setInterval(refresh, refreshMs);
        return refresh().then(function () { $('status-title').setAttribute('tabindex', '-1'); $('status-title').focus(); });
      }, function (err) { token = null; showResult(''); failed(err); input.focus(); });
    });
    $('signout').addEventListener('click', function () { signedIn(false); showResult('Signed out.'); $('token').focus(); });
    $('reload').addEventListener('click', function () { act($('reload')); });
    $('reload').setAttribute('data-action', 'reload');
    $('providers').addEventListener('click', function (event) {
      var button = event.target.closest && event.target.closest('button[data-action]');
      if (button && !button.disabled) act(button);
    });
    $('events-more').addEventListener('click', function () {
      if (!olderCursor) return;
      call('GET', '/admin/events?limit=20&before=' + encodeURIComponent(olderCursor)).then(function (page) { renderEvents(page, 'older'); }, failed);
    });
  });
})();
`
