// Joint coordination: the dashboard, meetings (agenda, attendance, minutes approved by each
// attending party, corrections, action items).
import { get, post, put } from '../api.js';
import { h, mount, when, badge, loading, failure, clear, field, table, act, words, localInput, fromLocalInput, toast } from '../ui.js';
import { hasRole, session } from '../main.js';

const representative = () => hasRole('movement_coordinator', 'liaison_officer');

export async function dashboardPage() {
  mount(loading());
  const d = await get('/api/v1/dashboard');
  const count = (map) => Object.entries(map).map(([k, n]) => h('li', {}, `${words(k)}: ${n}`));
  mount(h('h1', {}, 'Joint dashboard'),
    h('div', { class: 'grid2' },
      h('section', { class: 'card' }, h('h2', {}, 'Open decisions'), d.open_decisions.length
        ? h('ul', {}, d.open_decisions.map((x) => h('li', {}, h('a', { href: `#/decisions/${x.id}` }, x.title))))
        : h('p', { class: 'empty' }, 'None waiting.')),
      h('section', { class: 'card' }, h('h2', {}, 'Overdue actions'), d.overdue_actions.length
        ? h('ul', {}, d.overdue_actions.map((x) => h('li', {}, h('a', { href: `#/meetings/${x.meeting}` }, x.text), ' — due ', when(x.due))))
        : h('p', { class: 'empty' }, 'Nothing overdue.')),
      h('section', { class: 'card' }, h('h2', {}, 'Movements by state'), h('ul', {}, count(d.movements_by_state))),
      h('section', { class: 'card' }, h('h2', {}, 'Movements by risk'), h('ul', {}, count(d.movements_by_risk))),
      h('section', { class: 'card' }, h('h2', {}, 'Open alerts'), h('p', { class: 'big' }, h('a', { href: '#/alerts' }, String(d.open_alerts)))),
      h('section', { class: 'card' }, h('h2', {}, 'Open incidents'), h('p', { class: 'big' }, h('a', { href: '#/incidents' }, String(d.open_incidents))))));
}

export async function meetingsPage() {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Coordination meetings'));
  if (representative()) head.append(h('a', { class: 'button', href: '#/meetings/new' }, 'Schedule a meeting'));
  const list = h('div', {}, loading());
  mount(head, list);
  try {
    const items = (await get('/api/v1/meetings')).items;
    clear(list).append(table([
      { title: 'When', cell: (m) => when(m.starts_at) },
      { title: 'Title', cell: (m) => `${m.corrects ? 'Correction: ' : ''}${m.title}` },
      { title: 'Place', cell: (m) => m.place },
      { title: 'Minutes', cell: (m) => (m.final ? badge('final', 'completed') : m.minutes ? badge('awaiting approval', 'warning') : badge('not written')) },
    ], items, { label: 'Meetings', onRow: (m) => { location.hash = `#/meetings/${m.id}`; } }));
  } catch (e) {
    clear(list).append(failure(e));
  }
}

export async function newMeetingPage() {
  mount(loading());
  const parties = await get('/api/v1/parties');
  const title = h('input', { required: true, maxlength: 200 });
  const at = h('input', { type: 'datetime-local', required: true, value: localInput(new Date()) });
  const place = h('input', { required: true, maxlength: 200, placeholder: 'room or channel' });
  const agenda = h('textarea', { rows: 4, placeholder: 'one item per line' });
  const attend = parties.map((p) => ({ p, box: h('input', { type: 'checkbox', checked: true }), people: h('input', { placeholder: 'who attends', maxlength: 500 }) }));
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Schedule');
  const form = h('form', { class: 'card' }, h('h1', {}, 'Schedule a meeting'),
    field('Title', title), field('When (local time)', at), field('Location or channel', place), field('Agenda', agenda),
    h('fieldset', {}, h('legend', {}, 'Attending parties'), attend.map((a) => h('div', {}, h('label', { class: 'check' }, a.box, ` ${a.p.name}`), ' ', a.people))),
    msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    button.disabled = true;
    try {
      const m = await post('/api/v1/meetings', {
        title: title.value, starts_at: fromLocalInput(at.value), place: place.value,
        agenda: agenda.value.split('\n').map((x) => x.trim()).filter(Boolean),
        attendance: attend.filter((a) => a.box.checked).map((a) => ({ party: a.p.id, people: a.people.value })),
      });
      toast('Meeting scheduled', 'ok');
      location.hash = `#/meetings/${m.id}`;
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
  mount(form);
}

export async function meetingPage(id) {
  mount(loading());
  const parties = new Map((await get('/api/v1/parties')).map((p) => [p.id, p.name]));
  let m = await get(`/api/v1/meetings/${id}`);
  const render = () => {
    const changed = (u) => { m = u; render(); };
    const mine = session.user && m.attendance.some((a) => a.party === session.user.party_id) && representative();
    const body = [
      h('div', { class: 'page-head' }, h('h1', {}, `${m.corrects ? 'Correction: ' : ''}${m.title}`), m.final ? badge('minutes final', 'completed') : null),
      h('section', { class: 'card' }, h('dl', {},
        h('dt', {}, 'When'), h('dd', {}, when(m.starts_at)), h('dt', {}, 'Where'), h('dd', {}, m.place),
        h('dt', {}, 'Attending'), h('dd', {}, m.attendance.map((a) => `${parties.get(a.party) || 'a party'}${a.people ? ` (${a.people})` : ''}`).join('; ')),
        m.corrects ? [h('dt', {}, 'Corrects'), h('dd', {}, h('a', { href: `#/meetings/${m.corrects}` }, 'the earlier minutes'))] : null,
        m.corrected_by.length ? [h('dt', {}, 'Corrected by'), h('dd', {}, m.corrected_by.map((c) => h('a', { href: `#/meetings/${c}` }, 'a later record ')))] : null),
      h('h2', {}, 'Agenda'), h('ol', {}, m.agenda.map((x) => h('li', {}, x)))),
      h('section', { class: 'card' }, h('h2', {}, 'Minutes'), h('pre', { class: 'brief' }, m.minutes || 'Not written yet.'),
        m.decisions.length ? [h('h3', {}, 'Decisions'), h('ul', {}, m.decisions.map((x) => h('li', {}, x)))] : null,
        h('h3', {}, 'Approvals'), h('p', {}, m.approvals.length ? m.approvals.map((a) => `${parties.get(a.party)} on ${new Date(a.at).toLocaleString()}`).join('; ') : 'none yet'),
        !m.final && m.awaiting.length ? h('p', { class: 'muted' }, `Waiting for: ${m.awaiting.map((p) => parties.get(p)).join(', ')}`) : null),
      h('section', { class: 'card' }, h('h2', {}, 'Action items'), m.actions.length ? h('ul', {}, m.actions.map((a, n) => {
        const li = h('li', {}, a.done ? badge('done', 'completed') : badge('open'), ` ${a.text}`, a.due ? [' — due ', when(a.due)] : null);
        if (!a.done && (mine || a.owner === session.user?.id)) {
          const b = h('button', { type: 'button' }, 'Done');
          b.addEventListener('click', () => act(b, async () => changed(await post(`/api/v1/meetings/${id}/actions/${n}/done`, { version: m.version })), 'Action closed'));
          li.append(' ', b);
        }
        return li;
      })) : h('p', { class: 'empty' }, 'No action items.')),
    ];
    if (mine && !m.final && m.minutes && m.awaiting.includes(session.user.party_id) && m.minutes_by === session.user.id) {
      body.push(h('p', { class: 'hint' }, 'You wrote these minutes: another representative of your party approves them.'));
    } else if (mine && !m.final && m.minutes && m.awaiting.includes(session.user.party_id)) {
      const approve = h('button', { type: 'button' }, 'Approve the minutes for my party');
      approve.addEventListener('click', () => act(approve, async () => changed(await post(`/api/v1/meetings/${id}/minutes/approval`, { version: m.version })), 'Minutes approved'));
      body.push(h('div', { class: 'actions' }, approve));
    }
    if (mine) body.push(minutesForm(m, changed));
    mount(body);
  };
  render();
}

function minutesForm(m, changed) {
  const minutes = h('textarea', { rows: 6, maxlength: 50000 }, m.minutes || '');
  const decisions = h('textarea', { rows: 3, placeholder: 'one per line' }, m.decisions.join('\n'));
  const action = h('input', { placeholder: 'New action item', maxlength: 1000 });
  const due = h('input', { type: 'date', 'aria-label': 'Due' });
  const msg = h('div', { 'aria-live': 'assertive' });
  const label = m.final ? 'Record a correction' : 'Save the minutes (approvals start again)';
  const button = h('button', { type: 'submit' }, label);
  const form = h('form', { class: 'card' }, h('h2', {}, m.final ? 'Correct the final minutes' : 'Write the minutes'),
    field('Minutes', minutes), field('Decisions', decisions), h('div', { class: 'actions' }, action, due), msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    const actions = m.actions.slice();
    if (action.value) actions.push({ text: action.value, due: due.value ? new Date(`${due.value}T12:00:00`).toISOString() : null, done: false });
    const body = { version: m.version, minutes: minutes.value, decisions: decisions.value.split('\n').map((x) => x.trim()).filter(Boolean), actions };
    try {
      if (m.final) {
        const c = await post(`/api/v1/meetings/${m.id}/corrections`, body);
        toast('Correction recorded: it needs approval again', 'ok');
        location.hash = `#/meetings/${c.id}`;
      } else {
        changed(await put(`/api/v1/meetings/${m.id}/minutes`, body));
        toast('Minutes saved', 'ok');
      }
    } catch (err) {
      msg.append(failure(err));
    }
  });
  return form;
}
