// What the end-to-end tests stand on: the real normbase-server (the built
// binary, a temp data dir, a free port, the built dashboard as --web.root),
// accounts made through its REST API, Debian's Chromium driven by
// playwright-core (never a downloaded browser), and a TCP relay in front of
// the server that the tests can cut and restore to drop the live connection
// for real.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const webDir = path.resolve(here, '..');

export const config = {
  serverBin: process.env.NORMBASE_SERVER_BIN ?? path.resolve(webDir, '../build/core/normbase-server'),
  webRoot: process.env.NORMBASE_WEB_ROOT ?? path.join(webDir, 'dist'),
  artifacts: process.env.NORMBASE_WEB_ARTIFACTS ?? path.join(webDir, 'e2e-artifacts'),
  chromium: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, f, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The real server. stop() sends SIGTERM, removes the data directory and
// leaves the server's output in the artifacts folder (server.log).
export async function startServer(extraArgs = []) {
  for (const [what, p] of [['normbase-server', config.serverBin], ['the built dashboard (npm run build)', path.join(config.webRoot, 'index.html')]])
    if (!existsSync(p)) throw new Error(`${what} is missing: ${p}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'normbase-web-e2e-'));
  const ready = path.join(dir, 'ready');
  const child = spawn(config.serverBin, ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0', '--ready-file', ready, '--web.root', config.webRoot, '--log-level', 'warn',
    // Side by side with other tests: the job bus on a free port.
    '--bus.endpoint', 'tcp://127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  child.on('exit', (code) => (exited = code));
  await waitFor('the server to listen', () => {
    if (exited !== null) throw new Error(`normbase-server exited with ${exited}:\n${output}`);
    return existsSync(ready) && readFileSync(ready, 'utf8').trim();
  }, 30000);
  const url = readFileSync(ready, 'utf8').trim();
  const token = readFileSync(path.join(dir, 'data', 'bootstrap-admin.token'), 'utf8').trim();
  return {
    url,
    adminToken: token,
    output: () => output,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        await waitFor('the server to stop', () => exited !== null, 20000).catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
      // Kept for a failed run's post-mortem (warnings and errors only).
      mkdirSync(config.artifacts, { recursive: true });
      writeFileSync(path.join(config.artifacts, 'server.log'), output);
    },
  };
}

export async function rest(base, token, method, target, body) {
  const res = await fetch(base + target, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

// A user made by the admin through the API (as tests/integration/test_helpers.h does).
export async function createUser(server, name, role, group) {
  const body = { name, role };
  if (group) body.stakeholder_group = group;
  const u = await rest(server.url, server.adminToken, 'POST', '/api/v1/users', body);
  if (u.status !== 201) throw new Error(`creating ${name}: ${u.status} ${u.text}`);
  const t = await rest(server.url, server.adminToken, 'POST', `/api/v1/users/${u.json.id}/tokens`, { label: 'e2e' });
  if (t.status !== 201) throw new Error(`token for ${name}: ${t.status} ${t.text}`);
  return { id: u.json.id, name, role, group, token: t.json.token };
}

// A TCP relay to `target` ("http://127.0.0.1:PORT"). cut() closes every
// relayed connection and holds new ones (they wait, as on a dead network);
// restore() lets them through. The browser sees a real dropped socket.
export async function startRelay(target) {
  const { hostname, port } = new URL(target);
  const live = new Set();
  let held = [];
  let cut = false;
  const pipe = (client) => {
    const upstream = net.connect(Number(port), hostname);
    const pair = { client, upstream };
    live.add(pair);
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    if (cut) {
      held.push(client);
      client.on('error', () => {});
    } else pipe(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const { client, upstream } of live) {
        client.destroy();
        upstream.destroy();
      }
      live.clear();
    },
    restore() {
      cut = false;
      const waiting = held.filter((c) => !c.destroyed);
      held = [];
      waiting.forEach(pipe);
    },
    close: () => new Promise((r) => {
      for (const { client, upstream } of live) {
        client.destroy();
        upstream.destroy();
      }
      held.forEach((c) => c.destroy());
      server.close(r);
    }),
  };
}

export async function launchBrowser() {
  if (!existsSync(config.chromium)) throw new Error(`Chromium is missing at ${config.chromium}: apt-get install chromium`);
  // playwright-core gives each launch a fresh, temporary profile (user data dir).
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

// A browser context for one person: console errors and page errors are
// collected (the tests fail on any), screenshots go to the artifacts folder.
export async function openAs(browser, base, user, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, baseURL: base });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push({ text: m.text(), url: m.location()?.url ?? '' });
  });
  page.on('pageerror', (e) => problems.push({ text: `page error: ${e.message}`, url: '' }));
  await page.goto('/signin');
  if (user) {
    await page.getByLabel('Token').fill(user.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#whoami').filter({ hasText: user.name }).waitFor();
  }
  return { context, page, problems, who: user?.name ?? 'visitor' };
}

export async function screenshot(page, name) {
  mkdirSync(config.artifacts, { recursive: true });
  const file = path.join(config.artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
