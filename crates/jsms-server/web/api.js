// The API client: same-origin cookies, the session's CSRF token on every change, problem
// documents turned into plain messages, and an expired session sent back to sign-in.

let csrf = null;
let onExpired = () => {};

export function setCsrf(token) { csrf = token; }
export function whenExpired(f) { onExpired = f; }

export class ApiError extends Error {
  constructor(status, problem) {
    super(plain(status, problem));
    this.status = status;
    this.problem = problem || {};
  }
}

function plain(status, p) {
  if (status === 0) return 'The server cannot be reached. Check the connection and try again.';
  if (!p) return `The server answered ${status}.`;
  let text = p.detail || p.title || `The server answered ${status}.`;
  if (p.field) text = `${fieldName(p.field)}: ${text}`;
  if (status === 403) text = 'You are not allowed to do this. ' + (p.detail || '');
  if (status === 404) text = p.detail && p.detail !== 'Not Found' ? p.detail : 'Not found, or not visible to you.';
  return text.trim();
}

// "/legs/0/from" → "legs 1 from".
function fieldName(pointer) {
  return pointer.replace(/^\//, '').split('/').map((x) => (/^\d+$/.test(x) ? String(Number(x) + 1) : x.replace(/_/g, ' '))).join(' ');
}

export async function api(method, path, body, { raw = false, headers = {}, file = null } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (method !== 'GET' && csrf) init.headers['X-CSRF-Token'] = csrf;
  if (file) {
    // A file sent as it is (the server hashes exactly these bytes).
    init.headers['Content-Type'] = file.type || 'application/octet-stream';
    init.body = file;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (r.status === 401 && !path.startsWith('/api/v1/auth/sign-in')) {
    onExpired();
    throw new ApiError(401, { detail: 'Your session has ended. Please sign in again.' });
  }
  if (!r.ok) {
    let p = null;
    try { p = await r.json(); } catch { /* not a problem document */ }
    throw new ApiError(r.status, p);
  }
  if (raw) return r;
  if (r.status === 204) return null;
  const type = r.headers.get('content-type') || '';
  return type.includes('json') ? r.json() : r.text();
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);
export const upload = (p, file, o = {}) => api('POST', p, undefined, { ...o, file });

// Server-sent events with automatic resume (the browser sends Last-Event-ID).
export function stream(path, event, onEvent, onState = () => {}) {
  let es = null;
  let closed = false;
  const open = () => {
    if (closed) return;
    es = new EventSource(path, { withCredentials: true });
    es.addEventListener(event, (e) => {
      try { onEvent(JSON.parse(e.data), e.lastEventId); } catch { /* ignore a malformed event */ }
    });
    es.onopen = () => onState('live');
    es.onerror = () => {
      onState('reconnecting');
    };
  };
  open();
  return () => { closed = true; if (es) es.close(); };
}
