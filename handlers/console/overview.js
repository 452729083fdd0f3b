// Overview of a UTC day: what the daily report says, as a page.
import { api } from './api.js';
import { el, badge, when, errorBox, SEVERITIES, todayUtc } from './ui.js';
import { navigate } from './app.js';

function eventTable(caption, events, dayCounts) {
  if (!events.length) return el('p', { class: 'muted' }, 'None.');
  return el('table', {},
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ['That day', 'Severity', 'Status', 'Event', 'Account'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, events.map((e) => el('tr', {},
      el('td', { class: 'num' }, String(dayCounts[e.id] ?? '')),
      el('td', {}, badge('sev', e.severity)),
      el('td', {}, badge('status', e.status)),
      el('td', {}, el('a', { href: `/console/events/${encodeURIComponent(e.id)}` }, e.title)),
      el('td', {}, `${e.account} ${e.region}`)))));
}

export function renderOverview(root) {
  const date = new URLSearchParams(location.search).get('date') || todayUtc();
  document.title = `Overview ${date} · aws-monitoring`;
  const picker = el('input', { type: 'date', id: 'date', name: 'date', value: date, max: todayUtc() });
  const form = el('form', { class: 'inline', 'aria-label': 'Day' },
    el('label', { for: 'date' }, 'Day (UTC)'), picker, el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/console/overview?date=${encodeURIComponent(picker.value)}`);
  });
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(el('h1', {}, `Overview of ${date}`), form, body);
  api.overview(date).then((o) => {
    const max = Math.max(1, ...Object.values(o.by_severity));
    body.replaceChildren(
      el('div', { class: 'cards' },
        el('div', { class: 'card' }, el('span', { class: 'big' }, o.occurrences.toLocaleString('en')), ' occurrences'),
        el('div', { class: 'card' }, el('span', { class: 'big' }, o.events.toLocaleString('en')), ' events'),
        el('div', { class: 'card' }, el('span', { class: 'big' }, String(o.new_count)), ' new'),
        el('div', { class: 'card' }, el('span', { class: 'big' }, String(o.regressed_count)), ' regressed')),
      el('section', { 'aria-labelledby': 'sev-h' }, el('h2', { id: 'sev-h' }, 'By severity'),
        el('table', { class: 'bars' }, el('tbody', {}, SEVERITIES.map((s) => el('tr', {},
          el('th', { scope: 'row' }, badge('sev', s)),
          el('td', { class: 'num' }, String(o.by_severity[s] || 0)),
          el('td', { class: 'barcell' }, el('span', { class: `hbar sev-${s}`, style: `width:${((o.by_severity[s] || 0) / max) * 100}%` }))))))),
      el('section', { 'aria-labelledby': 'acc-h' }, el('h2', { id: 'acc-h' }, 'By account'),
        Object.keys(o.by_account).length
          ? el('table', {}, el('tbody', {}, Object.entries(o.by_account).map(([a, n]) => el('tr', {}, el('th', { scope: 'row' }, a), el('td', { class: 'num' }, String(n))))))
          : el('p', { class: 'muted' }, 'None.')),
      el('section', { 'aria-labelledby': 'top-h' }, el('h2', { id: 'top-h' }, 'Most frequent'), eventTable('Most frequent events', o.top, o.day_counts)),
      el('section', { 'aria-labelledby': 'new-h' }, el('h2', { id: 'new-h' }, 'New'), eventTable('New events', o.new, o.day_counts)),
      el('section', { 'aria-labelledby': 'reg-h' }, el('h2', { id: 'reg-h' }, 'Regressed'), eventTable('Regressed events', o.regressed, o.day_counts)),
      el('section', { 'aria-labelledby': 'stale-h' }, el('h2', { id: 'stale-h' }, 'Stale or silent agents'),
        o.stale_agents.length
          ? el('ul', {}, o.stale_agents.map((a) => el('li', {}, el('a', { href: `/console/agents/${encodeURIComponent(a.id)}` }, a.name), ` (${a.id}), `, badge('agent', a.status), ', last heartbeat ', when(a.last_seen_at))))
          : el('p', { class: 'muted' }, 'None.')));
  }, (err) => body.replaceChildren(errorBox(err)));
}
