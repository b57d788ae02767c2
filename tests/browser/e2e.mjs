// The issue-7 scenario in headless Chromium: a company officer signs in with TOTP and
// requests a movement; a coordinator assesses and approves it, a second approves it (four
// eyes), an analyst draws a zone across its route on the map (the movement records the
// route as affected), the coordinator plans it choosing an alternative and releases it; the
// escort commander reads the brief; the liaison officer sees the status but not the route; a
// simulated convoy moves on the operations map; an alert appears live and is acknowledged.
// Also: TOTP enrolment with the QR code, the audit explorer. Screenshots of the main pages
// go to $JSMS_SCREENSHOTS.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { URL, browser, newPage, signIn, shot, check, totp, nextCode } from './lib.mjs';

const logins = Object.fromEntries(JSON.parse(readFileSync(process.env.JSMS_LOGINS, 'utf8')).map((l) => [l.username, l]));
const errors = [];
// The operator's raster tiles (JSMS_TILE_URL points here): a plain 1×1 PNG for every tile.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGN48eQWAAVeAqfwhXw/AAAAAElFTkSuQmCC', 'base64');
let tileRequests = 0;
const tiles = createServer((req, res) => { tileRequests += 1; res.writeHead(200, { 'content-type': 'image/png' }); res.end(PNG); });
await new Promise((r) => tiles.listen(Number(process.env.JSMS_TILE_PORT), '127.0.0.1', r));
const b = await browser();
const step = (s) => console.log(`· ${s}`);

async function badge(page, text) {
  await page.locator('.page-head .badge', { hasText: text }).first().waitFor({ timeout: 15000 });
}

// Opens a page of the application afresh (a hash change to the same page would not reload).
async function visit(page, hash) {
  await page.goto('about:blank');
  await page.goto(`${URL}/${hash}`);
}

// Selects the option whose text contains `text`.
async function choose(select, text) {
  const value = await select.locator('option', { hasText: text }).first().getAttribute('value');
  await select.selectOption(value);
}

async function mapPoints(page, canvas, lonlats) {
  const box = await canvas.boundingBox();
  const xy = await canvas.evaluate((c, pts) => pts.map((p) => c.jsmsMap.toScreen(p[0], p[1])), lonlats);
  return xy.map(([x, y]) => [box.x + x, box.y + y]);
}

try {
  // 1. The company officer requests a movement.
  step('officer requests a movement');
  const officer = await newPage(b, errors);
  await signIn(officer, logins['pn.officer']);
  await officer.waitForFunction(() => document.querySelector('.ops-map canvas')?.dataset.roads === 'yes');
  await officer.waitForTimeout(500);
  check(tileRequests > 0, 'the map asked the configured tile server for its background');
  await shot(officer, '01-operations-officer');
  // By keyboard: from the skip link, the sections.
  await officer.locator('a.skip').focus();
  check(await officer.evaluate(() => document.activeElement.textContent) === 'Skip to content', 'the skip link takes focus');
  await officer.keyboard.press('Tab');
  await officer.keyboard.press('Tab');
  check(await officer.evaluate(() => document.activeElement.textContent) === 'Movements', 'then the sections');
  await officer.keyboard.press('Enter');
  await officer.locator('h1', { hasText: 'Movements' }).waitFor();
  await visit(officer, `#/movements/new`);
  await choose(officer.getByLabel('Protected persons'), 'Wen Lianhe');
  await choose(officer.getByLabel('From'), 'Kharadar');
  await choose(officer.getByLabel('To', { exact: true }), 'Staff Residence');
  await officer.getByLabel('Purpose').fill('Weekly coordination meeting');
  await shot(officer, '02-request-form');
  await officer.getByRole('button', { name: 'Create the request' }).click();
  await badge(officer, 'draft');
  const id = officer.url().split('#/movements/')[1];
  check(/^[0-9a-f-]{36}$/.test(id), `movement id in the URL: ${officer.url()}`);
  await officer.getByRole('button', { name: 'Submit' }).click();
  await badge(officer, 'submitted');

  // 2. Assessment and four-eyes approval.
  step('coordinators assess and approve');
  const coordinator = await newPage(b, errors);
  await signIn(coordinator, logins['hn.coordinator']);
  await visit(coordinator, `#/movements`);
  await coordinator.locator('.board .card.movement').first().waitFor();
  await shot(coordinator, '03-movement-board');
  await visit(coordinator, `#/movements/${id}`);
  await coordinator.getByRole('button', { name: 'Assess' }).click();
  await badge(coordinator, 'assessed');
  await coordinator.getByRole('button', { name: 'Approve' }).click();
  await coordinator.locator('.toast', { hasText: 'approve' }).first().waitFor();
  const second = await newPage(b, errors);
  await signIn(second, logins['hn.coordinator2']);
  await visit(second, `#/movements/${id}`);
  await second.getByRole('button', { name: 'Approve' }).click();
  await badge(second, 'approved');

  // 3. Planning with route alternatives on the map, then release.
  step('coordinator plans with an alternative and releases');
  await visit(coordinator, `#/movements/${id}`);
  await coordinator.locator('.route-option').first().waitFor({ timeout: 30000 });
  const options = await coordinator.locator('.route-option').count();
  const chosen = options > 1 ? 1 : 0;
  const planMap = coordinator.locator('#planner canvas');
  check(Number(await planMap.getAttribute('data-routes')) === options, 'every alternative is drawn');
  // Choosing on the map: a click on the alternative's line selects it.
  const alternative = await planMap.evaluate((c, k) => c.jsmsMap.routes[k].points, chosen);
  await planMap.evaluate((c, pts) => c.jsmsMap.fitPoints(pts), alternative);
  await coordinator.waitForTimeout(300);
  const onLine = alternative[Math.floor(alternative.length / 2)];
  const [[cx, cy]] = await mapPoints(coordinator, planMap, [onLine]);
  await coordinator.mouse.click(cx, cy);
  const picked = await coordinator.locator('.route-option input:checked').getAttribute('value');
  if (Number(picked) !== chosen) await coordinator.locator('.route-option input').nth(chosen).check();
  await shot(coordinator, '04-planning-alternatives');
  await coordinator.getByRole('button', { name: 'Plan', exact: true }).click();
  await badge(coordinator, 'planned');
  // The release scheduler may release it first when the drawn departure is near.
  await visit(coordinator, `#/movements/${id}`);
  await coordinator.locator('.page-head .badge').first().waitFor();
  if (await coordinator.getByRole('button', { name: 'Release' }).count()) {
    await coordinator.getByRole('button', { name: 'Release' }).click();
  }
  await badge(coordinator, 'released');
  await shot(coordinator, '05-movement-released');

  // A zone drawn on the map across the planned route: the route's risk changes and the
  // movement records it.
  step('analyst draws a zone across the planned route');
  const planned = (await coordinator.request.get(`${URL}/api/v1/movements/${id}`).then((r) => r.json())).plan;
  const route = planned.legs.flatMap((l) => l.coordinates);
  const mid = route[Math.floor(route.length / 2)];
  const analyst = await newPage(b, errors);
  await signIn(analyst, logins['hn.analyst']);
  await visit(analyst, `#/zones/new`);
  const editor = analyst.locator('canvas');
  await analyst.waitForFunction(() => document.querySelector('canvas')?.dataset.roads === 'yes');
  await editor.evaluate((c, p) => { c.jsmsMap.fitPoints([[p[0] - 0.004, p[1] - 0.004], [p[0] + 0.004, p[1] + 0.004]]); }, mid);
  await analyst.waitForTimeout(300);
  const d = 0.0012;
  const corners = await mapPoints(analyst, editor, [[mid[0] - d, mid[1] - d], [mid[0] + d, mid[1] - d], [mid[0] + d, mid[1] + d], [mid[0] - d, mid[1] + d]]);
  for (const [x, y] of corners) await analyst.mouse.click(x, y);
  await analyst.getByLabel('Severity').selectOption('3');
  await analyst.getByLabel('Kind').selectOption('unrest');
  await analyst.getByLabel('Source').fill('Patrol report (exercise)');
  await shot(analyst, '06-zone-editor');
  await analyst.getByRole('button', { name: 'Create the zone' }).click();
  await analyst.locator('.toast', { hasText: 'Zone created' }).waitFor();
  await visit(coordinator, `#/movements/${id}`);
  const history = await coordinator.locator('ol.log').innerText();
  check(/route affected/i.test(history), `the zone across the planned route is in the movement's history: ${history}`);

  // 4. The escort commander reads the brief.
  step('escort reads the brief');
  const escort = await newPage(b, errors);
  await signIn(escort, logins['hn.escort']);
  await visit(escort, `#/movements/${id}`);
  await escort.getByRole('button', { name: 'Brief' }).click();
  await escort.locator('pre.brief').waitFor();
  const brief = await escort.locator('pre.brief').innerText();
  check(brief.includes('FALCON 3') && brief.includes('Wen Lianhe'), `the brief: ${brief.slice(0, 200)}`);
  await shot(escort, '07-brief');

  // 5. The liaison officer sees the status, not the route.
  step('liaison sees the status only');
  const liaison = await newPage(b, errors);
  await signIn(liaison, logins['pn.liaison']);
  await visit(liaison, `#/movements/${id}`);
  await badge(liaison, 'released');
  await liaison.getByText('You see the status of this movement only.').waitFor();
  check(await liaison.locator('h2', { hasText: 'Plan' }).count() === 0, 'no plan for the liaison officer');
  check(await liaison.locator('canvas').count() === 0, 'no route map for the liaison officer');
  await shot(liaison, '08-liaison-view');

  // 6. A simulated convoy on the operations map; an alert live, acknowledged.
  step('a convoy moves on the map; an alert arrives live and is acknowledged');
  const session = await coordinator.request.get(`${URL}/api/v1/auth/session`).then((r) => r.json());
  const teams = await coordinator.request.get(`${URL}/api/v1/escort-teams`).then((r) => r.json());
  const device = await coordinator.request.post(`${URL}/api/v1/escort-teams/${teams[0].id}/devices`, {
    headers: { 'x-csrf-token': session.csrf_token }, data: { name: 'browser test phone' },
  }).then((r) => r.json());
  const plan = (await coordinator.request.get(`${URL}/api/v1/movements/${id}`).then((r) => r.json())).plan;
  const path = plan.legs.flatMap((l) => l.coordinates);
  const report = async (positions) => {
    const r = await fetch(`${URL}/api/v1/tracking/positions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` },
      body: JSON.stringify({ positions }),
    });
    check(r.ok, `positions accepted: ${r.status} ${await r.text()}`);
  };
  await visit(coordinator, `#/ops`);
  await coordinator.locator('.live', { hasText: 'live' }).waitFor();
  const t0 = Math.floor(Date.now() / 1000) - 120;
  await report([0, 1, 2].map((i) => ({ time: t0 + i * 10, lat: path[Math.min(i, path.length - 1)][1], lon: path[Math.min(i, path.length - 1)][0], speed: 8 })));
  await coordinator.waitForFunction(() => Number(document.querySelector('.ops-map canvas')?.dataset.markers) >= 1, null, { timeout: 15000 });
  // 400 m off the route, in the direction (of eight) farthest from every part of it.
  const [lon, lat] = path[Math.min(3, path.length - 1)];
  const dist = (p, q) => Math.hypot((p[0] - q[0]) * Math.cos((lat * Math.PI) / 180), p[1] - q[1]);
  const away = [...Array(8).keys()].map((k) => {
    const a = (k * Math.PI) / 4;
    return [lon + (0.0036 * Math.sin(a)) / Math.cos((lat * Math.PI) / 180), lat + 0.0036 * Math.cos(a)];
  }).map((p) => [p, Math.min(...path.map((q) => dist(p, q)))]).sort((x, y) => y[1] - x[1])[0][0];
  await report([30, 50, 70].map((dt) => ({ time: t0 + dt, lat: away[1], lon: away[0], speed: 9 })));
  const card = coordinator.locator('.alert-card[data-kind="deviation"]');
  await card.waitFor({ timeout: 15000 });
  await shot(coordinator, '09-operations-alert');
  await card.getByRole('button', { name: 'Acknowledge' }).click();
  await coordinator.getByLabel('Open alerts only').uncheck();
  await coordinator.locator('.alert-card[data-kind="deviation"].acknowledged').waitFor();
  await visit(coordinator, `#/alerts`);
  await coordinator.locator('.alert-card').first().waitFor();
  await shot(coordinator, '10-alerts');
  await visit(coordinator, `#/movements/${id}`);
  await badge(coordinator, 'in progress');
  await coordinator.locator('.map canvas[data-markers="1"]').waitFor();
  await shot(coordinator, '11-movement-in-progress');

  // An incident on the movement: reported on the map, who knew attached for the investigation.
  step('coordinator reports an incident and attaches who knew');
  await visit(coordinator, `#/incidents/new`);
  await coordinator.getByLabel('Kind').selectOption('suspicious_activity');
  await coordinator.getByLabel('Title').fill('Motorcycle followed the convoy');
  await coordinator.getByLabel('What happened').fill('Two riders followed the convoy for two kilometres.');
  await choose(coordinator.getByLabel('Linked movements'), 'Weekly coordination meeting');
  const where = coordinator.locator('form canvas');
  await coordinator.waitForFunction(() => document.querySelector('form canvas')?.dataset.roads === 'yes');
  await where.focus();
  await coordinator.keyboard.press('Enter');
  await coordinator.getByRole('button', { name: 'Report', exact: true }).click();
  await coordinator.getByRole('button', { name: 'Attach who knew the linked movements' }).click();
  await coordinator.locator('ol.log li', { hasText: 'who-knew report attached' }).waitFor();
  await shot(coordinator, '12-incident');

  // A bilateral decision, approved by both parties with keys made in their browsers.
  step('a decision is proposed and signed into force by both parties');
  await visit(coordinator, `#/decisions/new`);
  await coordinator.getByLabel('Kind').selectOption('joint_operation');
  await coordinator.getByLabel('Title').fill('Joint patrol on the port road');
  await coordinator.getByLabel('Text (exactly what is approved)').fill('Both parties patrol the port road on Fridays for four weeks.');
  await coordinator.getByRole('button', { name: 'Propose' }).click();
  await badge(coordinator, 'proposed');
  const decision = coordinator.url().split('#/decisions/')[1];
  // An annex attached by the proposer: a new revision whose hash the approvers sign.
  await coordinator.getByLabel('File to attach').setInputFiles({ name: 'patrol-plan.txt', mimeType: 'text/plain', buffer: Buffer.from('Fridays, 06:00-10:00, two vehicles each.') });
  await coordinator.getByRole('button', { name: 'Attach', exact: true }).click();
  await coordinator.getByRole('link', { name: 'patrol-plan.txt' }).waitFor();
  await coordinator.getByRole('heading', { name: 'Text (revision 2)' }).waitFor();
  // The approver is told through the notifications in the bar, and follows the link.
  await visit(second, '#/decisions');
  await second.getByRole('button', { name: /Notifications \(\d+\)/ }).click();
  await second.getByRole('link', { name: 'Decision “Joint patrol on the port road” (revision 2) awaits your approval' }).click();
  await second.getByRole('heading', { name: 'Joint patrol on the port road' }).waitFor();
  await second.getByRole('link', { name: 'patrol-plan.txt' }).waitFor();
  await second.getByRole('button', { name: 'Approve (sign with this device)' }).click();
  await second.locator('.toast', { hasText: 'Approved' }).waitFor();
  await badge(second, 'proposed');
  await visit(liaison, `#/decisions/${decision}`);
  await liaison.getByRole('button', { name: 'Approve (sign with this device)' }).click();
  await badge(liaison, 'in force');
  await shot(liaison, '13-decision-in-force');

  // A coordination meeting whose minutes both parties approve; the joint dashboard.
  step('meeting minutes approved by both parties; the joint dashboard');
  await visit(coordinator, `#/meetings/new`);
  await coordinator.getByLabel('Title').fill('Weekly security coordination');
  await coordinator.getByLabel('Location or channel').fill('Secure video call');
  await coordinator.getByLabel('Agenda').fill('Convoy incidents\nNext movements');
  await coordinator.getByRole('button', { name: 'Schedule' }).click();
  await coordinator.getByLabel('Minutes', { exact: true }).fill('Incidents reviewed; departures to be varied.');
  await coordinator.getByPlaceholder('New action item').fill('Send the revised schedule');
  await coordinator.getByRole('button', { name: 'Save the minutes (approvals start again)' }).click();
  await coordinator.locator('.toast', { hasText: 'Minutes saved' }).waitFor();
  // The author of the minutes cannot approve them: the second coordinator approves for the host.
  const meeting = coordinator.url().split('#/meetings/')[1];
  await visit(second, `#/meetings/${meeting}`);
  await second.getByRole('button', { name: 'Approve the minutes for my party' }).click();
  await second.locator('.toast', { hasText: 'Minutes approved' }).waitFor();
  await visit(liaison, `#/meetings/${meeting}`);
  await liaison.getByRole('button', { name: 'Approve the minutes for my party' }).click();
  await liaison.locator('.badge', { hasText: 'minutes final' }).waitFor();
  await shot(liaison, '18-meeting-final');
  await visit(liaison, `#/dashboard`);
  await liaison.locator('h1', { hasText: 'Joint dashboard' }).waitFor();
  await shot(liaison, '19-joint-dashboard');

  // A threat report released to the partner arrives live on the liaison's intelligence
  // page; re-marked TLP:RED by its author, it is gone for the liaison.
  step('an analyst shares a threat report; the marking decides who sees it');
  await visit(liaison, '#/intel');
  await liaison.locator('h1', { hasText: 'Intelligence' }).waitFor();
  await visit(analyst, '#/intel/new');
  await analyst.getByLabel('Title').fill('Scouting at the market crossing');
  await analyst.getByLabel('Report', { exact: true }).fill('A motorbike pair followed two convoys from the market crossing.');
  await analyst.getByLabel('TLP', { exact: true }).selectOption('amber');
  await analyst.getByLabel('Release to the other party (TLP:AMBER)').check();
  await analyst.getByLabel('Source reliability').selectOption('B');
  await analyst.getByLabel('Information credibility').selectOption('2');
  await analyst.getByLabel('Threat actors').fill('Fictional Cell Seven');
  await shot(analyst, '20-threat-report-form');
  await analyst.getByRole('button', { name: 'Write the report' }).click();
  await analyst.locator('.badge', { hasText: 'TLP:AMBER' }).waitFor();
  const reportUrl = analyst.url();
  await liaison.locator('td', { hasText: 'Scouting at the market crossing' }).waitFor();
  await shot(liaison, '21-intelligence-live');
  await liaison.locator('td', { hasText: 'Scouting at the market crossing' }).click();
  await liaison.locator('.badge', { hasText: 'grading B2' }).waitFor();
  await analyst.goto(reportUrl);
  await analyst.getByLabel('TLP', { exact: true }).selectOption('red');
  await analyst.getByLabel('Why').fill('Source at risk');
  await analyst.getByRole('button', { name: 'Change the marking' }).click();
  await analyst.locator('.badge', { hasText: 'TLP:RED' }).waitFor();
  await visit(liaison, '#/intel');
  await liaison.waitForFunction(() => document.querySelector('main table, main .empty') && !document.querySelector('main .loading'));
  if (await liaison.locator('td', { hasText: 'Scouting at the market crossing' }).count() !== 0) {
    throw new Error('a TLP:RED report reached the partner liaison');
  }

  // 7. TOTP enrolment with the QR code (the party administrator's first sign-in).
  step('administrator enrols TOTP with the QR code');
  const admin = await newPage(b, errors);
  await visit(admin, `#/sign-in`);
  await admin.getByLabel('Username').fill(logins['hn.admin'].username);
  await admin.getByLabel('Password').fill(logins['hn.admin'].password);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await admin.locator('.qr svg').waitFor();
  await shot(admin, '17-totp-enrolment');
  await admin.getByText('Cannot scan? Enter the key by hand').click();
  const secret = (await admin.locator('code.secret').innerText()).trim();
  await admin.getByLabel('Code from the app').fill(totp(secret, Math.floor(Date.now() / 30000)));
  await admin.getByRole('button', { name: 'Confirm' }).click();
  await admin.locator('#bar:not([hidden])').waitFor();
  await visit(admin, `#/admin`);
  await admin.locator('table[aria-label="Users"]').waitFor();
  await admin.getByRole('button', { name: 'Add a user' }).click();
  await admin.getByLabel('Username').fill('hn.duty');
  await admin.getByLabel('Display name').fill('Duty Officer Example');
  await admin.getByRole('checkbox', { name: 'movement coordinator', exact: true }).check();
  await admin.getByRole('button', { name: 'Ask for the user' }).click();
  // Two persons for privilege: the new user waits for the party's second administrator.
  await admin.locator('table[aria-label="Privilege requests"] td', { hasText: 'new user hn.duty' }).waitFor();
  await admin.locator('table[aria-label="Privilege requests"] td', { hasText: 'awaits another administrator' }).waitFor();
  await shot(admin, '14-administration');
  const admin2 = await newPage(b, errors);
  await visit(admin2, `#/sign-in`);
  await admin2.getByLabel('Username').fill(logins['hn.admin2'].username);
  await admin2.getByLabel('Password').fill(logins['hn.admin2'].password);
  await admin2.getByRole('button', { name: 'Sign in' }).click();
  await admin2.getByText('Cannot scan? Enter the key by hand').click();
  const secret2 = (await admin2.locator('code.secret').innerText()).trim();
  await admin2.getByLabel('Code from the app').fill(totp(secret2, Math.floor(Date.now() / 30000)));
  await admin2.getByRole('button', { name: 'Confirm' }).click();
  await admin2.locator('#bar:not([hidden])').waitFor();
  await visit(admin2, `#/admin`);
  await admin2.locator('table[aria-label="Privilege requests"]').getByRole('button', { name: 'Approve' }).first().click();
  await admin2.locator('table[aria-label="Users"] td', { hasText: 'hn.duty' }).waitFor();

  // 8. The registry: a site placed on the map, a protected person.
  step('coordinator registers a site on the map; officer registers a person');
  await visit(coordinator, `#/registry/sites`);
  await coordinator.getByRole('button', { name: 'Register a site' }).click();
  await coordinator.getByLabel('Name', { exact: true }).fill('Exercise Depot');
  const placer = coordinator.locator('form canvas');
  await coordinator.waitForFunction(() => document.querySelector('form canvas')?.dataset.roads === 'yes');
  // By keyboard: arrows move the map under the crosshair, Enter places the site there.
  await placer.focus();
  await coordinator.keyboard.press('ArrowLeft');
  await coordinator.keyboard.press('Enter');
  await coordinator.waitForFunction(() => document.querySelector('form canvas')?.dataset.markers === '1');
  await coordinator.getByRole('button', { name: 'Register', exact: true }).click();
  await coordinator.locator('table[aria-label="Sites"] td', { hasText: 'Exercise Depot' }).waitFor();
  await shot(coordinator, '15-registry-sites');
  await visit(officer, `#/registry/persons`);
  await officer.getByRole('button', { name: 'Register a person' }).click();
  await officer.getByLabel('Full name').fill('Tomas Exemplar');
  await officer.getByLabel('Phone (sealed)').fill('+00 000 0000');
  await officer.getByRole('button', { name: 'Register', exact: true }).click();
  await officer.locator('table[aria-label="Protected persons"] td', { hasText: 'Tomas Exemplar' }).waitFor();

  // 9. An ended session: back to sign-in, then to the page the user was on.
  step('an ended session goes back to sign-in and returns');
  const s2 = await officer.request.get(`${URL}/api/v1/auth/session`).then((r) => r.json());
  await officer.request.post(`${URL}/api/v1/auth/sign-out`, { headers: { 'x-csrf-token': s2.csrf_token } });
  await officer.locator('table[aria-label="Protected persons"] tr.link').first().click();
  await officer.getByRole('heading', { name: 'Sign in to JSMS' }).waitFor();
  await officer.getByLabel('Username').fill(logins['pn.officer'].username);
  await officer.getByLabel('Password').fill(logins['pn.officer'].password);
  await officer.getByLabel('One-time code').fill(await nextCode('pn.officer', logins['pn.officer'].totp_secret));
  await officer.getByRole('button', { name: 'Sign in' }).click();
  await officer.locator('h1', { hasText: 'Registry' }).waitFor();
  check(officer.url().endsWith('#/registry/persons'), `back where the user was: ${officer.url()}`);

  // 10. The audit explorer.
  step('auditor explores the log');
  const auditor = await newPage(b, errors);
  await signIn(auditor, logins['hn.auditor']);
  await visit(auditor, `#/audit`);
  await auditor.locator('table[aria-label="Audit entries"]').waitFor();
  const verified = auditor.locator('dd[data-verified]');
  await verified.waitFor();
  check(await verified.getAttribute('data-verified') === 'true', `the checkpoint's signature verifies in the browser: ${await verified.innerText()}`);
  await auditor.getByLabel('Resource').fill(`movement:${id}`);
  await auditor.getByRole('button', { name: 'Who knew' }).click();
  await auditor.getByText(/principal\(s\) saw it/).waitFor();
  const knew = await auditor.getByText(/principal\(s\) saw it/).innerText();
  check(Number(knew.split(' ')[0]) >= 2, `the planners and the escort read the plan: ${knew}`);
  const readers = await auditor.locator('table[aria-label="Accesses"]').innerText();
  check(readers.includes('hn.escort') || readers.includes('Escort'), `the escort commander is among them: ${readers}`);
  await shot(auditor, '16-audit');

  check(errors.length === 0, `errors in the pages:\n${errors.join('\n')}`);
  console.log('browser scenario passed');
} catch (e) {
  console.log(`errors in the pages so far:\n${errors.join('\n') || '(none)'}`);
  for (const [i, c] of b.contexts().entries()) {
    for (const [k, p] of c.pages().entries()) await p.screenshot({ path: `${process.env.JSMS_SCREENSHOTS || 'target/screenshots'}/failure-${i}-${k}.png` }).catch(() => {});
  }
  throw e;
} finally {
  await b.close();
  tiles.close();
}
