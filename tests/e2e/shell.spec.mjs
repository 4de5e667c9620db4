// The shell against a real server: sign in, the dashboard's health and plugins, every page
// screenshotted and checked with axe-core, navigation filtered for a restricted member, the
// 403 page on a forbidden URL, the 404 page, the dark theme, sign out.
import { admin, api, axe, base, check, finish, login, navIds, newContext, shot, signIn, step, totp, visit } from './lib.mjs';

const { page } = await newContext();

await step('sign-in page', async () => {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login/);
  await page.getByRole('heading', { name: 'Powernode' }).waitFor();
  await shot(page, '00-login');
  await axe(page, 'sign-in');
});

await step('wrong password is refused with a notification', async () => {
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const note = page.getByTestId('notification-error');
  await note.waitFor();
  check((await note.textContent()).length > 0, 'an error notification is shown');
  check(page.url().includes('/login'), 'still on the sign-in page');
});

await step('admin signs in and sees the dashboard', async () => {
  await signIn(page, admin);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  const health = page.getByTestId('health');
  await health.waitFor();
  const text = await health.textContent();
  check(/server\s*ok/i.test(text), `health shows the server ok (${text.slice(0, 80)})`);
  check(/database\s*ok/i.test(text) && /redis\s*ok/i.test(text), 'health shows database and Redis ok');
  const plugins = page.getByTestId('plugins');
  await plugins.waitFor();
  const ptext = await plugins.textContent();
  check(/files/.test(ptext) && /storage/.test(ptext), `plugins list files and storage (${ptext.slice(0, 120)})`);
  check(/active/.test(ptext), 'plugins are active');
  const status = await page.getByTestId('status-bar').textContent();
  check(/Server\s*ready/i.test(status), `status bar shows the server ready (${status.slice(0, 80)})`);
  const ids = await navIds(page);
  check(['dashboard', 'files', 'trash', 'storage', 'users', 'roles', 'audit', 'profile'].every((i) => ids.includes(i)), `admin navigation is complete (${ids.join(', ')})`);
});

const pages = [
  ['/', 'Dashboard', '01-dashboard'],
  ['/files', 'Files', '02-files'],
  ['/trash', 'Trash', '03-trash'],
  ['/storage', 'Storage', '04-storage'],
  ['/worker', 'Worker & queues', '05-worker'],
  ['/users', 'Users', '06-users'],
  ['/roles', 'Roles', '07-roles'],
  ['/audit', 'Audit log', '08-audit'],
  ['/profile', 'Profile', '09-profile'],
];
for (const [path, title, name] of pages) {
  await step(`page ${path}`, async () => {
    await visit(page, path, title, name);
  });
}

await step('audit log filters: the refused sign-in is found by action and result', async () => {
  await page.goto(`${base}/audit`);
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  const table = page.getByTestId('audit-table');
  await table.waitFor();
  await page.getByLabel('Action starts with').fill('auth.login');
  await page.getByLabel('Result').selectOption('failure');
  await Promise.all([page.waitForResponse((r) => r.url().includes('result=failure') && r.status() === 200), page.getByRole('button', { name: 'Apply filters' }).click()]);
  await page.waitForTimeout(200);
  await table.locator('tbody tr').first().waitFor();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.cells[1]?.textContent ?? '', tr.cells[2]?.textContent ?? '']));
  check(rows.length >= 1 && rows.every(([a, r]) => a.startsWith('auth.login') && r === 'failure'), `only failed sign-ins are listed (${rows.length}: ${rows.slice(0, 3).map((x) => x.join(' ')).join('; ')})`);
  await shot(page, '10-audit-filtered');
  await page.getByRole('button', { name: 'Clear' }).click();
});

await step('keyboard: the skip link and navigation are reachable with Tab and focus is visible', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  check(first === 'Skip to content', `first Tab reaches the skip link (${first})`);
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const el = document.activeElement;
    return el ? getComputedStyle(el).outlineStyle : 'none';
  });
  check(outline !== 'none', `focused link has a visible outline (${outline})`);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(200);
  check(new URL(page.url()).pathname === '/', 'Enter on the first nav link navigates');
});

await step('dark theme', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
  const dark = await page.evaluate(() => document.documentElement.classList.contains('dark'));
  if (!dark) await page.getByRole('button', { name: /Switch to dark theme/ }).click();
  check(await page.evaluate(() => document.documentElement.classList.contains('dark')), 'the dark class is on <html>');
  await page.getByTestId('health').waitFor();
  await shot(page, '11-dashboard-dark');
  await axe(page, 'dashboard (dark)');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
});

await step('404 page', async () => {
  await page.goto(`${base}/no/such/page`);
  await page.getByTestId('not-found').waitFor();
  await shot(page, '12-not-found');
  await axe(page, '404 page');
});

await step('sign out', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  check(await page.evaluate(() => localStorage.getItem('powernode.session') === null), 'the session is forgotten');
  await page.goto(`${base}/users`);
  await page.waitForURL(/\/login\?next=%2Fusers/);
  check(true, 'a signed-out visit to /users goes to sign-in with next=/users');
});

const uiMember = { email: 'restricted@example.test', password: 'restricted member pass 9' };
let rolesApi = true;
await step('admin creates a restricted role and a member through the UI', async () => {
  const probe = await api('GET', '/api/v1/roles', { token: await login(admin) });
  if (probe.status === 404) {
    rolesApi = false;
    console.log('  (skipped: the server has no roles routes)');
    return;
  }
  await signIn(page, admin);
  await page.goto(`${base}/roles`);
  await page.getByTestId('create-role').click();
  await page.getByRole('dialog').getByLabel('Name').fill('e2e-files-only');
  await page.getByLabel('Description').fill('Reads files and its own activity');
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.getByRole('heading', { level: 2, name: /e2e-files-only/ }).waitFor();
  for (const p of ['auth.me.read', 'files.files.read', 'audit.logs.read']) {
    await page.getByRole('checkbox', { name: new RegExp(`^${p.replace(/\./g, '\\.')}`) }).check();
  }
  await page.getByTestId('save-permissions').click();
  await page.getByText('Permissions of e2e-files-only saved').waitFor();
  await shot(page, '13-roles-edited');
  await axe(page, 'roles (editing)');

  await page.goto(`${base}/users`);
  await page.getByTestId('create-user').click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Email').fill(uiMember.email);
  await dlg.getByLabel('Name').fill('Restricted Member');
  await dlg.getByLabel('Initial password').fill(uiMember.password);
  const memberBox = dlg.getByRole('checkbox', { name: /^member/ });
  if (await memberBox.isChecked()) await memberBox.uncheck();
  await dlg.getByRole('checkbox', { name: /^e2e-files-only/ }).check();
  await shot(page, '14-user-create');
  await axe(page, 'new user dialog');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText(`User ${uiMember.email} created`).waitFor();
  const row = page.getByTestId('users-table').getByRole('row', { name: new RegExp(uiMember.email) });
  check((await row.textContent()).includes('e2e-files-only'), 'the new user is listed with the role');
});

await step('the member sees only what the role allows and gets the 403 page elsewhere', async () => {
  if (!rolesApi) return;
  const { page: m } = await newContext();
  await signIn(m, uiMember);
  const ids = await navIds(m);
  check(ids.includes('files') && ids.includes('audit'), `member sees files and audit (${ids.join(', ')})`);
  check(!['users', 'roles', 'storage', 'worker'].some((i) => ids.includes(i)), 'member does not see users, roles, storage or worker');
  check(!(await m.getByTestId('plugins').isVisible().catch(() => false)), 'member dashboard has no plugin list');
  await shot(m, '20-member-dashboard');
  for (const path of ['/users', '/roles', '/storage', '/worker']) {
    await m.goto(`${base}${path}`);
    await m.getByTestId('forbidden').waitFor();
    check(true, `member gets the 403 page at ${path}`);
  }
  await shot(m, '21-member-403');
  await axe(m, '403 page');
  await visit(m, '/files', 'Files', '22-member-files');
  check(!(await m.getByRole('button', { name: 'Upload files' }).isVisible()), 'no upload button without files.files.create');
  await visit(m, '/audit', 'Audit log', '23-member-audit');
});

await step('two-factor: set up with the QR code, then sign in with a code', async () => {
  await page.goto(`${base}/profile`);
  await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  const secret = (await page.getByTestId('totp-secret').textContent()).trim();
  check(secret.length >= 16, 'the secret is shown next to the QR code');
  await shot(page, '15-profile-2fa');
  await axe(page, 'two-factor set-up');
  const me = await api('GET', '/api/v1/auth/me', { token: await login(admin) });
  const uri = `otpauth://totp/x?secret=${secret}`;
  const first = totp(uri);
  await page.getByLabel('Code from the app').fill(first.code);
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = page.getByTestId('recovery-codes');
  await codes.waitFor();
  check((await codes.locator('li').count()) >= 5, 'recovery codes are shown once');
  await shot(page, '16-recovery-codes');
  await page.getByRole('button', { name: 'I have saved them' }).click();
  check(me.status === 200, 'the API still answers for the signed-in user');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const codeField = page.getByLabel('Code from your authenticator app');
  await codeField.waitFor();
  await shot(page, '17-login-totp');
  await axe(page, 'two-factor sign-in');
  // A code is good once: wait for the next time step rather than replaying the first one.
  let next = totp(uri);
  for (let i = 0; i < 40 && next.step === first.step; i++) {
    await page.waitForTimeout(1000);
    next = totp(uri);
  }
  await codeField.fill(next.code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  check(true, 'signed in with the second factor');
});


await step('API key: created with some permissions, shown once, works, revoked', async () => {
  await page.goto(`${base}/profile`);
  await page.getByRole('button', { name: 'New API key' }).click();
  const dlg = page.getByRole('dialog', { name: 'New API key' });
  await dlg.getByLabel('Name').fill('e2e key');
  await dlg.getByRole('checkbox', { name: 'auth.me.read' }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByTestId('new-api-key');
  await shown.waitFor();
  const key = (await shown.textContent()).trim();
  check(key.startsWith('pnk_'), 'the new key is shown');
  await shot(page, '18-api-key-created');
  await axe(page, 'API key shown once');
  const ok = await api('GET', '/api/v1/auth/me', { token: key });
  check(ok.status === 200 && JSON.stringify(ok.doc.data.permissions) === '["auth.me.read"]', `the key authenticates with only its permission (${ok.status})`);
  await page.getByRole('button', { name: 'Done' }).click();
  const row = page.getByRole('row', { name: /e2e key/ });
  check(!(await row.textContent()).includes(key), 'the list shows the key masked');
  // The shared confirmation dialog: Escape cancels (focus back on the trigger), then confirm.
  const revokeBtn = row.getByRole('button', { name: 'Revoke key e2e key' });
  await revokeBtn.click();
  const ask = page.getByRole('alertdialog', { name: 'Revoke API key' });
  await ask.waitFor();
  check(await ask.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement), 'the confirmation opens with Cancel focused');
  await shot(page, '19-confirm-revoke');
  await axe(page, 'confirmation dialog');
  await page.keyboard.press('Escape');
  await ask.waitFor({ state: 'detached' });
  check(await revokeBtn.evaluate((el) => el === document.activeElement), 'Escape closes it and returns the focus to the button');
  check((await api('GET', '/api/v1/auth/me', { token: key })).status === 200, 'cancelled: the key still works');
  await revokeBtn.click();
  await ask.getByRole('button', { name: 'Revoke key' }).click();
  await page.getByText('Key "e2e key" revoked').waitFor();
  const gone = await api('GET', '/api/v1/auth/me', { token: key });
  check(gone.status === 401, `the revoked key is refused (${gone.status})`);
});

await step('password change', async () => {
  await page.goto(`${base}/profile`);
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(admin.password);
  await form.getByLabel('New password', { exact: true }).fill('a brand new admin passphrase');
  await form.getByLabel('Repeat the new password').fill('a brand new admin passphrase');
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed').waitFor();
  const r = await api('POST', '/api/v1/auth/login', { body: { email: admin.email, password: 'a brand new admin passphrase' } });
  check(r.status === 200 && r.doc.data.mfa_required === true, 'the new password is accepted (and asks for the second factor)');
  const still = await page.evaluate(() => fetch('/api/v1/auth/me', { headers: { Authorization: `Bearer ${JSON.parse(localStorage.getItem('powernode.session')).accessToken}` } }).then((x) => x.status));
  check(still === 200, `this session survives the change (${still})`);
});

await finish();
