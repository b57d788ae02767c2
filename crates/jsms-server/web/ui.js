// Small DOM helpers: elements are built with text nodes (never HTML from data), times are
// shown in local time with UTC on hover, and every view has loading, empty and error states.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    // Through the CSS object model: a style attribute would break the strict CSP.
    else if (k === 'style') {
      for (const decl of String(v).split(';')) {
        const [prop, ...val] = decl.split(':');
        if (prop && val.length) el.style.setProperty(prop.trim(), val.join(':').trim());
      }
    }
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function mount(...children) {
  const main = clear(document.getElementById('main'));
  main.append(...children.flat());
  return main;
}

const pad = (n) => String(n).padStart(2, '0');

// A time element: local time shown, UTC in the tooltip.
export function when(value) {
  if (value === undefined || value === null || value === '') return h('span', { class: 'muted' }, '—');
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) return h('span', {}, String(value));
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const utc = d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return h('time', { datetime: d.toISOString(), title: utc }, local);
}

// For <input type="datetime-local">: a local value from a date, and back to RFC 3339.
export function localInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(v) { return v ? new Date(v).toISOString() : null; }

export function loading(text = 'Loading…') { return h('p', { class: 'loading', role: 'status' }, text); }
export function empty(text) { return h('p', { class: 'empty' }, text); }
export function failure(err) { return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err)); }

export function toast(text, kind = 'info') {
  const t = document.getElementById('toast');
  const item = h('div', { class: `toast ${kind}` }, text);
  t.append(item);
  setTimeout(() => item.remove(), 6000);
}

// Runs an action from a button: disables it meanwhile, shows the outcome.
export async function act(button, f, done) {
  button.disabled = true;
  try {
    const out = await f();
    if (done) toast(done, 'ok');
    return out;
  } catch (e) {
    toast(e.message, 'error');
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function words(s) { return String(s || '').replace(/_/g, ' '); }

export function badge(text, kind = '') { return h('span', { class: `badge ${kind}` }, words(text)); }

export function table(columns, rows, { onRow, label } = {}) {
  if (!rows.length) return empty('Nothing to show.');
  return h('table', { class: 'list', 'aria-label': label || null },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))),
    h('tbody', {}, rows.map((r) => {
      const tr = h('tr', {}, columns.map((c) => h('td', {}, c.cell(r))));
      if (onRow) {
        // A failure is shown; an ended session has already sent the user to sign in.
        const open = () => Promise.resolve().then(() => onRow(r)).catch((e) => { if (e.status !== 401) toast(e.message, 'error'); });
        tr.tabIndex = 0;
        tr.classList.add('link');
        tr.addEventListener('click', open);
        tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
      }
      return tr;
    })));
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}
