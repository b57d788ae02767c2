// Sign-in with password and one-time code; TOTP enrolment with a QR code.
import { post } from '../api.js';
import { h, mount, field, failure, clear } from '../ui.js';
import { signedIn, session, loadSession } from '../main.js';

export async function signInPage() {
  document.getElementById('bar').hidden = true;
  const msg = h('div', { 'aria-live': 'assertive' });
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = h('input', { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card narrow', 'aria-label': 'Sign in' },
    h('h1', {}, 'Sign in to JSMS'),
    field('Username', user),
    field('Password', pass),
    field('One-time code', code, 'Six digits from your authenticator app (leave empty if you have not enrolled yet).'),
    msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    button.disabled = true;
    try {
      const info = await post('/api/v1/auth/sign-in', {
        username: user.value, password: pass.value, totp_code: code.value || null,
      });
      signedIn(info);
    } catch (err) {
      msg.append(failure(err));
      button.disabled = false;
    }
  });
  mount(form);
  user.focus();
}

export async function enrolPage() {
  document.getElementById('bar').hidden = true;
  const box = h('div', { class: 'card narrow' }, h('h1', {}, 'Set up your one-time codes'));
  mount(box);
  let enrolment;
  try {
    enrolment = await post('/api/v1/auth/totp/enrollment');
  } catch (e) {
    box.append(failure(e));
    return;
  }
  const qr = h('div', { class: 'qr', role: 'img', 'aria-label': 'QR code for your authenticator app' });
  const svg = new DOMParser().parseFromString(enrolment.qr_svg, 'image/svg+xml').documentElement;
  qr.append(document.importNode(svg, true));
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true });
  const msg = h('div', { 'aria-live': 'assertive' });
  const form = h('form', {}, field('Code from the app', code), msg, h('button', { type: 'submit' }, 'Confirm'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(msg);
    try {
      const info = await post('/api/v1/auth/totp/confirmation', { code: code.value });
      signedIn(info);
    } catch (err) {
      msg.append(failure(err));
    }
  });
  box.append(
    h('p', {}, `Signed in as ${session.user ? session.user.username : ''}. Scan this code with an authenticator app, then type the six digits it shows.`),
    qr,
    h('details', {}, h('summary', {}, 'Cannot scan? Enter the key by hand'), h('code', { class: 'secret' }, enrolment.secret)),
    form);
  code.focus();
  void loadSession;
}
