// The audit explorer (auditors): entries, "who knew", the latest signed checkpoint and its
// cosignatures, and the break-glass review queue.
import { get, post } from '../api.js';
import { h, mount, when, loading, failure, clear, table, words, field, act, badge } from '../ui.js';

export async function auditPage() {
  const entries = h('section', { class: 'card' }, h('h2', {}, 'Entries'), loading());
  const checkpoint = h('section', { class: 'card' }, h('h2', {}, 'Latest checkpoint'), loading());
  const whoKnew = h('section', { class: 'card' }, h('h2', {}, 'Who knew'));
  const queue = h('section', { class: 'card' }, h('h2', {}, 'Break-glass reviews'), loading());
  mount(h('h1', {}, 'Audit'), checkpoint, queue, whoKnew, entries);

  get('/api/v1/audit/checkpoint', { headers: { Accept: 'text/plain' } }).then((note) => {
    const lines = String(note).split('\n');
    const sigs = lines.filter((l) => l.startsWith('— '));
    clear(checkpoint).append(h('h2', {}, 'Latest checkpoint'),
      h('dl', {}, h('dt', {}, 'Log'), h('dd', {}, lines[0] || '—'), h('dt', {}, 'Entries'), h('dd', {}, lines[1] || '—'),
        h('dt', {}, 'Root hash'), h('dd', { class: 'mono' }, lines[2] || '—'),
        h('dt', {}, 'Signatures'), h('dd', {}, sigs.length ? h('ul', { class: 'plain' }, sigs.map((s) => h('li', {}, `${s.slice(2).split(' ')[0]}${sigs.indexOf(s) === 0 ? ' (this log)' : ' (cosignature)'}`))) : '—')),
      h('p', { class: 'muted' }, 'Verify offline with: jsms audit verify'));
  }).catch((e) => clear(checkpoint).append(h('h2', {}, 'Latest checkpoint'), failure(e)));

  const loadQueue = () => get('/api/v1/break-glass').then((list) => {
    clear(queue).append(h('h2', {}, 'Break-glass reviews'), table([
      { title: 'Who', cell: (b) => b.principal },
      { title: 'What', cell: (b) => b.resource },
      { title: 'Why', cell: (b) => b.reason },
      { title: 'When', cell: (b) => when(b.created_at) },
      { title: 'Verdict', cell: (b) => (b.verdict ? badge(b.verdict) : review(b)) },
    ], list, { label: 'Break-glass grants' }));
  }).catch((e) => clear(queue).append(h('h2', {}, 'Break-glass reviews'), failure(e)));
  const review = (b) => {
    const note = h('input', { 'aria-label': 'Review note', placeholder: 'Note', maxlength: 1000 });
    const ok = h('button', { type: 'button' }, 'Justified');
    const bad = h('button', { type: 'button', class: 'danger' }, 'Unjustified');
    for (const [btn, verdict] of [[ok, 'justified'], [bad, 'unjustified']]) {
      btn.addEventListener('click', () => act(btn, async () => { await post(`/api/v1/break-glass/${b.id}/review`, { verdict, note: note.value }); await loadQueue(); }, 'Reviewed'));
    }
    return h('span', {}, note, ok, bad);
  };
  loadQueue();

  const resource = h('input', { placeholder: 'person:<id> or movement:<id>', required: true });
  const out = h('div');
  const form = h('form', {}, field('Resource', resource), h('button', { type: 'submit' }, 'Who knew'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(out).append(loading());
    try {
      const r = await get(`/api/v1/audit/who-knew?resource=${encodeURIComponent(resource.value.trim())}`);
      clear(out).append(h('p', {}, `${r.principals.length} principal(s) saw it.`), table([
        { title: 'Who', cell: (a) => a.name || a.principal },
        { title: 'Party', cell: (a) => a.party || '—' },
        { title: 'When', cell: (a) => when(a.time) },
        { title: 'How', cell: (a) => `${words(a.action)} (${words(a.channel)})` },
        { title: 'Fields', cell: (a) => a.fields.join(', ') },
      ], r.accesses, { label: 'Accesses' }));
    } catch (err) {
      clear(out).append(failure(err));
    }
  });
  whoKnew.append(form);

  let from = null;
  const more = h('button', { type: 'button' }, 'Older entries');
  const rows = h('div');
  const page = async () => {
    const size = (await get('/api/v1/audit/entries?limit=1')).size;
    const start = from === null ? Math.max(0, size - 50) : Math.max(0, from - 50);
    const p = await get(`/api/v1/audit/entries?from=${start}&limit=${from === null ? 50 : from - start}`);
    from = start;
    rows.append(table([
      { title: '#', cell: (x) => String(x.index) },
      { title: 'When', cell: (x) => when(Math.floor(x.entry.time_ms / 1000)) },
      { title: 'Who', cell: (x) => x.entry.principal_name || x.entry.principal },
      { title: 'Action', cell: (x) => words(x.entry.action) },
      { title: 'Resource', cell: (x) => x.entry.resource || '—' },
      { title: 'Outcome', cell: (x) => words(x.entry.outcome) },
    ], p.entries.slice().reverse(), { label: 'Audit entries' }));
    more.hidden = start === 0;
  };
  more.addEventListener('click', () => act(more, page));
  try {
    await page();
    clear(entries).append(h('h2', {}, 'Entries (newest first)'), rows, more);
  } catch (e) {
    clear(entries).append(h('h2', {}, 'Entries'), failure(e));
  }
}
