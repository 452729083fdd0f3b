// Agents: status, heartbeat, last run, desired vs applied config; one agent's
// config editor, whose errors are the API's 400 messages beside the field.
import { api } from './api.js';
import { el, badge, when, errorBox, SEVERITIES, announce } from './ui.js';

function lastRun(r) {
  if (!r) return el('span', { class: 'muted' }, 'no run yet');
  return el('span', {}, `${r.records_matched} matched, ${r.occurrences_published} published`,
    el('div', { class: 'sub' }, `${r.window_start.slice(0, 19)} – ${r.window_end.slice(11, 19)} UTC, ${r.log_groups} groups`));
}

function configVersions(a) {
  const pending = a.config_version !== a.applied_config_version;
  return el('span', {}, `${a.applied_config_version} / ${a.config_version}`,
    pending ? el('span', { class: 'badge pending' }, 'pending') : null);
}

export function renderAgents(root) {
  document.title = 'Agents · aws-monitoring';
  const tbody = el('tbody');
  const status = el('p', { class: 'muted' }, 'Loading agents…');
  root.replaceChildren(el('h1', {}, 'Agents'), status,
    el('table', {},
      el('caption', { class: 'visually-hidden' }, 'Agents'),
      el('thead', {}, el('tr', {}, ['Agent', 'Status', 'Last heartbeat', 'Last run', 'Config applied / desired', 'Version'].map((h) => el('th', { scope: 'col' }, h)))),
      tbody));
  const items = [];
  const load = async (cursor) => {
    const page = await api.agents({ limit: 200, cursor });
    items.push(...page.items);
    if (page.next_cursor) return load(page.next_cursor);
    return items;
  };
  load().then((agents) => {
    status.textContent = `${agents.length} agent${agents.length === 1 ? '' : 's'}`;
    tbody.replaceChildren(...agents.map((a) => el('tr', {},
      el('td', {}, el('a', { href: `/console/agents/${encodeURIComponent(a.id)}` }, a.name), el('div', { class: 'sub' }, a.id)),
      el('td', {}, badge('agent', a.status)),
      el('td', {}, when(a.last_seen_at)),
      el('td', {}, lastRun(a.last_run)),
      el('td', {}, configVersions(a)),
      el('td', {}, a.version))));
  }, (err) => status.replaceChildren(errorBox(err)));
}

const LIST_FIELDS = [
  ['log_group_prefixes', 'Log group prefixes', 'One per line; an empty line means every group.'],
  ['log_groups', 'Log groups', 'One per line.'],
  ['exclude_patterns', 'Exclude patterns', 'Rust regexes, one per line; matching records are skipped.'],
];

export function renderAgent(root, id) {
  document.title = 'Agent · aws-monitoring';
  const body = el('div');
  root.replaceChildren(el('p', {}, el('a', { href: '/console/agents' }, '← All agents')), body);
  let agent;

  const render = (message) => {
    const a = agent;
    document.title = `${a.name} · aws-monitoring`;
    const errors = {};
    const fieldError = (name) => {
      errors[name] = el('p', { class: 'field-error', id: `err-${name}`, hidden: true });
      return errors[name];
    };
    const input = (name, attrs) => el('input', { id: `cfg-${name}`, name, 'aria-describedby': `err-${name}`, ...attrs });
    const nameInput = input('name', { type: 'text', value: a.name, maxlength: 128, required: true });
    const enabled = input('enabled', { type: 'checkbox', checked: a.config.enabled });
    const schedule = input('schedule_minutes', { type: 'number', value: a.config.schedule_minutes, inputmode: 'numeric' });
    const lists = LIST_FIELDS.map(([name, label, help]) => {
      const ta = el('textarea', { id: `cfg-${name}`, name, rows: 3, 'aria-describedby': `help-${name} err-${name}` });
      ta.value = a.config[name].join('\n');
      return [name, ta, el('div', { class: 'form-row' },
        el('label', { for: `cfg-${name}` }, label), ta,
        el('p', { class: 'help', id: `help-${name}` }, help), fieldError(name))];
    });
    const rules = el('textarea', { id: 'cfg-rules', name: 'rules', rows: 4, 'aria-describedby': 'help-rules err-rules', class: 'mono' });
    rules.value = a.config.rules.map((r) => `${r.severity} ${r.pattern}`).join('\n');
    const formError = el('p', { class: 'field-error', role: 'alert', id: 'form-error', hidden: true });
    const saved = el('p', { class: 'notice ok', role: 'status', hidden: !message }, message || '');
    const form = el('form', { class: 'config', 'aria-labelledby': 'cfg-h', novalidate: true },
      el('h2', { id: 'cfg-h' }, 'Configuration'),
      el('div', { class: 'form-row' }, el('label', { for: 'cfg-name' }, 'Name'), nameInput, fieldError('name')),
      el('div', { class: 'form-row check' }, enabled, el('label', { for: 'cfg-enabled' }, 'Enabled'), fieldError('enabled')),
      el('div', { class: 'form-row' }, el('label', { for: 'cfg-schedule_minutes' }, 'Schedule (minutes, 1–1440)'), schedule, fieldError('schedule_minutes')),
      lists.map(([, , row]) => row),
      el('div', { class: 'form-row' }, el('label', { for: 'cfg-rules' }, 'Classification rules'), rules,
        el('p', { class: 'help', id: 'help-rules' }, `One per line: a severity (${SEVERITIES.join(', ')}), a space, a Rust regex.`), fieldError('rules')),
      formError,
      el('button', { type: 'submit' }, 'Save configuration'),
      saved);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      for (const e of Object.values(errors)) { e.hidden = true; e.textContent = ''; }
      for (const f of form.querySelectorAll('[aria-invalid]')) f.removeAttribute('aria-invalid');
      formError.hidden = true;
      const config = {
        enabled: enabled.checked,
        schedule_minutes: Number(schedule.value),
        rules: rules.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
          const i = l.indexOf(' ');
          return i < 0 ? { severity: l, pattern: '' } : { severity: l.slice(0, i), pattern: l.slice(i + 1) };
        }),
      };
      if (schedule.value.trim() === '' || !Number.isFinite(config.schedule_minutes)) config.schedule_minutes = schedule.value;
      for (const [name, ta] of lists) {
        const lines = ta.value.split('\n').map((l) => l.trim());
        config[name] = name === 'log_group_prefixes' ? lines.filter((l, i) => l || lines.length === 1 || i < lines.length - 1) : lines.filter(Boolean);
        if (name === 'log_group_prefixes' && ta.value === '') config[name] = [];
      }
      try {
        agent = await api.updateAgent(id, { name: nameInput.value, config });
        render(`Saved: desired config version ${agent.config_version} (applied ${agent.applied_config_version}).`);
        announce('Configuration saved');
      } catch (err) {
        const field = Object.keys(errors).find((f) => err.message.startsWith(`${f}:`) || err.message.includes(`config.${f}`) || err.message.includes(`\`${f}\``) || err.message.startsWith(`${f} `));
        if (err.status === 400 && field) {
          errors[field].textContent = err.message;
          errors[field].hidden = false;
          const target = form.querySelector(`#cfg-${field}`);
          target.setAttribute('aria-invalid', 'true');
          target.focus();
        } else {
          formError.textContent = err.message;
          formError.hidden = false;
        }
      }
    });
    body.replaceChildren(
      el('h1', {}, a.name),
      el('dl', { class: 'facts' },
        [['Id', a.id], ['Status', badge('agent', a.status)], ['Last heartbeat', when(a.last_seen_at)],
          ['Last run', lastRun(a.last_run)], ['Config applied / desired', configVersions(a)],
          ['Registered', when(a.registered_at)], ['Agent version', a.version]]
          .map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      form);
  };

  api.agent(id).then((a) => { agent = a; render(); }, (err) => body.replaceChildren(errorBox(err)));
}
