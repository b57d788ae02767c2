// Administration (party administrators): users of the administrator's own party (enable,
// disable, MFA reset), the privilege requests a second administrator decides (a new user,
// a role, a raised clearance: never one's own), and API tokens.
import { get, post, put, del } from '../api.js';
import { h, mount, when, loading, failure, clear, table, words, field, act, toast } from '../ui.js';

export async function adminPage() {
  const users = h('section', { class: 'card' }, h('h2', {}, 'Users of your party'), loading());
  const tokens = h('section', { class: 'card' }, h('h2', {}, 'API tokens'), loading());
  const authorities = h('section', { class: 'card' }, h('h2', {}, 'Decision authorities'), loading());
  const requests = h('section', { class: 'card' }, h('h2', {}, 'Privilege requests'), loading());
  mount(h('h1', {}, 'Administration'), requests, users, authorities, tokens);
  // Changes that grant privilege wait here for a second administrator of the party, who is
  // neither the requester nor the user concerned.
  const loadRequests = async () => {
    try {
      const [me, list] = await Promise.all([get('/api/v1/me'), get('/api/v1/privilege-requests')]);
      const decide = (r) => {
        if (r.state !== 'pending') return words(r.state);
        if (r.requested_by === me.id || r.user === me.id) return 'awaits another administrator';
        const ok = h('button', { type: 'button' }, 'Approve');
        ok.addEventListener('click', () => act(ok, async () => {
          await post(`/api/v1/privilege-requests/${r.id}/approval`);
          await Promise.all([loadRequests(), loadUsers()]);
        }, 'Approved and applied'));
        const no = h('button', { type: 'button', class: 'danger' }, 'Reject');
        no.addEventListener('click', () => act(no, async () => {
          await post(`/api/v1/privilege-requests/${r.id}/rejection`, { note: 'rejected by a second administrator' });
          await loadRequests();
        }, 'Rejected'));
        return h('span', {}, ok, ' ', no);
      };
      clear(requests).append(h('h2', {}, 'Privilege requests'),
        h('p', { class: 'muted' }, 'A new user, a role, a raised clearance or a compartment takes effect only when a second administrator of your party approves it.'),
        table([
          { title: 'Change', cell: (r) => (r.kind === 'create_user' ? `new user ${r.username}` : 'profile change') },
          { title: 'Grants', cell: (r) => r.grants.join(', ') },
          { title: 'Asked', cell: (r) => when(r.requested_at) },
          { title: 'Decision', cell: decide },
        ], list, { label: 'Privilege requests' }));
    } catch (e) {
      clear(requests).append(h('h2', {}, 'Privilege requests'), failure(e));
    }
  };
  loadRequests();
  // Who approves bilateral decisions for this party: named coordinators and liaison
  // officers, or (none named) all of them.
  const loadAuthorities = async () => {
    try {
      const me = await get('/api/v1/me');
      const [current, list] = await Promise.all([get('/api/v1/decisions/authorities'), get('/api/v1/users')]);
      const mine = current.items.find((p) => p.party === me.party_id);
      const named = new Set(mine && mine.named ? mine.users.map((u) => u.id) : []);
      const eligible = list.items.filter((u) => !u.disabled && u.roles.some((r) => r === 'movement_coordinator' || r === 'liaison_officer'));
      const boxes = eligible.map((u) => h('input', { type: 'checkbox', value: u.id, checked: named.has(u.id) }));
      const save = h('button', { type: 'button' }, 'Save the authorities');
      save.addEventListener('click', () => act(save, async () => {
        await put('/api/v1/decisions/authorities', { users: boxes.filter((b) => b.checked).map((b) => b.value) });
        await loadAuthorities();
      }, 'Authorities saved: new proposals take them'));
      clear(authorities).append(h('h2', {}, 'Decision authorities'),
        h('p', { class: 'muted' }, mine && mine.named
          ? `Named: ${mine.users.map((u) => u.name).join(', ') || 'none enabled'}.`
          : 'None named: every movement coordinator and liaison officer of your party approves. Tick the ones who should; none ticked returns to that default.'),
        h('fieldset', {}, h('legend', {}, 'Who approves decisions for your party'),
          boxes.map((b, i) => h('label', { class: 'check' }, b, ` ${eligible[i].display_name} (${eligible[i].roles.map(words).join(', ')})`))),
        save);
    } catch (e) {
      clear(authorities).append(h('h2', {}, 'Decision authorities'), failure(e));
    }
  };
  loadAuthorities();
  const loadUsers = async () => {
    try {
      const list = (await get('/api/v1/users')).items;
      const add = h('button', { type: 'button' }, 'Add a user');
      add.addEventListener('click', () => act(add, newUserForm));
      clear(users).append(h('h2', {}, 'Users of your party'), add, table([
        { title: 'User', cell: (u) => `${u.display_name} (${u.username})` },
        { title: 'Roles', cell: (u) => u.roles.map(words).join(', ') },
        { title: 'MFA', cell: (u) => (u.mfa_enrolled ? 'enrolled' : 'not enrolled') },
        { title: 'Status', cell: (u) => (u.disabled ? 'disabled' : 'active') },
        { title: 'Actions', cell: (u) => userActions(u) },
      ], list, { label: 'Users' }));
    } catch (e) {
      clear(users).append(h('h2', {}, 'Users of your party'), failure(e));
    }
  };
  const ROLES = ['company_security_officer', 'movement_coordinator', 'escort_commander', 'liaison_officer', 'intelligence_analyst', 'auditor', 'party_admin'];
  const newUserForm = async () => {
    const me = await get('/api/v1/me');
    const orgs = (await get('/api/v1/organisations')).items.filter((o) => o.party_id === me.party_id);
    const username = h('input', { required: true, maxlength: 64, autocomplete: 'off' });
    const display = h('input', { required: true, maxlength: 200 });
    const org = h('select', {}, orgs.map((o) => h('option', { value: o.id }, o.name)));
    const roles = ROLES.map((r) => h('input', { type: 'checkbox', value: r }));
    const clearance = h('select', {}, ['unclassified', 'restricted', 'confidential', 'secret'].map((c) => h('option', { value: c }, words(c))));
    const compartments = h('input', { placeholder: 'comma-separated', maxlength: 500 });
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    const password = h('input', { required: true, minlength: 12, autocomplete: 'new-password',
      value: [...crypto.getRandomValues(new Uint8Array(20))].map((b) => alphabet[b % alphabet.length]).join('') });
    const msg = h('div', { 'aria-live': 'assertive' });
    const form = h('form', { class: 'card' }, h('h2', {}, 'Add a user'),
      h('div', { class: 'grid2' }, field('Username', username), field('Display name', display), field('Organisation', org), field('Clearance', clearance),
        field('Compartments', compartments), field('Initial password (give it to the user; TOTP is enrolled at first sign-in)', password)),
      h('fieldset', {}, h('legend', {}, 'Roles'), roles.map((r) => h('label', { class: 'check' }, r, ` ${words(r.value)}`))),
      msg, h('button', { type: 'submit' }, 'Ask for the user'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(msg);
      try {
        await post('/api/v1/users', {
          username: username.value, display_name: display.value, org_id: org.value,
          roles: roles.filter((r) => r.checked).map((r) => r.value), clearance: clearance.value,
          compartments: compartments.value.split(',').map((c) => c.trim()).filter(Boolean), password: password.value,
        });
        toast('Requested: a second administrator of your party approves the new user', 'ok');
        form.remove();
        await Promise.all([loadUsers(), loadRequests()]);
      } catch (err) {
        msg.append(failure(err));
      }
    });
    users.after(form);
    username.focus();
  };
  const userActions = (u) => {
    const toggle = h('button', { type: 'button' }, u.disabled ? 'Enable' : 'Disable');
    toggle.addEventListener('click', () => act(toggle, async () => { await post(`/api/v1/users/${u.id}/${u.disabled ? 'enable' : 'disable'}`); await loadUsers(); }, 'Done'));
    const reset = h('button', { type: 'button' }, 'Reset MFA');
    reset.addEventListener('click', () => act(reset, async () => { await post(`/api/v1/users/${u.id}/reset-mfa`); await loadUsers(); }, 'MFA reset: the user enrols again at next sign-in'));
    return h('span', {}, toggle, ' ', reset);
  };
  const loadTokens = async () => {
    try {
      const list = await get('/api/v1/api-tokens');
      const items = Array.isArray(list) ? list : list.items || [];
      const name = h('input', { required: true, maxlength: 100 });
      const scope = h('select', {}, ['registry_read', 'tracking_ingest', 'intel_exchange'].map((s) => h('option', { value: s }, words(s))));
      const days = h('input', { type: 'number', min: 1, max: 365, value: 30 });
      const form = h('form', { class: 'grid2' }, field('Name', name), field('Scope', scope), field('Valid for (days)', days), h('button', { type: 'submit' }, 'Issue a token'));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          const me = await get('/api/v1/me');
          const t = await post('/api/v1/api-tokens', { name: name.value, org_id: me.org_id, scopes: [scope.value], expires_in_days: Number(days.value) });
          toast('Token issued: copy it now, it is shown once', 'ok');
          tokens.append(h('p', { class: 'secret' }, 'New token (shown once): ', h('code', {}, t.token || t.secret || '')));
          await loadTokens();
        } catch (err) {
          toast(err.message, 'error');
        }
      });
      clear(tokens).append(h('h2', {}, 'API tokens'), table([
        { title: 'Name', cell: (t) => t.name },
        { title: 'Scopes', cell: (t) => t.scopes.map(words).join(', ') },
        { title: 'Expires', cell: (t) => when(t.expires_at) },
        { title: 'Last used', cell: (t) => when(t.last_used_at) },
        { title: 'Revoked', cell: (t) => (t.revoked_at ? when(t.revoked_at) : revoke(t)) },
      ], items, { label: 'API tokens' }), form);
    } catch (e) {
      clear(tokens).append(h('h2', {}, 'API tokens'), failure(e));
    }
  };
  const revoke = (t) => {
    const b = h('button', { type: 'button', class: 'danger' }, 'Revoke');
    b.addEventListener('click', () => act(b, async () => { await del(`/api/v1/api-tokens/${t.id}`); await loadTokens(); }, 'Revoked'));
    return b;
  };
  await Promise.all([loadUsers(), loadTokens()]);
}
