// The registry: protected persons, sites (placed on the map), organisations, escort teams —
// lists, and forms to register and edit them (the server decides who may; a refusal is
// shown in plain words).
import { get, post, api } from '../api.js';
import { h, mount, loading, failure, clear, table, words, badge, field, toast } from '../ui.js';
import { MapView } from '../map.js';
import { hasRole, onLeave } from '../main.js';

const TABS = [['persons', 'Protected persons'], ['sites', 'Sites'], ['organisations', 'Organisations'], ['teams', 'Escort teams']];
const SITE_KINDS = ['project_site', 'residence', 'office', 'airport', 'port'];
const POSTURES = ['normal', 'elevated', 'high', 'lockdown'];
const ORG_KINDS = ['agency', 'embassy_office', 'company'];
const STATUSES = ['in_country', 'on_leave', 'departed'];

const canEdit = () => hasRole('party_admin', 'movement_coordinator', 'company_security_officer');

const select = (values, current, label = words) => h('select', {}, values.map((v) => h('option', { value: v, selected: v === current }, label(v))));
const text = (value, attrs = {}) => h('input', { value: value ?? '', ...attrs });
const orNull = (v) => (v === '' ? null : v);

// A form in a card; `submit` returns a promise; errors appear under the form.
function formCard(title, fields, submitLabel, submit) {
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, submitLabel);
  const form = h('form', { class: 'card' }, h('h2', {}, title), h('div', { class: 'grid2' }, fields), msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    button.disabled = true;
    try {
      await submit();
    } catch (err) {
      msg.append(failure(err));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function registryPage(tab) {
  const nav = h('nav', { class: 'tabs', 'aria-label': 'Registry' }, TABS.map(([k, t]) => h('a', { href: `#/registry/${k}`, 'aria-current': k === tab ? 'page' : null }, t)));
  const box = h('div', {}, loading());
  const editor = h('div');
  mount(h('h1', {}, 'Registry'), nav, editor, box);
  const reload = () => registryPage(tab);
  try {
    if (tab === 'persons') await persons(box, editor, reload);
    else if (tab === 'sites') await sites(box, editor, reload);
    else if (tab === 'organisations') await organisations(box, editor, reload);
    else await teams(box, editor, reload);
  } catch (e) {
    clear(box).append(failure(e));
  }
}

function newButton(label, open) {
  if (!canEdit()) return null;
  const b = h('button', { type: 'button' }, label);
  b.addEventListener('click', open);
  return b;
}

async function persons(box, editor, reload) {
  const orgs = (await get('/api/v1/organisations')).items;
  const siteList = (await get('/api/v1/sites')).items;
  const names = new Map(orgs.map((o) => [o.id, o.name]));
  const list = (await get('/api/v1/persons?view=summary')).items;
  const open = (p) => {
    const full = text(p?.full_name, { required: true, maxlength: 200 });
    const nationality = text(p?.nationality, { maxlength: 100 });
    const employer = h('select', {}, orgs.filter((o) => o.kind === 'company').map((o) => h('option', { value: o.id, selected: o.id === p?.employer_org_id }, o.name)));
    const site = h('select', {}, h('option', { value: '' }, '—'), siteList.map((s) => h('option', { value: s.id, selected: s.id === p?.assigned_site_id }, s.name)));
    const level = select(['A', 'B', 'C'], p?.protection_level || 'B', (v) => `level ${v}`);
    const status = select(STATUSES, p?.status || 'in_country');
    const pd = p?.personal_data || {};
    const passport = text(pd.passport_number, { maxlength: 50, autocomplete: 'off' });
    const phone = text(pd.phone, { maxlength: 50, autocomplete: 'off' });
    const dob = h('input', { type: 'date', value: pd.date_of_birth || '' });
    const address = text(pd.home_address, { maxlength: 300, autocomplete: 'off' });
    clear(editor).append(formCard(p ? `Edit ${p.full_name}` : 'Register a protected person', [
      field('Full name', full), field('Nationality', nationality), field('Employer', employer), field('Assigned site', site),
      field('Protection level', level), field('Status', status),
      field('Passport number (sealed)', passport), field('Phone (sealed)', phone), field('Date of birth (sealed)', dob), field('Home address (sealed)', address),
    ], p ? 'Save' : 'Register', async () => {
      const body = {
        full_name: full.value, nationality: orNull(nationality.value), employer_org_id: employer.value,
        assigned_site_id: orNull(site.value), protection_level: level.value, status: status.value,
        personal_data: { passport_number: orNull(passport.value), phone: orNull(phone.value), date_of_birth: orNull(dob.value), home_address: orNull(address.value) },
      };
      if (p) await api('PATCH', `/api/v1/persons/${p.id}`, { ...body, version: p.version });
      else await post('/api/v1/persons', body);
      toast(p ? 'Saved' : 'Registered', 'ok');
      reload();
    }));
    full.focus();
  };
  clear(box).append(newButton('Register a person', () => open(null)) || '', table([
    { title: 'Name', cell: (p) => p.full_name },
    { title: 'Employer', cell: (p) => names.get(p.employer_org_id) || '—' },
    { title: 'Nationality', cell: (p) => p.nationality || '—' },
    { title: 'Protection', cell: (p) => badge(`level ${p.protection_level}`) },
    { title: 'Status', cell: (p) => words(p.status) },
  ], list, { label: 'Protected persons', onRow: canEdit() ? async (p) => open(await get(`/api/v1/persons/${p.id}`)) : undefined }));
}

async function sites(box, editor, reload) {
  const orgs = (await get('/api/v1/organisations')).items;
  const list = (await get('/api/v1/sites')).items;
  const mapBox = h('div');
  const open = (s) => {
    const name = text(s?.name, { required: true, maxlength: 200 });
    const owner = h('select', {}, orgs.map((o) => h('option', { value: o.id, selected: o.id === s?.owner_org_id }, o.name)));
    const kind = select(SITE_KINDS, s?.kind || 'project_site');
    const posture = select(POSTURES, s?.posture || 'normal');
    const notes = h('textarea', { maxlength: 2000 }, s?.notes || '');
    const place = h('p', { class: 'muted' }, s ? 'Click the map to move the site.' : 'Click the map to place the site.');
    let location = s ? s.location.coordinates : null;
    const pick = new MapView(place, { height: 300, label: 'Place the site: click on the map' });
    onLeave(() => pick.destroy());
    const show = () => { pick.markers = location ? [{ lon: location[0], lat: location[1], label: name.value || 'site', colour: '#5d4037' }] : []; pick.draw(); };
    pick.on('click', (ll) => { location = ll; show(); });
    if (location) pick.fitPoints([location]);
    show();
    clear(editor).append(formCard(s ? `Edit ${s.name}` : 'Register a site', [
      field('Name', name), field('Owner', owner), field('Kind', kind), field('Security posture', posture), field('Notes', notes), place,
    ], s ? 'Save' : 'Register', async () => {
      if (!location) throw new Error('Place the site on the map first.');
      const body = { name: name.value, owner_org_id: owner.value, kind: kind.value, posture: posture.value, notes: orNull(notes.value), location: { type: 'Point', coordinates: location } };
      if (s) await api('PATCH', `/api/v1/sites/${s.id}`, { ...body, version: s.version });
      else await post('/api/v1/sites', body);
      toast(s ? 'Saved' : 'Registered', 'ok');
      reload();
    }));
  };
  clear(box).append(newButton('Register a site', () => open(null)) || '', mapBox, table([
    { title: 'Name', cell: (s) => s.name },
    { title: 'Kind', cell: (s) => words(s.kind) },
    { title: 'Posture', cell: (s) => words(s.posture) },
    { title: 'Location', cell: (s) => `${s.location.coordinates[1].toFixed(5)}, ${s.location.coordinates[0].toFixed(5)}` },
  ], list, { label: 'Sites', onRow: canEdit() ? (s) => open(s) : undefined }));
  const map = new MapView(mapBox, { height: 320, label: 'Sites' });
  onLeave(() => map.destroy());
  map.markers = list.map((s) => ({ lon: s.location.coordinates[0], lat: s.location.coordinates[1], label: s.name, colour: '#5d4037' }));
  if (list.length) map.fitPoints(list.map((s) => s.location.coordinates));
}

async function organisations(box, editor, reload) {
  const list = (await get('/api/v1/organisations')).items;
  const open = (o) => {
    const name = text(o?.name, { required: true, maxlength: 200 });
    const kind = select(ORG_KINDS, o?.kind || 'company');
    clear(editor).append(formCard(o ? `Edit ${o.name}` : 'Register an organisation', [field('Name', name), field('Kind', kind)], o ? 'Save' : 'Register', async () => {
      if (o) await api('PATCH', `/api/v1/organisations/${o.id}`, { name: name.value, kind: kind.value, version: o.version });
      else await post('/api/v1/organisations', { name: name.value, kind: kind.value });
      toast(o ? 'Saved' : 'Registered', 'ok');
      reload();
    }));
  };
  clear(box).append(hasRole('party_admin') ? newButton('Register an organisation', () => open(null)) : '', table([
    { title: 'Name', cell: (o) => o.name },
    { title: 'Kind', cell: (o) => words(o.kind) },
  ], list, { label: 'Organisations', onRow: hasRole('party_admin') ? (o) => open(o) : undefined }));
}

async function teams(box, editor, reload) {
  const list = await get('/api/v1/escort-teams');
  const open = () => {
    const unit = text('', { required: true, maxlength: 200 });
    const call = text('', { required: true, maxlength: 50 });
    const vehicles = text('', { placeholder: 'comma-separated, e.g. armoured SUV KHI-4471, pickup KHI-2210' });
    clear(editor).append(formCard('Register an escort team', [field('Unit', unit), field('Call sign', call), field('Vehicles', vehicles)], 'Register', async () => {
      await post('/api/v1/escort-teams', {
        unit: unit.value, call_sign: call.value, members: [],
        vehicles: vehicles.value.split(',').map((v) => v.trim()).filter(Boolean),
      });
      toast('Registered', 'ok');
      reload();
    }));
  };
  clear(box).append(hasRole('movement_coordinator') ? newButton('Register an escort team', open) : '', table([
    { title: 'Call sign', cell: (t) => t.call_sign },
    { title: 'Unit', cell: (t) => t.unit },
    { title: 'Members', cell: (t) => String(t.members.length) },
    { title: 'Vehicles', cell: (t) => t.vehicles.join(', ') },
  ], list, { label: 'Escort teams' }));
}
