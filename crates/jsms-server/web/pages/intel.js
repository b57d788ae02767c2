// Intelligence: threat reports with their TLP 2.0 marking shown first, search, live arrivals
// (only what the reader may see), writing a report (marking, releasability, Admiralty
// grading, place, a new or raised zone), a report's page (marking changes by the owning
// party), STIX 2.1 export and import.
import { get, post, api, stream } from '../api.js';
import { h, mount, when, badge, loading, failure, clear, field, table, act, words, localInput, fromLocalInput, toast } from '../ui.js';
import { MapView, zoneShape } from '../map.js';
import { hasRole, onLeave } from '../main.js';

const TLP = [
  ['clear', 'TLP:CLEAR', 'No limit on disclosure.'],
  ['green', 'TLP:GREEN', 'The staff of both parties.'],
  ['amber', 'TLP:AMBER', 'Your party with a need to know; tick below to release it to the other party too.'],
  ['amber_strict', 'TLP:AMBER+STRICT', 'Your organisation and the organisations you name only.'],
  ['red', 'TLP:RED', 'The analysts of your organisation only.'],
];
const RELIABILITY = [['A', 'completely reliable'], ['B', 'usually reliable'], ['C', 'fairly reliable'], ['D', 'not usually reliable'], ['E', 'unreliable'], ['F', 'cannot be judged']];
const CREDIBILITY = [[1, 'confirmed'], [2, 'probably true'], [3, 'possibly true'], [4, 'doubtful'], [5, 'improbable'], [6, 'cannot be judged']];
const canWrite = () => hasRole('intelligence_analyst', 'movement_coordinator', 'liaison_officer');
const canZone = () => hasRole('intelligence_analyst', 'movement_coordinator');

export function tlpBadge(r) { return h('span', { class: `badge tlp tlp-${r.tlp}` }, r.tlp_label); }

export async function intelPage() {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Intelligence'));
  const q = h('input', { type: 'search', placeholder: 'Search titles, text, actors', 'aria-label': 'Search reports', maxlength: 200 });
  const tlp = h('select', { 'aria-label': 'Marking' }, h('option', { value: '' }, 'Any marking'), TLP.map(([v, l]) => h('option', { value: v }, l)));
  const exportLink = h('a', { class: 'button', href: '/api/v1/reports/export', download: 'jsms-reports.stix.json' }, 'Export as STIX');
  const actions = h('div', { class: 'actions' }, exportLink);
  if (canWrite()) {
    head.append(h('a', { class: 'button', href: '#/intel/new' }, 'Write a report'));
    const file = h('input', { type: 'file', accept: '.json,application/json', 'aria-label': 'STIX bundle to import' });
    const importButton = h('button', { type: 'button' }, 'Import STIX bundle');
    importButton.addEventListener('click', () => act(importButton, async () => {
      const f = file.files[0];
      if (!f) throw new Error('Choose a STIX 2.1 bundle (JSON) first.');
      const r = await api('POST', '/api/v1/reports/import', undefined, { file: new Blob([await f.arrayBuffer()], { type: 'application/json' }) });
      toast(`Imported: ${r.created.length} new, ${r.existing.length} already here, ${r.zones.length} zones`, 'ok');
      for (const n of r.notices) toast(n, 'info');
      await load();
    }));
    actions.append(file, importButton);
  }
  const filters = h('form', { class: 'filters', role: 'search' }, q, tlp, h('button', { type: 'submit' }, 'Search'));
  const list = h('div', {}, loading());
  const live = h('p', { class: 'muted', 'aria-live': 'polite' });
  mount(head, h('p', { class: 'muted' }, 'You see only the reports whose marking releases them to you. TLP 2.0 (FIRST): CLEAR and GREEN reach both parties; AMBER its party (or both when released); AMBER+STRICT named organisations; RED the author organisation\'s analysts.'),
    filters, actions, live, list);
  const params = () => {
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (tlp.value) p.set('tlp', tlp.value);
    return p.toString();
  };
  const load = async () => {
    clear(list).append(loading());
    exportLink.href = `/api/v1/reports/export${params() ? `?${params()}` : ''}`;
    try {
      const items = (await get(`/api/v1/reports${params() ? `?${params()}` : ''}`)).items;
      clear(list).append(table([
        { title: 'Marking', cell: tlpBadge },
        { title: 'Title', cell: (r) => r.title },
        { title: 'Grading', cell: (r) => r.grading || '—' },
        { title: 'From', cell: (r) => `${r.org_name} (${r.party_name})` },
        { title: 'Reported', cell: (r) => when(r.reported_at) },
      ], items, { label: 'Threat reports', onRow: (r) => { location.hash = `#/intel/${r.id}`; } }));
    } catch (e) {
      clear(list).append(failure(e));
    }
  };
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await load();
  onLeave(stream('/api/v1/reports/stream', 'report', (r) => {
    clear(live).append(`New: ${r.tlp_label} “${r.title}”`);
    toast(`New threat report (${r.tlp_label}): ${r.title}`, 'info');
    load();
  }));
}

export async function newReportPage() {
  mount(loading());
  const [orgs, zones, me, incidents] = await Promise.all([get('/api/v1/organisations?limit=200'), get('/api/v1/zones'), get('/api/v1/me'), get('/api/v1/incidents')]);
  const title = h('input', { required: true, maxlength: 200 });
  const body = h('textarea', { required: true, rows: 6, maxlength: 50000 });
  const observed = h('input', { type: 'datetime-local', required: true, value: localInput(new Date()) });
  const tlp = h('select', {}, TLP.map(([v, l]) => h('option', { value: v, selected: v === 'amber' }, l)));
  const tlpHint = h('small', { class: 'muted' });
  const shared = h('input', { type: 'checkbox' });
  const others = orgs.items.filter((o) => o.id !== me.org_id);
  const strictOrgs = h('select', { multiple: true, size: Math.min(6, Math.max(2, others.length)) }, others.map((o) => h('option', { value: o.id }, o.name)));
  const reliability = h('select', {}, RELIABILITY.map(([v, l]) => h('option', { value: v, selected: v === 'C' }, `${v} — ${l}`)));
  const credibility = h('select', {}, CREDIBILITY.map(([v, l]) => h('option', { value: v, selected: v === 3 }, `${v} — ${l}`)));
  const actors = h('input', { placeholder: 'comma-separated', maxlength: 2000 });
  const indicators = h('textarea', { rows: 2, placeholder: "one STIX pattern per line, e.g. [ipv4-addr:value = '198.51.100.7']" });
  const linked = h('select', { multiple: true, size: Math.min(5, Math.max(2, zones.features.length)) },
    zones.features.map((z) => h('option', { value: z.id }, `${words(z.properties.kind)} — severity ${z.properties.severity} — ${z.properties.source}`)));
  const raiseTo = h('select', {}, h('option', { value: '' }, 'leave as they are'), [2, 3, 4, 5].map((s) => h('option', { value: s }, `raise to ${s}`)));
  const linkedIncidents = h('select', { multiple: true, size: Math.min(4, Math.max(2, incidents.items.length)) },
    incidents.items.map((i) => h('option', { value: i.id }, `${i.title} (${words(i.kind)})`)));
  const newZone = h('input', { type: 'checkbox' });
  const radius = h('input', { type: 'number', min: 50, max: 50000, value: 300 });
  const severity = h('select', {}, [1, 2, 3, 4, 5].map((s) => h('option', { value: s, selected: s === 3 }, String(s))));
  const kind = h('select', {}, ['hostile_surveillance', 'ied_risk', 'unrest', 'checkpoint', 'other'].map((k) => h('option', { value: k }, words(k))));
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Write the report');
  const mapBox = h('div');
  const sync = () => {
    const t = TLP.find(([v]) => v === tlp.value);
    tlpHint.textContent = t ? t[2] : '';
    shared.disabled = tlp.value !== 'amber';
    strictOrgs.disabled = tlp.value !== 'amber_strict';
  };
  tlp.addEventListener('change', sync);
  const zoneFields = canZone() ? h('fieldset', {}, h('legend', {}, 'Threat zones'),
    field('Zones this report concerns', linked, 'Hold Ctrl or Shift to choose several.'), field('Their severity', raiseTo),
    h('label', { class: 'check' }, newZone, ' Create a zone around the place'),
    h('div', { class: 'grid2' }, field('Radius (m)', radius), field('Severity (1 low – 5 extreme)', severity), field('Kind', kind))) : null;
  const form = h('form', { class: 'card' }, h('h1', {}, 'Write a threat report'),
    h('div', { class: 'grid2' }, field('Title', title), field('Observed (local time)', observed)),
    field('Report', body),
    h('fieldset', {}, h('legend', {}, 'Marking (FIRST TLP 2.0) — decided before anyone can read it'),
      field('TLP', tlp), tlpHint,
      h('label', { class: 'check' }, shared, ' Release to the other party (TLP:AMBER)'),
      field('Organisations (TLP:AMBER+STRICT)', strictOrgs, 'Your own organisation always reads it.')),
    h('fieldset', {}, h('legend', {}, 'Admiralty grading'), h('div', { class: 'grid2' }, field('Source reliability', reliability), field('Information credibility', credibility))),
    h('p', { class: 'muted' }, 'Place (optional): click the map, or press Enter on it.'), mapBox,
    zoneFields,
    h('div', { class: 'grid2' }, field('Threat actors', actors), field('Indicators', indicators)),
    incidents.items.length ? field('Incidents this report concerns', linkedIncidents, 'Hold Ctrl or Shift to choose several.') : null,
    msg, button);
  mount(form);
  sync();
  const map = new MapView(mapBox, { height: 300, label: 'Where it was observed: click to place' });
  onLeave(() => map.destroy());
  map.zones = zones.features.map(zoneShape);
  let place = null;
  map.on('click', (ll) => { place = ll; map.markers = [{ lon: ll[0], lat: ll[1], colour: '#1f4e8c', label: 'observed here' }]; map.draw(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    const payload = {
      title: title.value, body: body.value, observed_at: fromLocalInput(observed.value), tlp: tlp.value,
      shared: tlp.value === 'amber' && shared.checked,
      releasable_orgs: tlp.value === 'amber_strict' ? [...strictOrgs.selectedOptions].map((o) => o.value) : [],
      grading: { reliability: reliability.value, credibility: Number(credibility.value) },
      actors: actors.value.split(',').map((a) => a.trim()).filter(Boolean),
      indicators: indicators.value.split('\n').map((p) => p.trim()).filter(Boolean).map((pattern) => ({ pattern })),
      incidents: [...linkedIncidents.selectedOptions].map((o) => o.value),
    };
    if (place) payload.place = { type: 'Point', coordinates: place };
    if (zoneFields) {
      payload.zones = [...linked.selectedOptions].map((o) => ({ zone: o.value, raise_to: raiseTo.value ? Number(raiseTo.value) : null }));
      if (newZone.checked) {
        if (!place) { msg.append(failure('Click the map where the zone is centred.')); return; }
        payload.new_zone = { type: 'Feature', geometry: { type: 'Point', coordinates: place },
          properties: { severity: Number(severity.value), kind: kind.value, valid_from: new Date().toISOString(), source: `threat report: ${title.value}`.slice(0, 200), radius_m: Number(radius.value) } };
      }
    }
    button.disabled = true;
    try {
      const created = await post('/api/v1/reports', payload);
      toast(`Report written (${created.tlp_label})`, 'ok');
      location.hash = `#/intel/${created.id}`;
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
}

export async function reportPage(id) {
  mount(loading());
  let r = await get(`/api/v1/reports/${id}`);
  const orgs = (await get('/api/v1/organisations?limit=200')).items;
  const render = () => {
    const parts = [
      h('div', { class: 'page-head' }, h('h1', {}, r.title), tlpBadge(r), r.grading ? badge(`grading ${r.grading}`) : null),
      h('div', { class: 'actions' }, h('a', { class: 'button', href: `/api/v1/reports/${id}/stix`, download: `report-${id}.stix.json` }, 'Download STIX 2.1')),
      h('section', { class: 'card' },
        h('p', { class: 'muted' }, `${r.org_name} (${r.party_name}) · observed `, when(r.observed_at), ' · reported ', when(r.reported_at),
          r.source ? ` · source: ${r.source}` : '', r.shared ? ' · released to both parties' : ''),
        h('pre', { class: 'brief' }, r.body),
        r.actors.length ? h('p', {}, `Threat actors: ${r.actors.join(', ')}`) : null,
        r.intrusion_sets.length ? h('p', {}, `Intrusion sets: ${r.intrusion_sets.join(', ')}`) : null,
        r.indicators.length ? h('ul', {}, r.indicators.map((i) => h('li', { class: 'mono' }, `${i.pattern_type}: ${i.pattern}`))) : null,
        r.notes.length ? h('ul', {}, r.notes.map((n) => h('li', {}, n))) : null,
        r.zones.length ? h('p', {}, 'Zones: ', r.zones.map((z) => h('a', { href: `#/zones/${z}` }, `zone ${z.slice(0, 8)} `))) : null,
        r.incidents.length ? h('p', {}, 'Incidents: ', r.incidents.map((i) => h('a', { href: `#/incidents/${i}` }, `incident ${i.slice(0, 8)} `))) : null,
        r.raw_objects ? h('p', { class: 'muted' }, `${r.raw_objects} STIX objects kept as received.`) : null,
        h('p', { class: 'muted mono' }, r.stix_id)),
      h('section', { class: 'card' }, h('h2', {}, 'Marking history'),
        r.history.length ? h('ul', { class: 'log' }, r.history.map((c) => h('li', {}, when(c.at), ` ${c.from} → ${c.to}${c.downgrade ? ' (downgrade)' : ''}: ${c.reason}`))) : h('p', { class: 'empty' }, 'Unchanged since it was written.')),
    ];
    if (r.allowed.includes('change_marking')) {
      const tlp = h('select', {}, TLP.map(([v, l]) => h('option', { value: v, selected: v === r.tlp }, l)));
      const shared = h('input', { type: 'checkbox', checked: r.shared && r.tlp === 'amber' });
      const strict = h('select', { multiple: true, size: 4 }, orgs.filter((o) => o.id !== r.org).map((o) => h('option', { value: o.id, selected: r.releasable_orgs.includes(o.id) }, o.name)));
      const reason = h('input', { required: true, maxlength: 2000 });
      const save = h('button', { type: 'button' }, 'Change the marking');
      save.addEventListener('click', () => act(save, async () => {
        r = await post(`/api/v1/reports/${id}/marking`, {
          version: r.version, tlp: tlp.value, shared: tlp.value === 'amber' && shared.checked,
          releasable_orgs: tlp.value === 'amber_strict' ? [...strict.selectedOptions].map((o) => o.value) : [], reason: reason.value,
        });
        render();
      }, 'Marking changed and recorded'));
      parts.push(h('section', { class: 'card' }, h('h2', {}, 'Change the marking'),
        h('p', { class: 'muted' }, 'Your party owns this report. A downgrade lets more people read it: it is recorded with your reason.'),
        h('div', { class: 'grid2' }, field('TLP', tlp), field('Organisations (TLP:AMBER+STRICT)', strict)),
        h('label', { class: 'check' }, shared, ' Release to the other party (TLP:AMBER)'), field('Why', reason), save));
    }
    mount(...parts);
  };
  render();
}
