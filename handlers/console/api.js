// The REST API, on this console's own origin (monitoring local serves both;
// monitoring console forwards these paths to the deployed API, signed).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, { query, body, ifMatch } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  const resp = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + resp.status, message: resp.statusText };
    throw new ApiError(resp.status, err.code, err.message);
  }
  return data;
}

export const api = {
  events: (query) => call('GET', '/events', { query }),
  event: (id) => call('GET', `/events/${encodeURIComponent(id)}`),
  updateEvent: (id, version, body) =>
    call('PUT', `/events/${encodeURIComponent(id)}`, { body, ifMatch: version }),
  activity: (id, days) => call('GET', `/events/${encodeURIComponent(id)}/activity`, { query: { days } }),
  agents: (query) => call('GET', '/agents', { query }),
  agent: (id) => call('GET', `/agents/${encodeURIComponent(id)}`),
  updateAgent: (id, body) => call('PUT', `/agents/${encodeURIComponent(id)}`, { body }),
  overview: (date) => call('GET', '/overview', { query: { date } }),
};
