// Movements: the board by state, a movement's page (the caller's view only, the actions of
// the caller's role, planning with route alternatives on the map and their risk breakdown,
// the brief, the exposure report), and the request form.
import { get, post } from '../api.js';
import { h, mount, when, badge, loading, failure, empty, act, words, clear, field, table, localInput, fromLocalInput, toast } from '../ui.js';
import { MapView, zoneShape } from '../map.js';
import { hasRole, onLeave } from '../main.js';

const STATES = ['draft', 'submitted', 'assessed', 'approved', 'planned', 'released', 'in_progress', 'completed', 'rejected', 'cancelled', 'aborted'];
const NEEDS_REASON = ['reject', 'abort', 'cancel'];
const ROUTE_COLOURS = ['#1565c0', '#8e24aa', '#00897b', '#f4511e', '#6d4c41'];

// The persons and sites a movement names, by id, read one by one: only what the page shows
// (a person's summary, never the personal data), so "who knew" names only those who looked.
async function namesFor(m) {
  const r = m.request;
  const personIds = r ? [...new Set(r.persons)] : [];
  const siteIds = r ? [...new Set(r.legs.flatMap((l) => [l.from.site, l.to.site]).filter(Boolean))] : [];
  const [persons, sites] = await Promise.all([
    Promise.all(personIds.map((id) => get(`/api/v1/persons/${id}?view=summary`).catch(() => null))),
    Promise.all(siteIds.map((id) => get(`/api/v1/sites/${id}`).catch(() => null))),
  ]);
  return {
    persons: new Map(persons.filter(Boolean).map((p) => [p.id, p])),
    sites: new Map(sites.filter(Boolean).map((s) => [s.id, s])),
  };
}

function endpointText(e, n) {
  if (e.site) return n.sites.get(e.site)?.name || 'a registered site';
  const c = e.point?.coordinates || [];
  return `point ${Number(c[1]).toFixed(5)}, ${Number(c[0]).toFixed(5)}`;
}

function endpointCoordinates(e, n) {
  if (e.site) return n.sites.get(e.site)?.location?.coordinates || null;
  return e.point?.coordinates || null;
}

function title(m) {
  return m.request ? m.request.purpose : `Movement ${m.id.slice(0, 8)}`;
}

export async function boardPage() {
  const board = h('div', { class: 'board' }, loading());
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Movements'));
  if (hasRole('company_security_officer')) head.append(h('a', { class: 'button', href: '#/movements/new' }, 'Request a movement'));
  mount(head, board);
  let list;
  try {
    list = (await get('/api/v1/movements')).items;
  } catch (e) {
    clear(board).append(failure(e));
    return;
  }
  clear(board);
  if (!list.length) { board.append(empty('No movements visible to you yet.')); return; }
  for (const s of STATES) {
    const items = list.filter((m) => m.state === s);
    if (!items.length) continue;
    board.append(h('section', { class: 'column', 'aria-label': words(s) },
      h('h2', {}, `${words(s)} (${items.length})`),
      items.map((m) => h('a', { class: 'card movement', href: `#/movements/${m.id}` },
        h('strong', {}, title(m)),
        m.risk_level ? h('div', {}, 'Risk: ', badge(m.risk_level, m.risk_level)) : null,
        m.plan ? h('div', { class: 'muted' }, 'Departs ', when(m.plan.departure)) : null,
        m.request ? h('div', { class: 'muted' }, 'Window from ', when(m.request.window.start)) : null))));
  }
}

export async function movementPage(id) {
  mount(loading());
  let m = await get(`/api/v1/movements/${id}`);
  const n = await namesFor(m);
  const render = async () => {
    const body = [];
    body.push(h('div', { class: 'page-head' }, h('h1', {}, title(m)), badge(m.state, m.state),
      m.risk_level ? badge(`risk ${m.risk_level}`, m.risk_level) : null));
    body.push(actions(m, async (u) => { m = u; await render(); }));
    if (m.request) {
      const r = m.request;
      body.push(h('section', { class: 'card' }, h('h2', {}, 'Request'),
        h('dl', {},
          h('dt', {}, 'Persons'), h('dd', {}, r.persons.map((p) => n.persons.get(p)?.full_name || 'a protected person').join(', ')),
          h('dt', {}, 'Legs'), h('dd', {}, r.legs.map((l) => `${endpointText(l.from, n)} → ${endpointText(l.to, n)}`).join('; ')),
          h('dt', {}, 'Window'), h('dd', {}, when(r.window.start), ' to ', when(r.window.end)),
          h('dt', {}, 'Vehicles'), h('dd', {}, r.vehicles.join(', ') || '—'),
          r.rejection ? [h('dt', {}, 'Rejected because'), h('dd', {}, r.rejection)] : null),
        r.assessment ? h('div', {}, h('h3', {}, `Assessment: ${r.assessment.score ?? ''} (${words(r.assessment.level || '')})`),
          h('ul', {}, (r.assessment.reasons || []).map((x) => h('li', {}, typeof x === 'string' ? x : x.reason || x.text || words(Object.values(x).join(' ')))))) : null,
        h('h3', {}, 'History'),
        h('ol', { class: 'log' }, (r.history || []).map((e) => h('li', {}, when(e.at), ` ${words(e.what)}${e.note ? ` — ${e.note}` : ''}`)))));
    } else {
      body.push(h('p', { class: 'muted' }, 'You see the status of this movement only.'));
    }
    const mapBox = h('div');
    if (m.plan) {
      const p = m.plan;
      body.push(h('section', { class: 'card' }, h('h2', {}, 'Plan'),
        h('dl', {},
          h('dt', {}, 'Departure'), h('dd', {}, when(p.departure)),
          h('dt', {}, 'Arrival'), h('dd', {}, when(p.arrival)),
          h('dt', {}, 'Released'), h('dd', {}, when(p.release_at)),
          h('dt', {}, 'Escort'), h('dd', {}, `${p.call_sign} (${p.escort_vehicles.join(', ')})`),
          h('dt', {}, 'Roads'), h('dd', {}, p.legs.map((l) => (l.roads || []).join(' → ')).join(' | '))),
        p.warnings.length ? h('ul', { class: 'warnings' }, p.warnings.map((w) => h('li', {}, w))) : null,
        mapBox,
        h('div', { class: 'actions' }, briefButton(m), exposureButton(m))));
    }
    body.push(h('div', { id: 'planner' }));
    mount(body);
    if (m.plan) {
      const map = new MapView(mapBox, { height: 380, label: 'Planned route and live position' });
      onLeave(() => map.destroy());
      const route = m.plan.legs.flatMap((l) => l.coordinates || []);
      map.routes = [{ points: route, colour: '#1565c0', width: 4 }];
      map.fitPoints(route);
      if (['in_progress', 'released', 'completed'].includes(m.state)) {
        try {
          const t = await get(`/api/v1/movements/${m.id}/track`);
          const pts = t.positions.map((x) => x.coordinates);
          if (pts.length) {
            map.routes.push({ points: pts, colour: '#2e7d32', width: 3, dashed: true });
            const last = pts[pts.length - 1];
            map.markers = [{ lon: last[0], lat: last[1], label: m.plan.call_sign }];
          }
          map.draw();
        } catch { /* the track is optional here */ }
      }
    }
    if (m.allowed_transitions.includes('plan')) await planner(m, n, async (u) => { m = u; await render(); });
  };
  await render();
}

function actions(m, changed) {
  const box = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  const reason = h('input', { 'aria-label': 'Reason', placeholder: 'Reason (to reject, abort or cancel)', maxlength: 1000 });
  let needsReason = false;
  for (const t of m.allowed_transitions) {
    if (t === 'plan') continue;
    needsReason ||= NEEDS_REASON.includes(t);
    const b = h('button', { type: 'button', class: NEEDS_REASON.includes(t) ? 'danger' : '' }, words(t).replace(/^./, (c) => c.toUpperCase()));
    b.addEventListener('click', () => act(b, async () => {
      const body = { transition: t, version: m.version };
      if (NEEDS_REASON.includes(t)) body.reason = reason.value;
      try {
        await changed(await post(`/api/v1/movements/${m.id}/transitions`, body));
      } catch (e) {
        // Changed meanwhile (another coordinator, the release scheduler): show it as it is now.
        if (e.status === 409 || e.status === 412) await changed(await get(`/api/v1/movements/${m.id}`));
        throw e;
      }
    }, `${words(t)}: done`));
    box.append(b);
  }
  if (needsReason) box.append(reason);
  if (m.plan && ['released', 'in_progress'].includes(m.state)) {
    const sos = h('button', { type: 'button', class: 'danger' }, 'SOS');
    sos.addEventListener('click', () => act(sos, () => post(`/api/v1/movements/${m.id}/sos`), 'SOS raised'));
    const check = h('button', { type: 'button' }, 'Check in');
    check.addEventListener('click', () => act(check, () => post(`/api/v1/movements/${m.id}/check-in`), 'Checked in'));
    box.append(check, sos);
  }
  return box.childElementCount ? box : h('div');
}

function briefButton(m) {
  const b = h('button', { type: 'button' }, 'Brief');
  b.addEventListener('click', () => act(b, async () => {
    const text = await get(`/api/v1/movements/${m.id}/brief`, { headers: { Accept: 'text/plain' } });
    const out = document.getElementById('brief') || h('section', { id: 'brief', class: 'card' });
    clear(out).append(h('h2', {}, 'Brief (your personal copy: it is traceable)'), h('pre', { class: 'brief' }, String(text)));
    b.closest('section').after(out);
  }));
  return b;
}

function exposureButton(m) {
  const b = h('button', { type: 'button' }, 'Who can see the details');
  b.addEventListener('click', () => act(b, async () => {
    const e = await get(`/api/v1/movements/${m.id}/exposure`);
    const out = document.getElementById('exposure') || h('section', { id: 'exposure', class: 'card' });
    clear(out).append(h('h2', {}, `Exposure: ${e.now} people now`),
      table([
        { title: 'User', cell: (r) => r.user.slice(0, 8) },
        { title: 'Why', cell: (r) => words(r.source) },
        { title: 'From', cell: (r) => when(r.from) },
        { title: 'Until', cell: (r) => when(r.until) },
        { title: 'Now', cell: (r) => (r.active ? 'yes' : 'no') },
      ], e.periods, { label: 'Exposure' }));
    // The movement's planners also see which variants of the brief each recipient received
    // (the server answers 403 or 404 to anyone else, and nothing is shown).
    try {
      const v = await get(`/api/v1/movements/${m.id}/brief/recipients`);
      out.append(h('h3', {}, 'Brief copies: the variants each recipient received'),
        table([
          { title: 'Recipient', cell: (r) => r.username },
          { title: 'Audience', cell: (r) => r.audience },
          { title: 'First copy', cell: (r) => when(r.first_copy) },
          { title: 'Copies', cell: (r) => String(r.copies) },
          { title: 'Facts', cell: (r) => r.facts.filter((f) => f.text !== '').map((f) => `${words(f.fact)}: ${f.text}${f.shared ? ' (shared)' : ''}`).join('; ') },
          { title: 'Wording marks', cell: (r) => String(r.wording.length) },
        ], v.recipients, { label: 'Brief recipients' }));
    } catch (err) {
      // Not a planner of this movement (403/404), or no brief yet (409): nothing to show.
      if (![403, 404, 409].includes(err.status)) throw err;
    }
    b.closest('section').after(out);
  }));
  return b;
}

// Planning: route alternatives per leg on the map with their risk breakdown; the
// coordinator picks one per leg, the escort team and the release lead.
async function planner(m, n, changed) {
  const box = document.getElementById('planner');
  box.className = 'card';
  box.append(h('h2', {}, 'Plan this movement'), loading('Computing route alternatives…'));
  let teams;
  const legs = [];
  try {
    teams = await get('/api/v1/escort-teams');
    const zones = (await get('/api/v1/zones')).features.map(zoneShape);
    for (const l of m.request.legs) {
      const from = endpointCoordinates(l.from, n);
      const to = endpointCoordinates(l.to, n);
      const routes = await post('/api/v1/routes', {
        from: { type: 'Point', coordinates: from }, to: { type: 'Point', coordinates: to },
        profile: 'safest', alternatives: 3,
      });
      legs.push({ routes: routes.features, chosen: 0 });
    }
    clear(box).append(h('h2', {}, 'Plan this movement'));
    const mapBox = h('div');
    const breakdown = h('div');
    box.append(mapBox, breakdown);
    const map = new MapView(mapBox, { height: 420, label: 'Route alternatives: click a route to choose it' });
    onLeave(() => map.destroy());
    map.zones = zones;
    const show = () => {
      map.routes = legs.flatMap((leg) => leg.routes.map((r, i) => ({
        points: r.geometry.coordinates, colour: ROUTE_COLOURS[i % ROUTE_COLOURS.length], width: i === leg.chosen ? 6 : 3, dashed: i !== leg.chosen,
      })));
      map.draw();
      clear(breakdown);
      legs.forEach((leg, li) => {
        breakdown.append(h('h3', {}, `Leg ${li + 1}: choose a route`),
          h('div', { class: 'routes', role: 'radiogroup', 'aria-label': `Routes of leg ${li + 1}` }, leg.routes.map((r, i) => {
            const p = r.properties;
            const radio = h('input', { type: 'radio', name: `leg-${li}`, value: i, checked: i === leg.chosen });
            radio.addEventListener('change', () => { leg.chosen = i; show(); });
            return h('label', { class: 'route-option' }, radio,
              h('span', { class: 'swatch', style: `background:${ROUTE_COLOURS[i % ROUTE_COLOURS.length]}` }),
              h('strong', {}, i === 0 ? 'Recommended' : `Alternative ${i}`),
              ` · ${(p.distance_m / 1000).toFixed(1)} km · ${Math.round(p.duration_s / 60)} min · risk ${Math.round(p.risk)}`,
              p.crosses_avoided_zone ? h('span', { class: 'error' }, ' crosses a zone that should be avoided') : null,
              h('ul', { class: 'segments' }, p.segments.filter((s) => s.risk_reason || s.zones.length).map((s) => h('li', {},
                `${s.road || 'unnamed road'}: ${s.risk_reason || `${s.zones.length} zone(s)`}`))));
          })));
      });
    };
    map.on('routeclick', (i) => {
      let k = i;
      for (const leg of legs) {
        if (k < leg.routes.length) { leg.chosen = k; break; }
        k -= leg.routes.length;
      }
      show();
    });
    map.fitPoints(legs.flatMap((l) => l.routes[0].geometry.coordinates));
    show();
    const team = h('select', { required: true }, teams.map((t) => h('option', { value: t.id }, `${t.call_sign} — ${t.unit} (${t.vehicles.length} vehicles)`)));
    const lead = h('input', { type: 'number', min: 0, step: 60, placeholder: 'from the rules' });
    const submit = h('button', { type: 'button' }, 'Plan');
    submit.addEventListener('click', () => act(submit, async () => {
      const body = { version: m.version, escort_team: team.value, alternatives: legs.map((l) => l.chosen), profile: 'safest' };
      if (lead.value !== '') body.release_lead_s = Number(lead.value);
      await changed(await post(`/api/v1/movements/${m.id}/plan`, body));
    }, 'Planned'));
    box.append(field('Escort team', team), field('Release the details this many seconds before departure', lead), submit);
  } catch (e) {
    clear(box).append(h('h2', {}, 'Plan this movement'), failure(e));
  }
}

export async function newMovementPage() {
  mount(loading());
  const [persons, sites] = await Promise.all([get('/api/v1/persons?view=summary'), get('/api/v1/sites')]);
  const who = h('select', { multiple: true, size: Math.min(6, persons.items.length || 1), required: true },
    persons.items.map((p) => h('option', { value: p.id }, `${p.full_name} (level ${p.protection_level})`)));
  const siteSelect = () => h('select', { required: true }, sites.items.map((s) => h('option', { value: s.id }, s.name)));
  const from = siteSelect();
  const to = siteSelect();
  if (sites.items.length > 1) to.selectedIndex = 1;
  const purpose = h('input', { maxlength: 500, required: true });
  const start = h('input', { type: 'datetime-local', required: true, value: localInput(new Date(Date.now() + 3600e3)) });
  const end = h('input', { type: 'datetime-local', required: true, value: localInput(new Date(Date.now() + 5 * 3600e3)) });
  const vehicles = h('input', { placeholder: 'e.g. Company van', maxlength: 200 });
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Create the request');
  const form = h('form', { class: 'card' }, h('h1', {}, 'Request a movement'),
    field('Protected persons', who, 'Hold Ctrl or Shift to choose several.'),
    field('From', from), field('To', to), field('Purpose', purpose),
    field('Earliest departure (local time)', start), field('Latest arrival (local time)', end),
    field('Company vehicles', vehicles), msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    button.disabled = true;
    try {
      const created = await post('/api/v1/movements', {
        persons: [...who.selectedOptions].map((o) => o.value),
        legs: [{ from: { site: from.value }, to: { site: to.value } }],
        purpose: purpose.value,
        window: { start: fromLocalInput(start.value), end: fromLocalInput(end.value) },
        vehicles: vehicles.value ? [vehicles.value] : [],
      });
      toast('Request created: submit it when ready', 'ok');
      location.hash = `#/movements/${created.id}`;
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
  mount(form);
}
