// The audit explorer (auditors): entries, "who knew", the latest signed checkpoint and its
// cosignatures, and the break-glass review queue.
import { get, post } from '../api.js';
import { h, mount, when, loading, failure, clear, table, words, field, act, badge } from '../ui.js';

const b64 = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
const hex = (bytes) => [...bytes].map((x) => x.toString(16).padStart(2, '0')).join('');

// Checks the log's Ed25519 signature on a C2SP signed note in the browser (WebCrypto),
// with the verifier key `name+hash+base64(0x01 ‖ public key)`.
export async function verifyCheckpoint(note, verifierKey) {
  try {
    // name+hash+key: the key's base64 may itself contain '+'.
    const [name, keyHash, ...rest] = verifierKey.split('+');
    const keyText = rest.join('+');
    const keyBytes = b64(keyText);
    if (keyBytes[0] !== 1 || keyBytes.length !== 33) return { ok: false, text: 'unknown key type' };
    const end = note.indexOf('\n\n');
    if (end < 0) return { ok: false, text: 'not a signed note' };
    const text = note.slice(0, end + 1);
    const line = note.slice(end + 2).split('\n').find((l) => l.startsWith(`— ${name} `));
    if (!line) return { ok: false, text: 'NOT SIGNED by the log key' };
    const sig = b64(line.split(' ')[2]);
    if (hex(sig.slice(0, 4)) !== keyHash) return { ok: false, text: 'signed by another key' };
    if (!crypto.subtle) return { ok: false, text: 'cannot be checked here (needs HTTPS); use jsms audit verify' };
    const key = await crypto.subtle.importKey('raw', keyBytes.slice(1), { name: 'Ed25519' }, false, ['verify']);
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(4), new TextEncoder().encode(text));
    return ok ? { ok, text: `valid (Ed25519, ${name})` } : { ok, text: 'INVALID: the checkpoint does not match its signature' };
  } catch (e) {
    return { ok: false, text: `cannot be checked: ${e.message}` };
  }
}

export async function auditPage() {
  const entries = h('section', { class: 'card' }, h('h2', {}, 'Entries'), loading());
  const checkpoint = h('section', { class: 'card' }, h('h2', {}, 'Latest checkpoint'), loading());
  const whoKnew = h('section', { class: 'card' }, h('h2', {}, 'Who knew'));
  const queue = h('section', { class: 'card' }, h('h2', {}, 'Break-glass reviews'), loading());
  mount(h('h1', {}, 'Audit'), checkpoint, queue, whoKnew, entries);

  Promise.all([get('/api/v1/audit/checkpoint', { headers: { Accept: 'text/plain' } }), get('/api/v1/audit/key')]).then(async ([note, key]) => {
    const lines = String(note).split('\n');
    const sigs = lines.filter((l) => l.startsWith('— '));
    const logName = key.verifier_key.split('+')[0];
    const status = await verifyCheckpoint(String(note), key.verifier_key);
    clear(checkpoint).append(h('h2', {}, 'Latest checkpoint'),
      h('dl', {}, h('dt', {}, 'Log'), h('dd', {}, lines[0] || '—'), h('dt', {}, 'Entries'), h('dd', {}, lines[1] || '—'),
        h('dt', {}, 'Root hash'), h('dd', { class: 'mono' }, lines[2] || '—'),
        h('dt', {}, 'Log signature'), h('dd', { class: status.ok ? 'verified' : 'error', dataset: { verified: String(status.ok) } }, status.text),
        h('dt', {}, 'Cosignatures'), h('dd', {}, (() => {
          const witnesses = sigs.map((l) => l.slice(2).split(' ')[0]).filter((n) => n !== logName);
          return witnesses.length ? witnesses.join(', ') : 'none yet (no witness has cosigned this checkpoint)';
        })())),
      h('p', { class: 'muted' }, 'The whole log verifies offline with: jsms audit verify'));
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
