// Events list: filters in the URL, newest activity first, cursor paging,
// a 14-day activity bar per row, and a refresh every 15 s that keeps the
// person's page, scroll position and focus.
import { api } from './api.js';
import { el, badge, when, dayChart, SEVERITIES, STATUSES, errorBox, announce } from './ui.js';
import { navigate } from './app.js';

const REFRESH_MS = 15000;
const RANGES = { '': 'Any time', '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days' };
const RANGE_MS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
const FILTERS = ['severity', 'status', 'account', 'region', 'source', 'range'];

function params() {
  const p = new URLSearchParams(location.search);
  const out = {};
  for (const k of [...FILTERS, 'cursor']) out[k] = p.get(k) || '';
  return out;
}

function query(p) {
  const q = { limit: 50, severity: p.severity, status: p.status, account: p.account, region: p.region, source: p.source, cursor: p.cursor };
  if (RANGE_MS[p.range]) q.from = new Date(Date.now() - RANGE_MS[p.range]).toISOString();
  return q;
}

function filterForm(p) {
  const multi = (name, values, chosen) => {
    const set = new Set(chosen.split(',').filter(Boolean));
    return el('fieldset', { class: 'checks' },
      el('legend', {}, name === 'severity' ? 'Severity' : 'Status'),
      values.map((v) => el('label', {},
        el('input', { type: 'checkbox', name, value: v, checked: set.has(v) }), ' ', v)));
  };
  const text = (name, label, value, extra = {}) => el('label', { class: 'field' }, label,
    el('input', { type: 'text', name, value, autocomplete: 'off', ...extra }));
  const range = el('select', { name: 'range', id: 'f-range' },
    Object.entries(RANGES).map(([v, t]) => el('option', { value: v, selected: v === p.range }, t)));
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    multi('severity', SEVERITIES, p.severity),
    multi('status', STATUSES, p.status),
    el('div', { class: 'fields' },
      text('account', 'Account', p.account, { inputmode: 'numeric', pattern: '[0-9]{12}', placeholder: '123456789012' }),
      text('region', 'Region', p.region, { placeholder: 'eu-west-1' }),
      text('source', 'Source', p.source, { placeholder: 'aws.guardduty' }),
      el('label', { class: 'field', for: 'f-range' }, 'Time range', range)),
    el('div', { class: 'actions' },
      el('button', { type: 'submit' }, 'Apply filters'),
      el('a', { href: '/console/', class: 'button secondary' }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const u = new URLSearchParams();
    for (const k of ['severity', 'status']) {
      const vs = data.getAll(k);
      if (vs.length) u.set(k, vs.join(','));
    }
    for (const k of ['account', 'region', 'source', 'range']) {
      const v = String(data.get(k) || '').trim();
      if (v) u.set(k, v);
    }
    const qs = u.toString();
    navigate('/console/' + (qs ? '?' + qs : ''));
  });
  return form;
}

function row(e) {
  const spark = el('td', { class: 'spark', 'data-activity': e.id }, el('span', { class: 'muted' }, '…'));
  return el('tr', { 'data-id': e.id },
    el('td', {}, badge('sev', e.severity)),
    el('td', {}, badge('status', e.status)),
    el('td', { class: 'title' },
      el('a', { href: `/console/events/${encodeURIComponent(e.id)}`, id: `ev-${e.id}` }, e.title || '(untitled)'),
      el('div', { class: 'sub' }, `${e.source} · ${e.log_group || e.detail_type}`)),
    el('td', {}, e.account, el('div', { class: 'sub' }, e.region)),
    el('td', { class: 'num' }, e.count.toLocaleString('en')),
    spark,
    el('td', {}, when(e.last_seen)));
}

async function fillSparks(tbody, cache) {
  const cells = [...tbody.querySelectorAll('[data-activity]')];
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const cell = cells[next++];
      const id = cell.dataset.activity;
      try {
        const a = cache.get(id) || (await api.activity(id, 14));
        cache.set(id, a);
        cell.replaceChildren(dayChart(a.days, { label: '14-day activity' }));
      } catch {
        cell.replaceChildren(el('span', { class: 'muted' }, '–'));
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

export function renderEvents(root) {
  const p = params();
  document.title = 'Events · aws-monitoring';
  const status = el('p', { class: 'muted', id: 'list-status' }, 'Loading events…');
  const table = el('table', { class: 'events' },
    el('caption', { class: 'visually-hidden' }, 'Events, newest activity first'),
    el('thead', {}, el('tr', {},
      ['Severity', 'Status', 'Event', 'Account', 'Count', 'Last 14 days', 'Last seen'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody'));
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' });
  root.replaceChildren(el('h1', {}, 'Events'), filterForm(p), status, table, pager);
  const tbody = table.tBodies[0];
  let timer;
  let stopped = false;
  let cache = new Map();

  const load = async (refresh) => {
    try {
      const page = await api.events(query(p));
      if (stopped) return;
      const focusedId = refresh && document.activeElement && document.activeElement.id;
      const scroll = window.scrollY;
      if (refresh) cache = new Map();
      tbody.replaceChildren(...page.items.map(row));
      // ops/bench reads this: navigation start -> first rows in the DOM.
      if (!refresh && performance.getEntriesByName('console:first-rows').length === 0) {
        requestAnimationFrame(() => performance.mark('console:first-rows'));
      }
      if (page.items.length === 0) {
        tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No events match these filters.')));
      }
      if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
      if (refresh) window.scrollTo(0, scroll);
      status.textContent = `${page.items.length} event${page.items.length === 1 ? '' : 's'} on this page · updated ${new Date().toISOString().slice(11, 19)} UTC`;
      const links = [];
      if (p.cursor) {
        const u = new URLSearchParams(location.search);
        u.delete('cursor');
        links.push(el('a', { href: '/console/' + (u.toString() ? '?' + u : ''), class: 'button secondary' }, 'First page'));
      }
      if (page.next_cursor) {
        const u = new URLSearchParams(location.search);
        u.set('cursor', page.next_cursor);
        links.push(el('a', { href: '/console/?' + u, class: 'button secondary', rel: 'next' }, 'Next page'));
      }
      pager.replaceChildren(...links);
      fillSparks(tbody, cache);
      if (refresh) announce('Events refreshed');
    } catch (err) {
      if (!stopped) status.replaceChildren(errorBox(err));
    }
    if (!stopped) timer = setTimeout(() => load(true), REFRESH_MS);
  };
  load(false);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
