// The PushBridge admin page. No framework, no third-party code: it polls the gateway's admin JSON
// with the admin key in a header, and writes what it gets into the page as text (never as HTML:
// room names, user ids and handshake headers come from clients).
'use strict';
(function () {
  const KEY_STORAGE = 'pushbridge.adminKey';
  const KEY_HEADER = 'X-PushBridge-Admin-Key';
  const OVERVIEW_EVERY_MS = 5000;
  const CONNECTIONS_EVERY_MS = 15000;
  const MAX_CONNECTION_ROWS = 500;

  let overviewTimer = null;
  let connectionsTimer = null;
  let connectionsPath = null;
  let inspectorOn = false;

  const $ = (id) => document.getElementById(id);

  function adminKey() {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  // ---- requests --------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options) {
    const key = adminKey();
    if (!key) {
      throw new ApiError('Not signed in', 401, 'unauthorized');
    }
    const init = Object.assign({ cache: 'no-store', credentials: 'omit', redirect: 'error' }, options || {});
    init.headers = Object.assign({ Accept: 'application/json' }, init.headers || {});
    init.headers[KEY_HEADER] = key;
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError('The gateway cannot be reached', 0, 'network');
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (response.status === 401) {
      signOut('The admin key was refused.');
      throw new ApiError('The admin key was refused', 401, 'unauthorized');
    }
    if (!response.ok) {
      const message = body && typeof body.message === 'string' ? body.message : 'HTTP ' + response.status;
      throw new ApiError(message, response.status, body && body.error);
    }
    return body;
  }

  function postJson(path, value) {
    return api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
  }

  // ---- small helpers ---------------------------------------------------------------------------

  function text(element, value) {
    element.textContent = value === null || value === undefined ? '' : String(value);
  }

  function cell(row, value, className) {
    const td = document.createElement('td');
    text(td, value);
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function replaceRows(table, rows) {
    const tbody = table.tBodies[0];
    while (tbody.firstChild) {
      tbody.removeChild(tbody.firstChild);
    }
    rows.forEach((row) => tbody.appendChild(row));
  }

  function age(ms) {
    if (!ms || ms < 0) {
      return '';
    }
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function status(message, isError) {
    const element = $('status');
    text(element, message);
    element.className = isError ? 'error' : '';
  }

  // ---- overview --------------------------------------------------------------------------------

  async function refreshOverview() {
    if (document.hidden) {
      return;
    }
    let overview;
    try {
      overview = await api('overview');
    } catch (e) {
      if (e.status !== 401) {
        status('Could not refresh: ' + e.message, true);
      }
      return;
    }
    renderOverview(overview);
    status('');
  }

  function renderOverview(o) {
    text($('node-id'), o.nodeId);
    text($('node-port'), o.port >= 0 ? o.port : 'none');
    text($('node-running'), o.running ? 'yes' : 'no');
    text($('node-connections'), o.connections);
    text($('updated'), new Date(o.time).toLocaleTimeString());
    connectionsPath = o.connectionsPath;

    replaceRows($('sites'), o.sites.map((site) => {
      const row = document.createElement('tr');
      row.dataset.site = site.name;
      cell(row, site.name);
      cell(row, site.namespace, 'code');
      cell(row, site.authorizer);
      cell(row, site.connections, 'number');
      if (site.queues) {
        cell(row, site.queues.queues, 'number');
        cell(row, site.queues.messages, 'number');
        cell(row, age(site.queues.oldestAgeMillis));
      } else {
        const td = cell(row, site.queuesError === 'unsupported' ? 'not supported by the store' : 'unavailable', 'error');
        td.colSpan = 3;
      }
      return row;
    }));

    text($('nodes-error'), o.nodesError ? 'The nodes could not be listed (' + o.nodesError + ').' : '');
    replaceRows($('nodes'), o.nodes.map((node) => {
      const row = document.createElement('tr');
      row.dataset.node = node.nodeId;
      cell(row, node.nodeId + (node.nodeId === o.nodeId ? ' (this node)' : ''));
      cell(row, node.publicUrl || '');
      return row;
    }));

    inspectorOn = o.queueInspector;
    $('inspector-off').hidden = inspectorOn;
    $('queue-read').disabled = !inspectorOn;
    $('queue-purge').disabled = !inspectorOn;
    const select = $('queue-site');
    const chosen = select.value;
    const names = o.sites.map((site) => site.name);
    const current = Array.from(select.options).map((option) => option.value);
    if (names.join('\n') !== current.join('\n')) {
      while (select.firstChild) {
        select.removeChild(select.firstChild);
      }
      names.forEach((name) => {
        const option = document.createElement('option');
        option.value = name;
        text(option, name);
        select.appendChild(option);
      });
      if (names.includes(chosen)) {
        select.value = chosen;
      }
    }
  }

  // ---- connections -----------------------------------------------------------------------------

  async function refreshConnections() {
    if (document.hidden || !connectionsPath) {
      return;
    }
    let listing;
    try {
      listing = await api(connectionsPath);
    } catch (e) {
      if (e.status !== 401) {
        text($('connections-summary'), 'Could not list the connections: ' + e.message);
      }
      return;
    }
    const connections = listing.connections || [];
    const shown = connections.slice(0, MAX_CONNECTION_ROWS);
    replaceRows($('connections'), shown.map((c) => {
      const row = document.createElement('tr');
      row.dataset.connection = c.connectionId;
      cell(row, c.site);
      cell(row, c.node);
      cell(row, c.connectionId, 'code');
      cell(row, c.userId === '__nouser__' ? '' : c.userId);
      cell(row, (c.rooms || []).join(', '));
      cell(row, c.handshake ? c.handshake.address : '');
      cell(row, c.handshake ? new Date(c.handshake.issued).toLocaleString() : '');
      return row;
    }));
    let summary = connections.length + ' connection(s)';
    if (connections.length > shown.length) {
      summary += ', the first ' + shown.length + ' shown';
    }
    if (listing.truncated) {
      summary += ' (the gateway truncated the list)';
    }
    if (listing.missingNodes && listing.missingNodes.length) {
      summary += '; no answer from ' + listing.missingNodes.join(', ');
    }
    text($('connections-summary'), summary + '.');
  }

  // ---- queue inspector -------------------------------------------------------------------------

  function queueTarget() {
    return { site: $('queue-site').value, room: $('queue-room').value.trim() };
  }

  function showQueueError(e) {
    const result = $('queue-result');
    result.className = 'error';
    text(result, e.message + (e.code ? ' (' + e.code + ')' : ''));
  }

  function showQueue(q) {
    const result = $('queue-result');
    result.className = '';
    while (result.firstChild) {
      result.removeChild(result.firstChild);
    }
    const list = document.createElement('dl');
    list.id = 'queue-details';
    [
      ['Site', q.site],
      ['Room', q.room],
      ['Pending messages', q.depth],
      ['Oldest pending', q.depth ? age(q.oldestAgeMillis) + ' ago' : ''],
      ['Open connections', q.connections],
      ['Marked for resync', q.resyncRequired ? 'yes' : 'no'],
    ].forEach(([label, value]) => {
      const dt = document.createElement('dt');
      text(dt, label);
      const dd = document.createElement('dd');
      dd.dataset.field = label;
      text(dd, value);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    result.appendChild(list);
  }

  async function readQueue(event) {
    if (event) {
      event.preventDefault();
    }
    const target = queueTarget();
    if (!target.room) {
      showQueueError(new ApiError('Enter a user room', 400, 'invalid_request'));
      return;
    }
    try {
      showQueue(await postJson('queue', target));
    } catch (e) {
      showQueueError(e);
    }
  }

  async function purgeQueue() {
    const target = queueTarget();
    if (!target.room) {
      showQueueError(new ApiError('Enter a user room', 400, 'invalid_request'));
      return;
    }
    if (!window.confirm('Purge the queue of room "' + target.room + '" on site "' + target.site
        + '"? Its pending messages are dropped; its user will not receive them.')) {
      return;
    }
    try {
      const purged = await postJson('queue/purge', target);
      showQueue(await postJson('queue', target));
      const note = document.createElement('p');
      note.id = 'queue-purged';
      text(note, 'Purged: ' + purged.purged + ' message(s) dropped.');
      $('queue-result').prepend(note);
    } catch (e) {
      showQueueError(e);
      return;
    }
    refreshOverview(); // the sites table shows the purge now, not at the next refresh
  }

  // ---- signing in and out ----------------------------------------------------------------------

  function stopPolling() {
    clearInterval(overviewTimer);
    clearInterval(connectionsTimer);
    overviewTimer = null;
    connectionsTimer = null;
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    stopPolling();
    $('dashboard').hidden = true;
    $('sign-out').hidden = true;
    $('login').hidden = false;
    text($('login-error'), message || '');
    status('');
    $('admin-key').focus();
  }

  async function signedIn() {
    $('login').hidden = true;
    $('dashboard').hidden = false;
    $('sign-out').hidden = false;
    text($('login-error'), '');
    stopPolling();
    await refreshOverview();
    if (!adminKey()) {
      return; // the key was refused
    }
    await refreshConnections();
    overviewTimer = setInterval(refreshOverview, OVERVIEW_EVERY_MS);
    connectionsTimer = setInterval(refreshConnections, CONNECTIONS_EVERY_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('admin-key');
      sessionStorage.setItem(KEY_STORAGE, input.value);
      input.value = '';
      signedIn();
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    $('queue-form').addEventListener('submit', readQueue);
    $('queue-purge').addEventListener('click', purgeQueue);
    $('connections-refresh').addEventListener('click', refreshConnections);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && overviewTimer) {
        refreshOverview();
      }
    });
    if (adminKey()) {
      signedIn();
    } else {
      signOut('');
    }
  });
})();
