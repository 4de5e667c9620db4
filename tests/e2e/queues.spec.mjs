// Worker and queues against a real server with the queues plugin and a seeded queue database
// (run_e2e.py: a dead, a retry and a scheduled job, two waiting in "default"): the page shows
// them, a dead job is retried from the page and lands in its queue, a retry is deleted.
import { admin, api, axe, base, check, finish, login, newContext, shot, signIn, step } from './lib.mjs';

const token = await login(admin);
const { page } = await newContext();
await signIn(page, admin);

const stats = async () => (await api('GET', '/api/v1/queues/stats', { token })).doc.data;
const queueSize = async (name) => ((await api('GET', '/api/v1/queues', { token })).doc.data.queues.find((q) => q.name === name) ?? { size: 0 }).size;

await step('the queues page shows the sets and the queues', async () => {
  const probe = await api('GET', '/api/v1/queues/stats', { token });
  check(probe.status === 200, `the server has the queues plugin (${probe.status})`);
  await page.goto(`${base}/worker`);
  await page.getByRole('heading', { level: 1, name: 'Worker & queues' }).waitFor();
  const cards = page.getByTestId('queue-stats');
  await cards.waitFor();
  const text = await cards.textContent();
  check(/Enqueued\s*2/.test(text) && /Retries\s*1/.test(text) && /Dead\s*1/.test(text) && /Scheduled\s*1/.test(text), `totals shown (${text})`);
  check((await page.getByRole('table', { name: 'Queues' }).textContent()).includes('default'), 'the default queue is listed');
  await page.getByTestId('jobs-retries').getByText('E2eRetryJob').waitFor();
  await shot(page, '40-worker');
  await axe(page, 'worker and queues');
});

await step('retry a dead job from the page', async () => {
  await page.getByRole('tab', { name: /^Dead/ }).click();
  const row = page.getByTestId('jobs-dead').locator(`tr[data-jid="${'d'.repeat(24)}"]`);
  await row.waitFor();
  check((await row.textContent()).includes('boom in e2e'), 'the dead job shows its error');
  await shot(page, '41-worker-dead');
  const before = await queueSize('default');
  await row.getByRole('button', { name: /^Retry now/ }).click();
  await page.getByText('E2eDeadJob queued again').waitFor();
  await page.getByText('No dead jobs').waitFor();
  const s = await stats();
  check(s.dead_size === 0, 'the dead set is empty');
  check((await queueSize('default')) === before + 1, 'the job is back in its queue');
});

await step('delete a retry', async () => {
  await page.getByRole('tab', { name: /^Retries/ }).click();
  const row = page.getByTestId('jobs-retries').locator(`tr[data-jid="${'e'.repeat(24)}"]`);
  await row.waitFor();
  await row.getByRole('button', { name: /^Delete/ }).click();
  await page.getByText('E2eRetryJob deleted').waitFor();
  check((await stats()).retry_size === 0, 'the retry set is empty');
  await page.getByRole('tab', { name: /^Scheduled/ }).click();
  const sched = page.getByTestId('jobs-scheduled').locator(`tr[data-jid="${'f'.repeat(24)}"]`);
  await sched.waitFor();
  check((await sched.getByRole('button', { name: /^Retry now/ }).count()) === 0, 'scheduled jobs offer delete only');
});

await step('the dashboard shows queue sizes', async () => {
  await page.goto(`${base}/`);
  const q = page.locator('#queues');
  await q.getByText(/enqueued/).waitFor();
  check((await q.textContent()).includes('3 enqueued'), `dashboard queue totals (${(await q.textContent()).slice(0, 80)})`);
  await shot(page, '42-dashboard-queues');
});

await finish();
