// End-to-end: the dashboard in headless Chromium against the real server.
// The scenarios of the dashboard issue, in order, on one server:
//   1. one browser context submits a proposal through the form, a second sees it appear;
//   2. votes from two stakeholder groups turn the status to "mergeable" live in the first;
//   3. a moderator merges and the agreement page shows the new coding and its provenance;
//   4. the live connection is cut and resumed, and the update made meanwhile is not lost;
// plus keyboard and label checks, a phone-sized layout, screenshots of the main
// pages (artifacts), and no console error anywhere.
// Run: NORMBASE_SERVER_BIN=.../normbase-server node --test e2e/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { config, createUser, launchBrowser, openAs, rest, screenshot, startRelay, startServer, waitFor } from './harness.mjs';

const kLiveMs = 10000; // a live update must show within this, without a reload
const kAgreementId = 'e2e-bilateral-accord-2025';
const kQuote = 'The Parties shall respect human rights and fundamental freedoms in cyberspace.';

// The server starts its local workers (normbase-worker beside it, with the
// built-in plugins) unless NORMBASE_E2E_WORKERS=0: then checks stay queued
// and the analyses page says "not available yet".
const withWorkers = process.env.NORMBASE_E2E_WORKERS !== '0';
let server, relay, chrome, people, analysesAvailable;
const sessions = [];

before(async () => {
  server = await startServer(withWorkers ? [] : ['--workers', '0']);
  relay = await startRelay(server.url);
  chrome = await launchBrowser();
  people = {
    author: await createUser(server, 'carla-author', 'contributor', 'technical-community'),
    gov: await createUser(server, 'gina-government', 'contributor', 'government'),
    civil: await createUser(server, 'cora-civil', 'contributor', 'civil-society'),
    mod: await createUser(server, 'mo-moderator', 'moderator', 'academia'),
  };
  analysesAvailable = (await rest(server.url, '', 'GET', '/api/v1/analyses')).status === 200;
});

after(async () => {
  for (const s of sessions) await s.context.close().catch(() => {});
  await chrome?.close();
  await relay?.close();
  await server?.stop();
});

async function open(user, opts = {}) {
  const s = await openAs(chrome.browser, opts.viaRelay ? relay.url : server.url, user, opts.viewport);
  sessions.push(s);
  return s;
}

// Every console error and page error of every context fails the run. The one
// exception is documented: while this server has no analyses endpoint the
// browser logs the analyses page's 404 (which the page turns into "not
// available yet"); with the endpoint in place that allowance is not used.
function assertNoConsoleErrors() {
  for (const s of sessions) {
    const real = s.problems.filter(
      (p) => !(!analysesAvailable && /Failed to load resource/.test(p.text) && /\/api\/v1\/analyses/.test(p.url)),
    );
    assert.deepEqual(real, [], `console errors in ${s.who}'s browser`);
  }
}

let proposalId;

test('1. a proposal submitted in one browser appears in another', async () => {
  const watcher = await open(people.gov);
  await watcher.page.goto('/proposals');
  await watcher.page.locator('#proposal-count').waitFor();
  const rowsBefore = await watcher.page.locator('tr[data-proposal]').count();

  const author = await open(people.author, { viaRelay: true });
  const page = author.page;
  await page.getByRole('link', { name: 'New proposal' }).click();
  await page.getByLabel('Id of the new agreement').fill(kAgreementId);
  await page.getByLabel('Title').fill('Bilateral Accord on Cyberspace (end-to-end test)');
  await page.getByLabel('Year').fill('2025');
  await page.getByLabel('Kind of agreement').selectOption('bilateral');
  await page.getByLabel('Government', { exact: true }).check();
  await page.getByLabel('Source (address of the text)').fill('https://example.org/accord-2025');
  await page.getByLabel('Rationale').fill('Signed in 2025; the full text was read.');
  await page.getByRole('button', { name: 'Add an element' }).click();
  // Checked against the codebook as one types: a near miss is named at once.
  const element = page.getByLabel('Element 1');
  await element.fill('human-right');
  await page.locator('#in-codings-0-element-error', { hasText: 'not an element of the codebook' }).waitFor();
  assert.equal(await page.locator('#submit').isDisabled(), true, 'submit waits for a valid draft');
  await element.fill('human-rights');
  await page.getByLabel('Quote (verbatim)').fill(kQuote);
  await page.getByLabel('Locator (article, paragraph, page)').fill('art. 3');
  await page.locator('#form-summary', { hasText: 'Ready to submit.' }).waitFor();
  assert.equal(await page.locator('#in-codings-0-element').getAttribute('aria-invalid'), 'false');
  await screenshot(page, 'proposal-form');
  await page.locator('#submit').click();
  await page.waitForURL(/\/proposals\/\d+$/);
  proposalId = Number(page.url().match(/(\d+)$/)[1]);
  await page.locator('#proposal-header h1', { hasText: `#${proposalId} add` }).waitFor();

  // The second context never reloads: the row arrives over the live stream.
  const row = watcher.page.locator(`tr[data-proposal="${proposalId}"]`);
  await row.waitFor({ timeout: kLiveMs });
  assert.equal(await watcher.page.locator('tr[data-proposal]').count(), rowsBefore + 1);
  await row.locator('[data-badge="needs-civil-society"]').waitFor();
  await screenshot(watcher.page, 'proposals');
});

test('2. votes from two stakeholder groups turn it mergeable live in the first browser', async () => {
  const author = sessions[1];
  const badges = author.page.locator('#proposal-header [data-testid="badges"]');
  await badges.locator('[data-badge="needs-civil-society"]').waitFor();
  assert.equal(await badges.locator('[data-badge="mergeable"]').count(), 0);
  // The author may not review their own proposal: no vote buttons.
  assert.equal(await author.page.getByRole('button', { name: 'Approve' }).count(), 0);

  const gov = sessions[0];
  await gov.page.goto(`/proposals/${proposalId}`);
  await gov.page.getByLabel('Review note (optional)').fill('Quote checked against the text.');
  await gov.page.getByRole('button', { name: 'Approve' }).click();
  await gov.page.locator('#action-message', { hasText: 'recorded' }).waitFor();
  await author.page.locator('#by-group tr[data-group="government"] .approvals', { hasText: '1' }).waitFor({ timeout: kLiveMs });

  const civil = await open(people.civil);
  await civil.page.goto(`/proposals/${proposalId}`);
  await civil.page.getByRole('button', { name: 'Approve' }).click();
  await civil.page.locator('#action-message', { hasText: 'recorded' }).waitFor();

  await badges.locator('[data-badge="mergeable"]').waitFor({ timeout: kLiveMs });
  assert.equal(await badges.locator('[data-badge="needs-civil-society"]').count(), 0);
  await author.page.locator('#by-group tr[data-group="civil-society"] .approvals', { hasText: '1' }).waitFor();
  await screenshot(author.page, 'proposal-mergeable');
});

test('3. a moderator merges and the agreement page shows the new coding', async () => {
  const mod = await open(people.mod);
  await mod.page.goto(`/proposals/${proposalId}`);
  const merge = mod.page.getByRole('button', { name: 'Merge' });
  await waitFor('the merge button to be enabled', () => merge.isEnabled());
  await merge.click();
  await mod.page.locator('#proposal-header [data-badge="merged"]').waitFor();
  // The author's page follows live.
  await sessions[1].page.locator('#proposal-header [data-badge="merged"]').waitFor({ timeout: kLiveMs });

  await mod.page.getByRole('link', { name: `agreement ${kAgreementId}` }).click();
  const coding = mod.page.locator('#codings tr[data-element="human-rights"]');
  await coding.waitFor();
  assert.match(await coding.innerText(), /respect human rights and fundamental freedoms/);
  assert.match(await coding.innerText(), /art\. 3/);
  assert.match(await coding.innerText(), new RegExp(`proposal #${proposalId}`));
  assert.match(await coding.innerText(), /proposed by carla-author/);
  assert.match(await coding.innerText(), /merged by mo-moderator/);
  await screenshot(mod.page, 'agreement');
});

test('4. the live connection is cut and resumed without losing an update', async () => {
  const author = sessions[1]; // its page goes through the relay
  const page = author.page;
  await page.goto('/proposals?status=all');
  await page.locator('#live[data-state="live"]').waitFor({ timeout: kLiveMs });
  await page.evaluate(() => ((window).__sameDocument = true));
  const before = await page.locator('tr[data-proposal]').count();

  relay.cut();
  await page.locator('#live[data-state="dropped"]').waitFor({ timeout: kLiveMs });
  assert.match(await page.locator('#live').innerText(), /lost/i);

  // While the browser is cut off, someone else proposes a re-coding.
  const paris = (await rest(server.url, '', 'GET', '/api/v1/agreements/paris-call-2018')).json;
  const created = await rest(server.url, people.gov.token, 'POST', '/api/v1/proposals', {
    kind: 'recode', agreement_id: 'paris-call-2018', base_revision: paris.revision,
    codings: { ...paris.codings, ransomware: { evidence: [{ quote: 'A verbatim quote on ransomware.', locator: 'p. 2' }], note: '' } },
    rationale: 'made while the dashboard was offline',
  });
  assert.equal(created.status, 201, created.text);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await page.locator(`tr[data-proposal="${created.json.id}"]`).count(), 0, 'nothing can arrive while cut');

  relay.restore();
  await page.locator('#live[data-state="resumed"]').waitFor({ timeout: kLiveMs });
  // Exactly the events the server logged between the page's resume point and
  // its head at the resume (the proposal and the jobs it queued), each once.
  const since = Number(await page.locator('#live').getAttribute('data-since'));
  const through = Number(await page.locator('#live').getAttribute('data-through'));
  const missed = (await rest(server.url, '', 'GET', `/api/v1/events?since=${since}&limit=1000`)).json.items.filter((e) => e.seq <= through);
  assert.ok(missed.some((e) => e.type === 'proposal.created'), JSON.stringify(missed.map((e) => e.type)));
  assert.equal(await page.locator('#live').getAttribute('data-missed'), String(missed.length));
  assert.match(await page.locator('#live').innerText(), new RegExp(`caught up on ${missed.length} missed update`));
  await page.locator(`tr[data-proposal="${created.json.id}"]`).waitFor({ timeout: kLiveMs });
  assert.equal(await page.locator('tr[data-proposal]').count(), before + 1);
  assert.equal(await page.evaluate(() => (window).__sameDocument), true, 'the page was not reloaded');

  // And it stays live after the resume.
  await rest(server.url, people.civil.token, 'POST', `/api/v1/proposals/${created.json.id}/comments`, { text: 'still live?' });
  await rest(server.url, people.civil.token, 'POST', `/api/v1/proposals/${created.json.id}/reviews`, { verdict: 'approve' });
  await page.locator(`tr[data-proposal="${created.json.id}"] [data-badge="needs-civil-society"]`).waitFor({ state: 'detached', timeout: kLiveMs });
});

test('keyboard, labels and a phone-sized screen', async () => {
  const s = await open(people.mod, { viewport: { width: 390, height: 844 } });
  const page = s.page;
  await page.goto('/agreements');
  await page.locator('#coverage').waitFor();
  // Every visible form control has a label (or an aria-label).
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && !(el.labels?.length || el.getAttribute('aria-label')))
      .map((el) => el.outerHTML));
  assert.deepEqual(unlabelled, []);
  // The first Tab reaches the skip link; the main navigation works from the keyboard.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.getByRole('link', { name: 'Proposals' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/proposals$/);
  await page.locator('#proposal-count').waitFor();
  // Nothing is wider than the phone's screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the screen`);
  await screenshot(page, 'proposals-phone');
  await page.goto(`/proposals/${proposalId}`);
  await page.locator('#coding-diff').waitFor();
  await screenshot(page, 'proposal-phone');
});

test('analyses, sign-in and unknown pages render (and no console errors anywhere)', async () => {
  const s = await open(null);
  if (!analysesAvailable) {
    await s.page.goto('/analyses');
    await s.page.locator('#analyses-unavailable', { hasText: 'not available' }).waitFor();
  } else if (!withWorkers) {
    await s.page.goto('/analyses');
    await s.page.locator('[data-analysis="element-frequency"]', { hasText: 'Not available yet' }).waitFor();
  } else {
    // The local workers compute the analyses of the newest dataset revision.
    await waitFor('the analyses of the merged dataset', async () => {
      const items = (await rest(server.url, '', 'GET', '/api/v1/analyses')).json?.items ?? [];
      return ['element-frequency', 'trend', 'co-occurrence'].every((n) => items.find((i) => i.name === n)?.available_revision >= 2);
    }, 60000);
    await s.page.goto('/analyses');
    for (const name of ['element-frequency', 'trend', 'co-occurrence']) {
      const card = s.page.locator(`[data-analysis="${name}"]`);
      await card.locator('.chart svg').waitFor();
      assert.match(await card.locator('.coverage').innerText(), /Coverage: 20 of 34 agreements coded/);
    }
    const freq = s.page.locator('[data-analysis="element-frequency"]');
    const exported = async (label) => {
      const [download] = await Promise.all([s.page.waitForEvent('download'), freq.getByRole('button', { name: label }).click()]);
      return readFileSync(await download.path());
    };
    const csv = (await exported('Export CSV')).toString();
    assert.match(csv, /^# Element frequency, ranked; coverage: 20 of 34 agreements coded\r\nrank,element,label,category,count,share\r\n/);
    assert.match(csv, /,human-rights,Human rights,/);
    assert.match((await exported('Export SVG')).toString(), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.deepEqual([...(await exported('Export PNG')).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  }
  await screenshot(s.page, 'analyses');
  await s.page.goto('/no/such/page');
  await s.page.getByRole('heading', { name: 'Page not found' }).waitFor();
  assertNoConsoleErrors();
  // A refused token: the page says why; the browser logs the 401 itself, and nothing else.
  await s.page.goto('/signin');
  await s.page.getByLabel('Token').fill('nb_not-a-real-token');
  await s.page.getByRole('button', { name: 'Sign in' }).click();
  await s.page.locator('#signin-status', { hasText: 'Not signed in' }).waitFor();
  await screenshot(s.page, 'signin');
  const after401 = s.problems.filter((p) => !/\/api\/v1\/analyses/.test(p.url));
  assert.equal(after401.length, 1, JSON.stringify(after401));
  assert.match(after401[0].text, /401/);
  assert.match(after401[0].url, /\/api\/v1\/whoami$/);
  console.log(`screenshots in ${config.artifacts}`);
});
