// Alerts: the list with acknowledge and resolve (with notes); shared with the operations
// picture's live panel.
import { get, post } from '../api.js';
import { h, mount, when, badge, loading, failure, empty, act, words, clear } from '../ui.js';
import { hasRole } from '../main.js';

const canHandle = () => hasRole('movement_coordinator', 'escort_commander');

// One alert as a card with its actions; `changed` gets the updated alert.
export function alertCard(a, changed) {
  const actions = h('div', { class: 'actions' });
  const note = h('input', { 'aria-label': 'Note', placeholder: 'Note (required to resolve)', maxlength: 1000 });
  if (canHandle() && a.state !== 'resolved') {
    if (a.state === 'open') {
      const ack = h('button', { type: 'button' }, 'Acknowledge');
      ack.addEventListener('click', () => act(ack, async () => changed(await post(`/api/v1/alerts/${a.id}/acknowledge`, { note: note.value || null })), 'Acknowledged'));
      actions.append(ack);
    }
    const res = h('button', { type: 'button' }, 'Resolve');
    res.addEventListener('click', () => act(res, async () => changed(await post(`/api/v1/alerts/${a.id}/resolve`, { note: note.value || null })), 'Resolved'));
    actions.append(note, res);
  }
  const log = (a.log || []).map((l) => h('li', {}, when(l.at), ` ${words(l.action)}${l.user ? ` by ${l.user}` : ''}${l.note ? `: ${l.note}` : ''}`));
  return h('article', { class: `alert-card ${a.severity} ${a.state}`, dataset: { alert: a.id, kind: a.kind } },
    h('header', {}, badge(a.severity, a.severity), ' ', h('strong', {}, words(a.kind)), ' ', badge(a.state, a.state)),
    h('p', {}, a.message),
    h('p', { class: 'muted' }, when(a.at), ' · ', h('a', { href: `#/movements/${a.movement}` }, 'movement')),
    log.length ? h('ul', { class: 'log' }, log) : null,
    actions);
}

export async function alertsPage() {
  const filter = h('select', { 'aria-label': 'Show' },
    h('option', { value: 'active' }, 'Open and acknowledged'),
    h('option', { value: 'all' }, 'All'),
    h('option', { value: 'open' }, 'Open only'));
  const list = h('div', { class: 'alerts' }, loading());
  mount(h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'), filter), list);
  let alerts = [];
  const render = () => {
    clear(list);
    const shown = alerts.filter((a) => filter.value === 'all' || (filter.value === 'open' ? a.state === 'open' : a.state !== 'resolved')).reverse();
    if (!shown.length) { list.append(empty('No alerts.')); return; }
    for (const a of shown) list.append(alertCard(a, (u) => { alerts = alerts.map((x) => (x.id === u.id ? u : x)); render(); }));
  };
  filter.addEventListener('change', render);
  try {
    alerts = await get('/api/v1/alerts');
    render();
  } catch (e) {
    clear(list).append(failure(e));
  }
}
