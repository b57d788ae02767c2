// Incidents: the list (on the map), reporting one (place on the map), and an incident's page
// with its timeline, the investigation, lessons learned and the "who knew" report.
import { get, post } from '../api.js';
import { h, mount, when, badge, loading, failure, clear, field, table, act, words, localInput, fromLocalInput, toast } from '../ui.js';
import { MapView } from '../map.js';
import { hasRole, onLeave } from '../main.js';

const KINDS = ['attack', 'threat', 'suspicious_activity', 'breach_of_procedure', 'accident'];
const SEVERITY = ['#9aa5b1', '#f2c94c', '#f2994a', '#eb5757', '#b01e1e', '#6b0f0f'];
const canReport = () => hasRole('movement_coordinator', 'escort_commander', 'company_security_officer', 'intelligence_analyst', 'liaison_officer');

export async function incidentsPage() {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Incidents'));
  if (canReport()) head.append(h('a', { class: 'button', href: '#/incidents/new' }, 'Report an incident'));
  const mapBox = h('div');
  const list = h('div', {}, loading());
  mount(head, mapBox, list);
  const map = new MapView(mapBox, { height: 320, label: 'Incidents' });
  onLeave(() => map.destroy());
  try {
    const items = (await get('/api/v1/incidents')).items;
    map.markers = items.map((i) => ({ lon: i.place.coordinates[0], lat: i.place.coordinates[1], colour: SEVERITY[i.severity], label: words(i.kind) }));
    map.draw();
    clear(list).append(table([
      { title: 'When', cell: (i) => when(i.occurred_at) },
      { title: 'Kind', cell: (i) => words(i.kind) },
      { title: 'Title', cell: (i) => i.title },
      { title: 'Severity', cell: (i) => badge(String(i.severity), `sev${i.severity}`) },
      { title: 'Investigation', cell: (i) => badge(i.status, i.status) },
      { title: 'Released to the other party', cell: (i) => (i.shared ? 'yes' : 'no') },
    ], items, { label: 'Incidents', onRow: (i) => { location.hash = `#/incidents/${i.id}`; } }));
  } catch (e) {
    clear(list).append(failure(e));
  }
}

export async function reportIncidentPage() {
  mount(loading());
  const movements = (await get('/api/v1/movements')).items;
  const kind = h('select', {}, KINDS.map((k) => h('option', { value: k }, words(k))));
  const title = h('input', { required: true, maxlength: 200 });
  const at = h('input', { type: 'datetime-local', required: true, value: localInput(new Date()) });
  const severity = h('select', {}, [1, 2, 3, 4, 5].map((s) => h('option', { value: s, selected: s === 3 }, String(s))));
  const narrative = h('textarea', { required: true, maxlength: 10000, rows: 5 });
  const linked = h('select', { multiple: true, size: Math.min(5, Math.max(2, movements.length)) },
    movements.map((m) => h('option', { value: m.id }, `${m.request ? m.request.purpose : `movement ${m.id.slice(0, 8)}`} (${words(m.state)})`)));
  const shared = h('input', { type: 'checkbox' });
  const mapBox = h('div');
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Report');
  const form = h('form', { class: 'card' }, h('h1', {}, 'Report an incident'),
    h('p', { class: 'muted' }, 'Click the map (or press Enter on it) where it happened.'), mapBox,
    h('div', { class: 'grid2' }, field('Kind', kind), field('Title', title), field('When (local time)', at), field('Severity (1 minor – 5 grave)', severity),
      field('Linked movements', linked, 'Hold Ctrl or Shift to choose several.')),
    field('What happened', narrative),
    h('label', { class: 'check' }, shared, ' Release to the other party'), msg, button);
  mount(form);
  const map = new MapView(mapBox, { height: 320, label: 'Where it happened: click to place' });
  onLeave(() => map.destroy());
  let place = null;
  map.on('click', (ll) => { place = ll; map.markers = [{ lon: ll[0], lat: ll[1], colour: '#b01e1e', label: 'here' }]; map.draw(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    if (!place) { msg.append(failure('Click the map where it happened.')); return; }
    button.disabled = true;
    try {
      const created = await post('/api/v1/incidents', {
        kind: kind.value, title: title.value, occurred_at: fromLocalInput(at.value), severity: Number(severity.value),
        place: { type: 'Point', coordinates: place }, narrative: narrative.value,
        movements: [...linked.selectedOptions].map((o) => o.value), shared: shared.checked,
      });
      toast('Incident reported', 'ok');
      location.hash = `#/incidents/${created.id}`;
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
}

export async function incidentPage(id) {
  mount(loading());
  let i = await get(`/api/v1/incidents/${id}`);
  const render = () => {
    const mapBox = h('div');
    const body = [
      h('div', { class: 'page-head' }, h('h1', {}, i.title), badge(words(i.kind)), badge(`severity ${i.severity}`, `sev${i.severity}`), badge(i.status, i.status)),
      h('section', { class: 'card' }, h('h2', {}, 'Report'),
        h('dl', {}, h('dt', {}, 'When'), h('dd', {}, when(i.occurred_at)),
          h('dt', {}, 'Released to the other party'), h('dd', {}, i.shared ? 'yes' : 'no'),
          h('dt', {}, 'Linked movements'), h('dd', {}, i.movements.length ? i.movements.map((m) => h('a', { href: `#/movements/${m}` }, `movement ${m.slice(0, 8)} `)) : '—')),
        h('p', { class: 'narrative' }, i.narrative), mapBox),
      h('section', { class: 'card' }, h('h2', {}, 'Timeline'),
        h('ol', { class: 'log' }, i.timeline.map((t) => h('li', {}, when(t.at), ` ${t.text}`)))),
      h('section', { class: 'card' }, h('h2', {}, 'Investigation'), h('p', {}, i.findings || 'No findings yet.'),
        i.lessons.length ? [h('h3', {}, 'Lessons learned'), h('ul', {}, i.lessons.map((l) => h('li', {}, l.text,
          l.actions.length ? h('ul', {}, l.actions.map((a) => h('li', {}, a.text, a.due ? [' — due ', when(a.due)] : null))) : null)))] : null),
    ];
    if (i.may_investigate) body.push(investigation(i, (u) => { i = u; render(); }));
    mount(body);
    const map = new MapView(mapBox, { height: 260, label: 'Where it happened' });
    onLeave(() => map.destroy());
    map.markers = [{ lon: i.place.coordinates[0], lat: i.place.coordinates[1], colour: SEVERITY[i.severity], label: words(i.kind) }];
    map.fitPoints([i.place.coordinates]);
  };
  render();
}

function investigation(i, changed) {
  const update = h('input', { 'aria-label': 'Update', placeholder: 'What happened since', maxlength: 5000 });
  const add = h('button', { type: 'button' }, 'Add to the timeline');
  add.addEventListener('click', () => act(add, async () => changed(await post(`/api/v1/incidents/${i.id}/updates`, { version: i.version, text: update.value })), 'Added'));
  const findings = h('textarea', { 'aria-label': 'Findings', rows: 3, maxlength: 10000 }, i.findings || '');
  const steps = h('div', { class: 'actions' });
  for (const [to, label] of [['under_investigation', 'Investigate'], ['closed', 'Close with these findings']]) {
    if (i.status === to || (i.status === 'under_investigation' && to === 'under_investigation')) continue;
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', () => act(b, async () => changed(await post(`/api/v1/incidents/${i.id}/investigation`, { version: i.version, status: to, findings: findings.value || null })), 'Done'));
    steps.append(b);
  }
  const lesson = h('input', { 'aria-label': 'Lesson learned', placeholder: 'Lesson learned', maxlength: 5000 });
  const follow = h('input', { 'aria-label': 'Follow-up action', placeholder: 'Follow-up action (optional)', maxlength: 1000 });
  const addLesson = h('button', { type: 'button' }, 'Add the lesson');
  addLesson.addEventListener('click', () => act(addLesson, async () => changed(await post(`/api/v1/incidents/${i.id}/lessons`, {
    version: i.version, text: lesson.value, actions: follow.value ? [{ text: follow.value }] : [],
  })), 'Lesson added'));
  const whoKnew = h('button', { type: 'button' }, 'Attach who knew the linked movements');
  whoKnew.disabled = !i.movements.length;
  whoKnew.addEventListener('click', () => act(whoKnew, async () => {
    await post(`/api/v1/incidents/${i.id}/who-knew`, { version: i.version });
    changed(await get(`/api/v1/incidents/${i.id}`));
  }, 'Who-knew report attached to the timeline'));
  void toast;
  return h('section', { class: 'card' }, h('h2', {}, 'Investigate'),
    h('div', { class: 'actions' }, update, add), field('Findings', findings), steps,
    h('div', { class: 'actions' }, lesson, follow, addLesson), h('div', { class: 'actions' }, whoKnew));
}
