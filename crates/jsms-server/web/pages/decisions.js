// Bilateral decisions: the list, proposing one, and a decision's page where a designated
// authority approves by signing the exact text with this device's own Ed25519 key (kept in
// the browser, not extractable; its public half is registered once with the server).
import { get, post, put, upload } from '../api.js';
import { h, mount, when, badge, loading, failure, clear, field, table, act, words, toast } from '../ui.js';
import { hasRole, session } from '../main.js';

const KINDS = ['technical_assistance', 'joint_operation', 'deployment', 'procedure_change', 'other'];
const b64 = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
const toB64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

// The device's key pair for this user, from IndexedDB (created on first use).
function store() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('jsms-signing-keys', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('keys');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
async function stored(username) {
  const db = await store();
  return new Promise((resolve, reject) => {
    const r = db.transaction('keys').objectStore('keys').get(username);
    r.onsuccess = () => resolve(r.result || null);
    r.onerror = () => reject(r.error);
  });
}
async function keep(username, pair) {
  const db = await store();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('keys', 'readwrite');
    tx.objectStore('keys').put(pair, username);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}

async function deviceKey(registered) {
  const username = session.user.username;
  let pair = await stored(username);
  if (!pair) {
    if (registered) throw new Error('Your signing key is registered from another device or browser; approve from there.');
    pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    await keep(username, pair);
  }
  if (!registered) {
    const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
    await put('/api/v1/me/signing-key', { public_key: toB64(raw) });
  }
  return pair;
}

export async function decisionsPage() {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Bilateral decisions'));
  if (hasRole('movement_coordinator', 'liaison_officer', 'intelligence_analyst')) head.append(h('a', { class: 'button', href: '#/decisions/new' }, 'Propose a decision'));
  const list = h('div', {}, loading());
  const authorities = h('section', { class: 'card' }, h('h2', {}, 'Who approves'), loading());
  mount(head, list, authorities);
  get('/api/v1/decisions/authorities').then((a) => {
    clear(authorities).append(h('h2', {}, 'Who approves'),
      h('p', { class: 'muted' }, 'New proposals take these authorities; a party\'s administrators name them (otherwise its movement coordinators and liaison officers). The proposer never approves their own proposal.'),
      table([
        { title: 'Party', cell: (p) => p.party_name },
        { title: 'Authorities', cell: (p) => p.users.map((u) => u.name).join(', ') || '—' },
        { title: 'Named', cell: (p) => (p.named ? 'by its administrators' : 'default') },
      ], a.items, { label: 'Decision authorities' }));
  }).catch((e) => clear(authorities).append(h('h2', {}, 'Who approves'), failure(e)));
  try {
    const items = (await get('/api/v1/decisions')).items;
    clear(list).append(table([
      { title: 'Title', cell: (d) => d.title },
      { title: 'Kind', cell: (d) => words(d.kind) },
      { title: 'State', cell: (d) => badge(d.state, d.state) },
      { title: 'Approvals', cell: (d) => d.rules.map((r) => `${r.party_name}: ${r.approved}/${r.required}`).join(' · ') },
    ], items, { label: 'Decisions', onRow: (d) => { location.hash = `#/decisions/${d.id}`; } }));
  } catch (e) {
    clear(list).append(failure(e));
  }
}

export async function proposeDecisionPage() {
  const kind = h('select', {}, KINDS.map((k) => h('option', { value: k }, words(k))));
  const title = h('input', { required: true, maxlength: 200 });
  const text = h('textarea', { required: true, rows: 8, maxlength: 20000 });
  const msg = h('div', { 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, 'Propose');
  const form = h('form', { class: 'card' }, h('h1', {}, 'Propose a decision'),
    h('p', { class: 'muted' }, 'Every party must approve: one designated authority each (two each for deployments). Changing the text later voids the approvals given.'),
    field('Kind', kind), field('Title', title), field('Text (exactly what is approved)', text), msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    button.disabled = true;
    try {
      const d = await post('/api/v1/decisions', { kind: kind.value, title: title.value, text: text.value });
      toast('Proposed', 'ok');
      location.hash = `#/decisions/${d.id}`;
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
  mount(form);
}

export async function decisionPage(id) {
  mount(loading());
  let d = await get(`/api/v1/decisions/${id}`);
  const render = () => {
    const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
    const reason = h('input', { 'aria-label': 'Reason', placeholder: 'Reason (to reject)', maxlength: 2000 });
    const changed = (u) => { d = u; render(); };
    if (d.allowed.includes('approve')) {
      const approve = h('button', { type: 'button' }, 'Approve (sign with this device)');
      approve.addEventListener('click', () => act(approve, async () => {
        if (!crypto.subtle) throw new Error('Signing needs a secure connection (HTTPS).');
        const pair = await deviceKey(d.key_registered);
        const fresh = await get(`/api/v1/decisions/${id}`);
        const message = b64(fresh.to_sign.message);
        if (!new TextDecoder().decode(message).includes(fresh.text)) throw new Error('What the server asks to sign is not the text shown: not signed.');
        const signature = await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, message);
        changed(await post(`/api/v1/decisions/${id}/actions`, { version: fresh.version, action: 'approve', at: fresh.to_sign.at, signature: toB64(signature) }));
      }, 'Approved: signed with your key'));
      const reject = h('button', { type: 'button', class: 'danger' }, 'Reject');
      reject.addEventListener('click', () => act(reject, async () => changed(await post(`/api/v1/decisions/${id}/actions`, { version: d.version, action: 'reject', reason: reason.value })), 'Rejected'));
      actions.append(approve, reject, reason);
    }
    let attach = null;
    let revise = null;
    if (d.allowed.includes('revise')) {
      const file = h('input', { type: 'file', 'aria-label': 'File to attach' });
      const send = h('button', { type: 'button' }, 'Attach');
      send.addEventListener('click', () => act(send, async () => {
        const f = file.files[0];
        if (!f) throw new Error('Choose a file first.');
        if (f.size > 4 * 1024 * 1024) throw new Error('At most 4 MiB per attachment.');
        changed(await upload(`/api/v1/decisions/${id}/attachments?name=${encodeURIComponent(f.name)}&version=${d.version}`, f));
      }, 'Attached: a new revision, to be approved again'));
      attach = h('div', { class: 'actions' }, file, send);
      const text = h('textarea', { rows: 6, maxlength: 20000 });
      text.value = d.text;
      const save = h('button', { type: 'button' }, 'Save the new text');
      save.addEventListener('click', () => act(save, async () => changed(await post(`/api/v1/decisions/${id}/actions`, { version: d.version, action: 'revise', text: text.value })), 'Revised: approvals given so far no longer count'));
      revise = h('details', {}, h('summary', {}, 'Change the text'), field('New text', text), save);
    }
    if (d.allowed.includes('withdraw')) {
      const withdraw = h('button', { type: 'button', class: 'danger' }, 'Withdraw');
      withdraw.addEventListener('click', () => act(withdraw, async () => changed(await post(`/api/v1/decisions/${id}/actions`, { version: d.version, action: 'withdraw' })), 'Withdrawn'));
      actions.append(withdraw);
    }
    const download = h('button', { type: 'button' }, 'Export for offline verification');
    download.addEventListener('click', () => act(download, async () => {
      const data = await get(`/api/v1/decisions/${id}/export`);
      const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })), download: `decision-${id}.json` });
      a.click();
    }, 'Exported: check it with jsms decision verify FILE'));
    actions.append(download);
    mount(
      h('div', { class: 'page-head' }, h('h1', {}, d.title), badge(words(d.kind)), badge(d.state, d.state)),
      actions,
      h('section', { class: 'card' }, h('h2', {}, `Text (revision ${d.revision})`), h('pre', { class: 'brief' }, d.text),
        h('p', { class: 'muted mono' }, `sha256:${d.digest}`), revise),
      h('section', { class: 'card' }, h('h2', {}, 'Attachments'),
        h('p', { class: 'muted' }, 'Each attachment\'s SHA-256 is part of what approvers sign; adding one voids the approvals given so far.'),
        d.attachments.length ? h('ul', {}, d.attachments.map((a) => h('li', {},
          h('a', { href: `/api/v1/decisions/${id}/attachments/${a.sha256}`, download: a.name }, a.name || a.sha256),
          ` (${a.size} bytes) `, h('span', { class: 'muted mono' }, `sha256:${a.sha256}`)))) : h('p', { class: 'empty' }, 'No attachments.'),
        attach),
      h('section', { class: 'card' }, h('h2', {}, 'Approvals'),
        table([
          { title: 'Party', cell: (r) => r.party_name },
          { title: 'Approved', cell: (r) => `${r.approved} of ${r.required}` },
          { title: 'Designated authorities', cell: (r) => r.authorities.join(', ') },
        ], d.rules, { label: 'Rules' }),
        d.approvals.length ? h('ul', { class: 'log' }, d.approvals.map((a) => h('li', {}, when(a.at), ` ${a.name}${a.valid ? ' — valid signature' : ' — no longer counts (older revision or expired)'}`))) : null,
        d.rejection ? h('p', { class: 'error' }, `Rejected: ${d.rejection}`) : null),
    );
  };
  render();
}
