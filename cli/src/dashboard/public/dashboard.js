// Dramble dashboard: renders the snapshots the CLI pushes over server-sent events.
// DOM built with textContent only (no innerHTML), so nothing from the services is ever run as markup.
(function () {
  'use strict';

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function replace(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (c) { node.appendChild(c); });
  }

  function fmt(n, digits) { return (Math.round(n * Math.pow(10, digits)) / Math.pow(10, digits)).toFixed(digits); }

  function renderApps(apps) {
    var tiles = apps.map(function (a) {
      var lit = a.alive ? Math.min(8, Math.ceil(a.rps / 5)) : 0;
      var leds = [];
      for (var i = 0; i < 8; i++) leds.push(el('span', { class: 'led' + (i < lit ? ' on' : '') }));
      var state = !a.alive ? 'down' : a.healthy === false ? 'unhealthy' : a.rps > 0 ? 'serving' : 'idle';
      var health = !a.alive ? 'process down' : a.healthy === null ? 'health unknown' : a.healthy ? 'healthy' : 'unhealthy';
      return el('div', { class: 'tile ' + state, 'data-app': a.name, 'data-state': state }, [
        el('div', { class: 'name', text: a.name }),
        el('div', { class: 'leds' }, leds),
        el('div', { class: 'meta', text: fmt(a.rps, 1) + ' req/s · ' + a.requests + ' total' }),
        el('div', { class: 'meta', text: health }),
      ]);
    });
    replace(document.getElementById('apps'), tiles);
  }

  function renderMySQL(nodes, problem) {
    var cards = nodes.map(function (n) {
      var cls = 'node ' + (!n.alive || n.healthy === false ? 'dead' : n.role);
      var lag = n.lagSeconds === null ? '' : ' · lag ' + n.lagSeconds + ' s';
      return el('div', { class: cls, 'data-mysql': n.name, 'data-role': n.role }, [
        el('div', { class: 'role', text: n.alive ? n.role : 'down' }),
        el('div', { class: 'name', text: n.name + ' :' + n.port }),
        el('div', { class: 'meta', text: (n.readOnly === null ? '' : n.readOnly ? 'read-only' : 'writable') + lag }),
        el('div', { class: 'meta', text: n.gtid ? 'gtid ' + n.gtid : '' }),
      ]);
    });
    replace(document.getElementById('mysql'), cards);
    var p = document.getElementById('problem');
    var text = problem && typeof problem === 'object' ? (problem.code || problem.description || JSON.stringify(problem)) : problem;
    p.hidden = !text;
    p.textContent = text ? 'problem: ' + text : '';
  }

  function renderBackends(backends, apps) {
    var rows = (backends.length ? backends : apps).map(function (b) {
      var name = b.name || b.id || b.url || '?';
      var word = typeof b.health === 'string' ? b.health : b.state;
      var healthy = typeof b.healthy === 'boolean' ? b.healthy : typeof word === 'string' ? /^(up|healthy|ok)$/i.test(word) : null;
      var app = apps.filter(function (a) { return a.name === name || (b.url && a.url && b.url.indexOf(a.url) === 0); })[0];
      return el('tr', { 'data-backend': name }, [
        el('td', { text: name }),
        el('td', { class: healthy ? 'ok' : healthy === false ? 'bad' : 'warn', text: word || (healthy ? 'up' : healthy === false ? 'down' : '?') }),
        el('td', { text: app ? fmt(app.rps, 1) : '' }),
        el('td', { text: app ? String(app.requests) : '' }),
      ]);
    });
    replace(document.querySelector('#backends tbody'), rows);
  }

  function renderTimeline(events) {
    var items = events.slice().reverse().map(function (e) {
      var t = new Date(e.at);
      return el('li', { 'data-kind': e.kind }, [
        el('time', { text: isNaN(t.getTime()) ? e.at : t.toLocaleTimeString() }),
        el('span', { class: 'kind', text: e.kind }),
        el('span', { text: e.text }),
      ]);
    });
    if (!items.length) items.push(el('li', { text: 'nothing yet: try `dramble switchover` or `dramble kill primary`' }));
    replace(document.getElementById('timeline'), items);
  }

  function renderProcesses(procs) {
    replace(document.querySelector('#processes tbody'), procs.map(function (p) {
      return el('tr', { 'data-process': p.name }, [
        el('td', { text: p.name }), el('td', { text: p.role }), el('td', { text: String(p.pid) }), el('td', { text: String(p.port) }),
        el('td', { class: p.alive ? 'ok' : 'bad', text: p.alive ? 'running' : 'stopped' }),
      ]);
    }));
  }

  function render(s) {
    document.getElementById('rps').textContent = fmt(s.totalRps, 1) + ' req/s';
    renderApps(s.apps);
    renderMySQL(s.mysql, s.problem);
    renderBackends(s.backends, s.apps);
    renderTimeline(s.timeline);
    renderProcesses(s.processes);
    document.body.setAttribute('data-updated', s.at);
  }

  var conn = document.getElementById('conn');
  var source = new EventSource('/events');
  source.onopen = function () { conn.textContent = 'live'; conn.className = 'conn live'; };
  source.onerror = function () { conn.textContent = 'reconnecting…'; conn.className = 'conn'; };
  source.onmessage = function (m) {
    try { render(JSON.parse(m.data)); } catch (err) { conn.textContent = 'bad update: ' + err; }
  };
})();
