// The console: a small router over history.pushState; each page is a module.
import { renderEvents } from './events.js';
import { renderEvent } from './event.js';
import { renderAgents, renderAgent } from './agents.js';
import { renderOverview } from './overview.js';

let stopCurrent = () => {};

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  route();
}

function route() {
  stopCurrent();
  stopCurrent = () => {};
  const main = document.getElementById('main');
  const path = location.pathname.replace(/\/+$/, '') || '/console';
  let m;
  let section = 'events';
  let page;
  if (path === '/console' || path === '/console/events') {
    page = renderEvents;
  } else if ((m = path.match(/^\/console\/events\/([^/]+)$/))) {
    page = (root) => renderEvent(root, decodeURIComponent(m[1]));
  } else if (path === '/console/agents') {
    section = 'agents';
    page = renderAgents;
  } else if ((m = path.match(/^\/console\/agents\/([^/]+)$/))) {
    section = 'agents';
    page = (root) => renderAgent(root, decodeURIComponent(m[1]));
  } else if (path === '/console/overview') {
    section = 'overview';
    page = renderOverview;
  } else {
    page = (root) => {
      root.replaceChildren();
      const h = document.createElement('h1');
      h.textContent = 'Not found';
      root.append(h);
      document.title = 'Not found · aws-monitoring';
    };
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const stop = page(main);
  if (typeof stop === 'function') stopCurrent = stop;
}

// Same-origin console links navigate without a reload.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
  document.getElementById('main').focus({ preventScroll: true });
});

window.addEventListener('popstate', route);
route();
