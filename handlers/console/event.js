// One event: its facts, the sample as text, the activity chart (14-90 days),
// note and assignee, and the triage buttons, each sending If-Match with the
// version shown; a 412 says someone else changed it and shows the current state.
import { api } from './api.js';
import { el, badge, when, dayChart, errorBox, announce } from './ui.js';

const ACTIONS = [
  ['Acknowledge', 'acknowledged'],
  ['Resolve', 'resolved'],
  ['Ignore', 'ignored'],
  ['Reopen', 'open'],
];

export function renderEvent(root, id) {
  let event = null;
  let days = 14;
  const notice = el('div', { id: 'notice', role: 'alert', class: 'notice', hidden: true });
  const body = el('div');
  root.replaceChildren(
    el('p', {}, el('a', { href: '/console/' }, '← All events')),
    notice, body);
  document.title = 'Event · aws-monitoring';

  const show = (kind, text) => {
    notice.hidden = false;
    notice.className = `notice ${kind}`;
    notice.textContent = text;
  };

  const chartBox = el('div', { class: 'chart-box' });
  const loadChart = async () => {
    try {
      const a = await api.activity(id, days);
      chartBox.replaceChildren(dayChart(a.days, { width: 720, height: 120, label: `Activity over ${days} days` }),
        el('p', { class: 'muted' }, `${a.days[0].date} – ${a.days[a.days.length - 1].date}: ${a.days.reduce((s, d) => s + d.count, 0)} occurrences`));
    } catch (err) {
      chartBox.replaceChildren(errorBox(err));
    }
  };

  const send = async (change, label) => {
    try {
      event = await api.updateEvent(id, event.version, change);
      render();
      show('ok', `${label}: saved (version ${event.version}).`);
      announce(`${label} saved`);
    } catch (err) {
      if (err.status === 412) {
        try {
          event = await api.event(id);
          render();
        } catch { /* shown below */ }
        show('conflict', `Someone else changed this event while you were looking at it, so your change was not saved. It is now ${event.status} (version ${event.version}), assignee ${event.assignee || 'none'}. Check the current state below and try again.`);
      } else {
        show('error', err.message);
      }
    }
  };

  const render = () => {
    const e = event;
    document.title = `${e.title} · aws-monitoring`;
    const facts = [
      ['Status', badge('status', e.status)],
      ['Severity', badge('sev', e.severity)],
      ['Count', e.count.toLocaleString('en')],
      ['First seen', when(e.first_seen)],
      ['Last seen', when(e.last_seen)],
      ['Account', e.account],
      ['Region', e.region],
      ['Source', `${e.source} (${e.detail_type})`],
      ['Log group', e.log_group || '–'],
      ['Resources', e.resources.length ? el('ul', { class: 'plain' }, e.resources.map((r) => el('li', {}, r))) : '–'],
      ['Assignee', e.assignee || '–'],
      ['Version', String(e.version)],
    ];
    const note = el('textarea', { id: 'note', name: 'note', rows: 3, maxlength: 4096 });
    note.value = e.note || '';
    const assignee = el('input', { id: 'assignee', name: 'assignee', type: 'text', maxlength: 256, autocomplete: 'off' });
    assignee.value = e.assignee || '';
    const form = el('form', { class: 'triage-form', 'aria-label': 'Note and assignee' },
      el('label', { for: 'assignee' }, 'Assignee'), assignee,
      el('label', { for: 'note' }, 'Note'), note,
      el('button', { type: 'submit' }, 'Save note and assignee'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send({ note: note.value || null, assignee: assignee.value.trim() || null }, 'Note and assignee');
    });
    const buttons = el('div', { class: 'triage', role: 'group', 'aria-label': 'Triage' },
      ACTIONS.map(([label, status]) => el('button', {
        type: 'button',
        disabled: e.status === status,
        onclick: () => send({ status }, label),
      }, label)));
    const select = el('select', { id: 'days' }, [14, 30, 60, 90].map((d) => el('option', { value: d, selected: d === days }, `${d} days`)));
    select.addEventListener('change', () => { days = Number(select.value); loadChart(); });
    const sample = el('pre', { class: 'sample', tabindex: 0, 'aria-label': 'Sample occurrence' });
    sample.textContent = e.sample;
    body.replaceChildren(
      el('h1', {}, e.title || '(untitled)'),
      el('p', { class: 'muted mono' }, e.id),
      buttons,
      el('div', { class: 'columns' },
        el('section', { 'aria-labelledby': 'facts-h' },
          el('h2', { id: 'facts-h' }, 'Facts'),
          el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]))),
        el('section', { 'aria-labelledby': 'triage-h' },
          el('h2', { id: 'triage-h' }, 'Triage'), form)),
      el('section', { 'aria-labelledby': 'act-h' },
        el('h2', { id: 'act-h' }, 'Activity per day'),
        el('label', { for: 'days' }, 'Show '), select, chartBox),
      el('section', { 'aria-labelledby': 'sample-h' },
        el('h2', { id: 'sample-h' }, 'Sample'), sample));
    loadChart();
  };

  api.event(id).then((e) => { event = e; render(); }, (err) => body.replaceChildren(errorBox(err)));
}
