// Administration (party administrators): users of the administrator's own party (enable,
// disable, MFA reset) and API tokens.
import { get, post, del } from '../api.js';
import { h, mount, when, loading, failure, clear, table, words, field, act, toast } from '../ui.js';

export async function adminPage() {
  const users = h('section', { class: 'card' }, h('h2', {}, 'Users of your party'), loading());
  const tokens = h('section', { class: 'card' }, h('h2', {}, 'API tokens'), loading());
  mount(h('h1', {}, 'Administration'), users, tokens);
  const loadUsers = async () => {
    try {
      const list = (await get('/api/v1/users')).items;
      clear(users).append(h('h2', {}, 'Users of your party'), table([
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
