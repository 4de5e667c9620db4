// The shell against a real server: sign in, the dashboard's health and plugins, every page
// screenshotted and checked with axe-core, navigation filtered for a restricted member, the
// 403 page on a forbidden URL, the 404 page, the dark theme, sign out.
import { admin, axe, base, check, finish, member, navIds, newContext, shot, signIn, step, visit } from './lib.mjs';

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

await step('2FA set-up shows a QR code', async () => {
  await page.goto(`${base}/profile`);
  const setup = page.getByRole('button', { name: 'Set up two-factor authentication' });
  await setup.waitFor();
  await setup.click();
  const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
  const appeared = await qr.waitFor({ timeout: 5000 }).then(() => true, () => false);
  if (appeared) {
    check(true, 'the QR code is drawn');
    check(((await page.getByTestId('totp-secret').textContent()) ?? '').length >= 16, 'the secret is shown');
    await shot(page, '10-profile-2fa');
    await axe(page, 'profile 2FA set-up');
  } else {
    // Servers without auth.master_key refuse two-factor set-up; the UI says so.
    const note = await page.getByTestId('notification-error').textContent().catch(() => '');
    check(/two-factor|master|configured|unavailable/i.test(note ?? ''), `without two-factor configured the server's refusal is shown (${note})`);
  }
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

if (member) {
  await step('restricted member: navigation and the 403 page', async () => {
    const { page: m } = await newContext();
    await signIn(m, member);
    const ids = await navIds(m);
    check(ids.includes('files') && ids.includes('audit') && ids.includes('profile'), `member sees files, audit, profile (${ids.join(', ')})`);
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
    await visit(m, '/audit', 'Audit log', '23-member-audit');
  });
} else {
  console.log('- restricted member: skipped (no users routes on this server)');
}

await finish();
