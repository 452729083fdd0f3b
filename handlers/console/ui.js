// Small DOM helpers. Data from the API only ever becomes text (textContent,
// attribute values); nothing from it is parsed as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
export const STATUSES = ['open', 'acknowledged', 'resolved', 'ignored'];

export function badge(kind, value) {
  return el('span', { class: `badge ${kind}-${value}` }, value);
}

export function when(ts) {
  if (!ts) return el('span', { class: 'muted' }, 'never');
  const d = new Date(ts);
  return el('time', { datetime: ts, title: `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` }, `${d.toISOString().slice(0, 16).replace('T', ' ')} (${ago(d)})`);
}

export function ago(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

export function announce(text) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

/// A bar chart of per-day counts, as SVG, with a text summary for screen readers.
export function dayChart(days, { width = 112, height = 22, label = 'Activity' } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const total = days.reduce((a, d) => a + d.count, 0);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('aria-label', `${label}: ${total} occurrences in ${days.length} days, ${days[0]?.date} to ${days[days.length - 1]?.date}`);
  const max = Math.max(1, ...days.map((d) => d.count));
  const w = width / days.length;
  days.forEach((d, i) => {
    const h = d.count === 0 ? 1 : Math.max(2, Math.round((d.count / max) * (height - 1)));
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', (i * w + 0.5).toFixed(2));
    r.setAttribute('y', height - h);
    r.setAttribute('width', Math.max(1, w - 1).toFixed(2));
    r.setAttribute('height', h);
    r.setAttribute('class', d.count === 0 ? 'bar zero' : 'bar');
    const t = document.createElementNS(ns, 'title');
    t.textContent = `${d.date}: ${d.count}`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

export function errorBox(err) {
  return el('p', { class: 'error', role: 'alert' }, err.message || String(err));
}
