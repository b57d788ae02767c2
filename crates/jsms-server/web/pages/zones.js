// Threat zones: the list on a map, and the editor (draw a polygon or a circle on the map;
// severity, kind, validity, source).
import { get, post, put, del } from '../api.js';
import { h, mount, when, badge, loading, failure, clear, field, table, act, words, localInput, fromLocalInput, toast } from '../ui.js';
import { MapView, zoneShape } from '../map.js';
import { hasRole, onLeave } from '../main.js';

const KINDS = ['hostile_surveillance', 'ied_risk', 'unrest', 'checkpoint', 'other'];
const canWrite = () => hasRole('intelligence_analyst', 'movement_coordinator');

export async function zonesPage() {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Threat zones'));
  if (canWrite()) head.append(h('a', { class: 'button', href: '#/zones/new' }, 'Draw a zone'));
  const mapBox = h('div');
  const list = h('div', {}, loading());
  mount(head, mapBox, list);
  const map = new MapView(mapBox, { height: 360, label: 'Threat zones' });
  onLeave(() => map.destroy());
  try {
    const zones = (await get('/api/v1/zones')).features;
    map.zones = zones.map(zoneShape);
    map.draw();
    clear(list).append(table([
      { title: 'Kind', cell: (z) => words(z.properties.kind) },
      { title: 'Severity', cell: (z) => badge(String(z.properties.severity), `sev${z.properties.severity}`) },
      { title: 'Shape', cell: (z) => (z.geometry.type === 'Point' ? `circle, ${Math.round(z.properties.radius_m)} m` : 'polygon') },
      { title: 'Active from', cell: (z) => when(z.properties.valid_from) },
      { title: 'Until', cell: (z) => when(z.properties.valid_until) },
      { title: 'Source', cell: (z) => z.properties.source },
    ], zones, { label: 'Threat zones', onRow: (z) => { location.hash = `#/zones/${z.id}`; } }));
  } catch (e) {
    clear(list).append(failure(e));
  }
}

export async function zoneEditor(id) {
  mount(loading());
  const existing = id === 'new' ? null : await get(`/api/v1/zones/${id}`);
  const others = (await get('/api/v1/zones')).features.filter((z) => z.id !== id).map(zoneShape);
  const p = existing ? existing.properties : {};
  const shape = h('select', {}, h('option', { value: 'polygon' }, 'Polygon: click the corners'), h('option', { value: 'circle' }, 'Circle: click the centre'));
  const radius = h('input', { type: 'number', min: 1, max: 50000, value: p.radius_m || 300 });
  const severity = h('select', {}, [1, 2, 3, 4, 5].map((s) => h('option', { value: s, selected: s === (p.severity || 3) }, `${s}${s >= 4 ? ' (routes avoid it)' : ''}`)));
  const kind = h('select', {}, KINDS.map((k) => h('option', { value: k, selected: k === p.kind }, words(k))));
  const from = h('input', { type: 'datetime-local', value: localInput(p.valid_from ? new Date(p.valid_from) : new Date()) });
  const until = h('input', { type: 'datetime-local', value: p.valid_until ? localInput(new Date(p.valid_until)) : '' });
  const source = h('input', { maxlength: 200, value: p.source || '', required: true });
  const notes = h('textarea', { maxlength: 2000 }, p.notes || '');
  const reset = h('button', { type: 'button' }, 'Start the shape again');
  const msg = h('div', { 'aria-live': 'assertive' });
  const save = h('button', { type: 'submit' }, existing ? 'Save changes' : 'Create the zone');
  const mapBox = h('div');
  const form = h('form', { class: 'card' },
    h('h1', {}, existing ? 'Threat zone' : 'Draw a threat zone'), mapBox,
    h('div', { class: 'grid2' },
      field('Shape', shape), field('Radius (metres, circles)', radius), field('Severity', severity), field('Kind', kind),
      field('Active from (local time)', from), field('Active until (optional)', until), field('Source', source), field('Notes', notes)),
    h('div', { class: 'actions' }, reset, save), msg);
  mount(form);
  const map = new MapView(mapBox, { height: 420, label: 'Zone editor: click on the map to draw' });
  onLeave(() => map.destroy());
  map.zones = others;
  const sketch = { kind: 'polygon', points: [], center: null, radius_m: Number(radius.value), severity: Number(severity.value) };
  if (existing) {
    if (existing.geometry.type === 'Point') {
      sketch.kind = 'circle';
      sketch.center = existing.geometry.coordinates;
      shape.value = 'circle';
    } else {
      sketch.points = existing.geometry.coordinates[0].slice(0, -1);
    }
    map.fitPoints(sketch.center ? [sketch.center] : sketch.points);
  }
  map.sketch = sketch;
  const sync = () => {
    sketch.kind = shape.value;
    sketch.radius_m = Number(radius.value) || 0;
    sketch.severity = Number(severity.value);
    map.draw();
  };
  [shape, radius, severity].forEach((x) => x.addEventListener('change', sync));
  radius.addEventListener('input', sync);
  reset.addEventListener('click', () => { sketch.points = []; sketch.center = null; map.draw(); });
  map.on('click', (ll) => {
    if (sketch.kind === 'circle') sketch.center = ll; else sketch.points.push(ll);
    map.draw();
  });
  if (existing && canWrite()) {
    const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
    remove.addEventListener('click', () => act(remove, async () => {
      await del(`/api/v1/zones/${id}`, { headers: { 'If-Match': `"v${existing.properties.version}"` } });
      location.hash = '#/zones';
    }, 'Zone deleted'));
    form.querySelector('.actions').append(remove);
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    let geometry;
    if (sketch.kind === 'circle') {
      if (!sketch.center) { msg.append(failure('Click the centre of the circle on the map.')); return; }
      geometry = { type: 'Point', coordinates: sketch.center };
    } else {
      if (sketch.points.length < 3) { msg.append(failure('Click at least three corners on the map.')); return; }
      geometry = { type: 'Polygon', coordinates: [[...sketch.points, sketch.points[0]]] };
    }
    const properties = {
      severity: Number(severity.value), kind: kind.value, valid_from: fromLocalInput(from.value),
      source: source.value,
    };
    if (until.value) properties.valid_until = fromLocalInput(until.value);
    if (notes.value) properties.notes = notes.value;
    if (sketch.kind === 'circle') properties.radius_m = Number(radius.value);
    if (existing) properties.version = existing.properties.version;
    save.disabled = true;
    try {
      const feature = { type: 'Feature', geometry, properties };
      const out = existing ? await put(`/api/v1/zones/${id}`, feature) : await post('/api/v1/zones', feature);
      toast(existing ? 'Zone saved' : 'Zone created', 'ok');
      location.hash = `#/zones/${out.id}`;
      if (existing) zoneEditor(out.id);
    } catch (err) {
      msg.append(failure(err));
    } finally {
      save.disabled = false;
    }
  });
}
