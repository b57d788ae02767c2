// The registry: protected persons, sites (on the map), organisations, escort teams.
import { get } from '../api.js';
import { h, mount, loading, failure, clear, table, words, badge } from '../ui.js';
import { MapView } from '../map.js';
import { onLeave } from '../main.js';

const TABS = [['persons', 'Protected persons'], ['sites', 'Sites'], ['organisations', 'Organisations'], ['teams', 'Escort teams']];

export async function registryPage(tab) {
  const nav = h('nav', { class: 'tabs', 'aria-label': 'Registry' }, TABS.map(([k, t]) => h('a', { href: `#/registry/${k}`, 'aria-current': k === tab ? 'page' : null }, t)));
  const box = h('div', {}, loading());
  mount(h('h1', {}, 'Registry'), nav, box);
  try {
    if (tab === 'persons') {
      const orgs = new Map((await get('/api/v1/organisations')).items.map((o) => [o.id, o.name]));
      const list = (await get('/api/v1/persons')).items;
      clear(box).append(table([
        { title: 'Name', cell: (p) => p.full_name },
        { title: 'Employer', cell: (p) => orgs.get(p.employer_org_id) || '—' },
        { title: 'Nationality', cell: (p) => p.nationality || '—' },
        { title: 'Protection', cell: (p) => badge(`level ${p.protection_level}`) },
        { title: 'Status', cell: (p) => words(p.status) },
      ], list, { label: 'Protected persons' }));
    } else if (tab === 'sites') {
      const list = (await get('/api/v1/sites')).items;
      const mapBox = h('div');
      clear(box).append(mapBox, table([
        { title: 'Name', cell: (s) => s.name },
        { title: 'Kind', cell: (s) => words(s.kind) },
        { title: 'Posture', cell: (s) => words(s.posture) },
        { title: 'Location', cell: (s) => `${s.location.coordinates[1].toFixed(5)}, ${s.location.coordinates[0].toFixed(5)}` },
      ], list, { label: 'Sites' }));
      const map = new MapView(mapBox, { height: 360, label: 'Sites' });
      onLeave(() => map.destroy());
      map.markers = list.map((s) => ({ lon: s.location.coordinates[0], lat: s.location.coordinates[1], label: s.name, colour: '#5d4037' }));
      if (list.length) map.fitPoints(list.map((s) => s.location.coordinates));
    } else if (tab === 'organisations') {
      const list = (await get('/api/v1/organisations')).items;
      clear(box).append(table([
        { title: 'Name', cell: (o) => o.name },
        { title: 'Kind', cell: (o) => words(o.kind) },
      ], list, { label: 'Organisations' }));
    } else {
      const list = await get('/api/v1/escort-teams');
      clear(box).append(table([
        { title: 'Call sign', cell: (t) => t.call_sign },
        { title: 'Unit', cell: (t) => t.unit },
        { title: 'Members', cell: (t) => String(t.members.length) },
        { title: 'Vehicles', cell: (t) => t.vehicles.join(', ') },
      ], list, { label: 'Escort teams' }));
    }
  } catch (e) {
    clear(box).append(failure(e));
  }
}
