// The operations picture: the map with threat zones, planned routes and live positions,
// and the alerts panel updating live (server-sent events), with filters.
import { get, stream } from '../api.js';
import { h, mount, when, empty, failure, clear, words } from '../ui.js';
import { MapView, zoneShape } from '../map.js';
import { onLeave } from '../main.js';
import { alertCard } from './alerts.js';

const ACTIVE = ['planned', 'released', 'in_progress'];

export async function opsPage() {
  const showZones = h('input', { type: 'checkbox', checked: true });
  const showRoutes = h('input', { type: 'checkbox', checked: true });
  const onlyOpen = h('input', { type: 'checkbox', checked: true });
  const live = h('span', { class: 'live', 'aria-live': 'polite' }, 'connecting…');
  const mapBox = h('section', { class: 'ops-map', 'aria-label': 'Map' });
  const panel = h('section', { class: 'ops-alerts', 'aria-label': 'Alerts' }, h('h2', {}, 'Alerts ', live));
  const list = h('div', { class: 'alerts' });
  const movementsBox = h('div', { class: 'ops-movements' });
  panel.append(list);
  mount(
    h('div', { class: 'page-head' }, h('h1', {}, 'Operations picture'),
      h('div', { class: 'filters', role: 'group', 'aria-label': 'Filters' },
        h('label', {}, showZones, ' Zones'), h('label', {}, showRoutes, ' Routes'), h('label', {}, onlyOpen, ' Open alerts only'))),
    h('div', { class: 'ops' }, mapBox, panel),
    h('h2', {}, 'Movements under way or planned'), movementsBox);
  const map = new MapView(mapBox, { height: 520, label: 'Operations map: roads, threat zones, routes and live positions' });
  onLeave(() => map.destroy());
  let zones = [];
  let movements = [];
  const positions = new Map();
  const redraw = () => {
    map.zones = showZones.checked ? zones : [];
    map.routes = showRoutes.checked
      ? movements.filter((m) => m.plan && ACTIVE.includes(m.state)).map((m) => ({
        points: m.plan.legs.flatMap((l) => l.coordinates || []), colour: m.state === 'in_progress' ? '#1565c0' : '#7e57c2', width: 3,
      }))
      : [];
    map.markers = [...positions.entries()].map(([id, p]) => ({
      lon: p.coordinates[0], lat: p.coordinates[1], colour: '#1b5e20', label: (movements.find((m) => m.id === id)?.plan?.call_sign) || 'convoy',
    }));
    map.draw();
  };
  [showZones, showRoutes].forEach((c) => c.addEventListener('change', redraw));
  try {
    const [z, m] = await Promise.all([get('/api/v1/zones'), get('/api/v1/movements')]);
    zones = z.features.map(zoneShape);
    movements = m.items;
  } catch (e) {
    movementsBox.append(failure(e));
  }
  const listMovements = () => {
    const current = movements.filter((m) => ACTIVE.includes(m.state));
    clear(movementsBox).append(current.length
      ? h('ul', { class: 'plain' }, current.map((m) => h('li', {}, h('a', { href: `#/movements/${m.id}` },
        `${m.request ? m.request.purpose : 'Movement'} — ${words(m.state)}`), m.plan ? [' · departs ', when(m.plan.departure)] : null)))
      : empty('No movement is planned or under way.'));
  };
  listMovements();
  redraw();
  // Movements change state (released, started, completed): refreshed every 15 s.
  const refresh = setInterval(async () => {
    try {
      movements = (await get('/api/v1/movements')).items;
      listMovements();
      redraw();
    } catch { /* the next refresh tries again; an ended session goes to sign-in */ }
  }, 15000);
  onLeave(() => clearInterval(refresh));

  const alerts = new Map();
  const renderAlerts = () => {
    clear(list);
    const shown = [...alerts.values()].filter((a) => !onlyOpen.checked || a.state === 'open').sort((a, b) => b.seq - a.seq);
    if (!shown.length) list.append(empty('No open alerts.'));
    for (const a of shown) list.append(alertCard(a, (u) => { alerts.set(u.id, u); renderAlerts(); }));
  };
  onlyOpen.addEventListener('change', renderAlerts);
  renderAlerts();
  const stopAlerts = stream('/api/v1/alerts/stream', 'alert', (a) => { alerts.set(a.id, a); renderAlerts(); },
    (s) => { live.textContent = s === 'live' ? '● live' : 'reconnecting…'; });
  const stopPositions = stream('/api/v1/tracking/stream', 'position', (p) => { positions.set(p.movement, p); redraw(); });
  onLeave(stopAlerts);
  onLeave(stopPositions);
}
