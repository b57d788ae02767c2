// The JSMS operations web application: a shell (navigation by role, session), a hash
// router, and pages that each load their data, show loading, empty and error states, and
// turn API errors into plain messages. No inline script; no protected data in URLs (only
// ids); the server sends `Cache-Control: no-store` and a strict Content-Security-Policy.

import { get, post, setCsrf, whenExpired } from './api.js';
import { h, clear, mount, failure, when } from './ui.js';
import { signInPage, enrolPage } from './pages/signin.js';
import { opsPage } from './pages/ops.js';
import { boardPage, movementPage, newMovementPage } from './pages/movements.js';
import { alertsPage } from './pages/alerts.js';
import { zonesPage, zoneEditor } from './pages/zones.js';
import { registryPage } from './pages/registry.js';
import { incidentsPage, incidentPage, reportIncidentPage } from './pages/incidents.js';
import { intelPage, newReportPage, reportPage } from './pages/intel.js';
import { decisionsPage, decisionPage, proposeDecisionPage } from './pages/decisions.js';
import { dashboardPage, meetingsPage, meetingPage, newMeetingPage } from './pages/meetings.js';
import { auditPage } from './pages/audit.js';
import { adminPage } from './pages/admin.js';

export const session = { user: null, info: null };
let cleanup = [];

export function onLeave(f) { cleanup.push(f); }

export function hasRole(...roles) {
  return !!session.user && session.user.roles.some((r) => roles.includes(r));
}

const SECTIONS = [
  { path: '#/ops', title: 'Operations', roles: null },
  { path: '#/movements', title: 'Movements', roles: null },
  { path: '#/alerts', title: 'Alerts', roles: null },
  { path: '#/zones', title: 'Threat zones', roles: null },
  { path: '#/intel', title: 'Intelligence', roles: null },
  { path: '#/incidents', title: 'Incidents', roles: null },
  { path: '#/decisions', title: 'Decisions', roles: null },
  { path: '#/meetings', title: 'Meetings', roles: null },
  { path: '#/dashboard', title: 'Joint dashboard', roles: null },
  { path: '#/registry', title: 'Registry', roles: null },
  { path: '#/audit', title: 'Audit', roles: ['auditor'] },
  { path: '#/admin', title: 'Administration', roles: ['party_admin'] },
];

function shell() {
  const bar = document.getElementById('bar');
  bar.hidden = !session.user;
  const nav = clear(document.getElementById('nav'));
  if (!session.user) return;
  for (const s of SECTIONS) {
    if (s.roles && !hasRole(...s.roles)) continue;
    const a = h('a', { href: s.path }, s.title);
    if (location.hash.startsWith(s.path)) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  clear(document.getElementById('who')).append(
    `${session.user.display_name} · ${session.user.roles.map((r) => r.replace(/_/g, ' ')).join(', ')}`,
  );
  refreshNotes();
}

// Notifications: the count on the bell (refreshed on every page and every minute), the list
// in a panel; opening one marks it read and goes where it points.
const bell = document.getElementById('bell');
const notes = document.getElementById('notes');
let noteList = { items: [], unread: 0 };

async function refreshNotes() {
  if (!session.user) return;
  try { noteList = await get('/api/v1/me/notifications'); } catch { return; }
  bell.textContent = noteList.unread ? `Notifications (${noteList.unread})` : 'Notifications';
  bell.classList.toggle('unread', noteList.unread > 0);
  if (!notes.hidden) renderNotes();
}

function renderNotes() {
  clear(notes).append(h('h2', {}, 'Notifications'));
  if (!noteList.items.length) { notes.append(h('p', { class: 'empty' }, 'Nothing new.')); return; }
  notes.append(h('ul', {}, noteList.items.map((n) => {
    const a = h('a', { href: n.link.startsWith('#/') ? n.link : '#/ops' }, n.text);
    a.addEventListener('click', async () => {
      closeNotes();
      if (!n.read) { try { await post(`/api/v1/me/notifications/${n.id}/read`); } catch { /* shown again */ } }
      refreshNotes();
    });
    return h('li', { class: n.read ? '' : 'unread' }, a, ' ', when(n.at));
  })));
}

function closeNotes() { notes.hidden = true; bell.setAttribute('aria-expanded', 'false'); }

bell.addEventListener('click', async () => {
  if (!notes.hidden) { closeNotes(); return; }
  await refreshNotes();
  renderNotes();
  notes.hidden = false;
  bell.setAttribute('aria-expanded', 'true');
  const first = notes.querySelector('a');
  if (first) first.focus();
});
notes.addEventListener('keydown', (e) => { if (e.key === 'Escape') { closeNotes(); bell.focus(); } });
setInterval(refreshNotes, 60_000);

export async function loadSession() {
  try {
    const info = await get('/api/v1/auth/session');
    session.info = info;
    session.user = info.user;
    setCsrf(info.csrf_token);
  } catch {
    session.info = null;
    session.user = null;
  }
}

// Where to go after signing in again (only the hash: ids, never protected data).
let returnTo = null;

whenExpired(() => {
  if (!session.user && !returnTo) return;
  session.user = null;
  returnTo = location.hash && !location.hash.startsWith('#/sign-in') ? location.hash : '#/ops';
  location.hash = '#/sign-in';
});

export function signedIn(info) {
  session.info = info;
  session.user = info.user;
  setCsrf(info.csrf_token);
  const target = returnTo || '#/ops';
  returnTo = null;
  if (location.hash === target) route();
  else location.hash = target;
}

async function route() {
  for (const f of cleanup) { try { f(); } catch { /* ignore */ } }
  cleanup = [];
  const hash = location.hash || '#/ops';
  const parts = hash.replace(/^#\//, '').split('/');
  if (!session.user && parts[0] !== 'sign-in') {
    await loadSession();
    if (!session.user) {
      returnTo = hash;
      location.hash = '#/sign-in';
      return;
    }
  }
  if (session.user && session.info.mfa === 'enrollment_required' && parts[0] !== 'enrol') {
    location.hash = '#/enrol';
    return;
  }
  shell();
  document.title = 'JSMS';
  try {
    switch (parts[0]) {
      case 'sign-in': await signInPage(); break;
      case 'enrol': await enrolPage(); break;
      case 'ops': case '': await opsPage(); break;
      case 'movements':
        if (parts[1] === 'new') await newMovementPage();
        else if (parts[1]) await movementPage(parts[1]);
        else await boardPage();
        break;
      case 'alerts': await alertsPage(); break;
      case 'zones':
        if (parts[1]) await zoneEditor(parts[1]);
        else await zonesPage();
        break;
      case 'registry': await registryPage(parts[1] || 'persons'); break;
      case 'dashboard': await dashboardPage(); break;
      case 'meetings':
        if (parts[1] === 'new') await newMeetingPage();
        else if (parts[1]) await meetingPage(parts[1]);
        else await meetingsPage();
        break;
      case 'decisions':
        if (parts[1] === 'new') await proposeDecisionPage();
        else if (parts[1]) await decisionPage(parts[1]);
        else await decisionsPage();
        break;
      case 'intel':
        if (parts[1] === 'new') await newReportPage();
        else if (parts[1]) await reportPage(parts[1]);
        else await intelPage();
        break;
      case 'incidents':
        if (parts[1] === 'new') await reportIncidentPage();
        else if (parts[1]) await incidentPage(parts[1]);
        else await incidentsPage();
        break;
      case 'audit': await auditPage(); break;
      case 'admin': await adminPage(); break;
      default: mount(h('h1', {}, 'Not found'), h('p', {}, 'This page does not exist.'));
    }
  } catch (e) {
    mount(failure(e));
  }
  const main = document.getElementById('main');
  if (main && document.activeElement === document.body) main.focus({ preventScroll: true });
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await post('/api/v1/auth/sign-out'); } catch { /* signed out anyway */ }
  session.user = null;
  returnTo = null;
  location.hash = '#/sign-in';
});

window.addEventListener('hashchange', route);
route();
