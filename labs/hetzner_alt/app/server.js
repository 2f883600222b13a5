// botbau-web: the second host lab's stand-in for the customer's Next.js app, shaped like a
// deployment someone else set up (see ../README.md). It validates its environment the way apps
// built with @t3-oss/env + zod do, and prints what they print when a variable is wrong:
//   ❌ Invalid environment variables: { APP_MODE: [ "Invalid enum value. Expected ..., received '...'" ] }
//   Error: Invalid environment variables
// It reads `.env.production` from its working directory (Next.js loads env files from the
// project folder; PM2 starts it in `current`, where the file is a link into `shared/`).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const util = require('util');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOSTNAME || '127.0.0.1';

function loadEnv(file) {
  const values = {};
  if (!fs.existsSync(file)) return values;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) values[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

function validate(env) {
  const fieldErrors = {};
  const modes = ['production', 'staging'];
  if (!modes.includes(env.APP_MODE)) {
    fieldErrors.APP_MODE = env.APP_MODE === undefined ? ['Required']
      : [`Invalid enum value. Expected ${modes.map((m) => `'${m}'`).join(' | ')}, received '${env.APP_MODE}'`];
  }
  return fieldErrors;
}

if (process.env.LAB_ROLE === 'squatter') {
  http.createServer((req, res) => { res.writeHead(418); res.end('squatter\n'); }).listen(port, host);
} else {
  const cwd = process.cwd();
  const env = { ...loadEnv(path.join(cwd, '.env.production')) };
  const fieldErrors = validate(env);
  if (Object.keys(fieldErrors).length) {
    console.error('❌ Invalid environment variables:', util.inspect(fieldErrors, { breakLength: Infinity }));
    throw new Error('Invalid environment variables');
  }
  if ('SUPABASE_URL' in env && !env.SUPABASE_URL) {
    throw new Error('supabaseUrl is required.');  // supabase-js createClient(undefined, key)
  }
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const down = fs.existsSync(path.join(cwd, '.health-down'));
      res.writeHead(down ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(down ? { ok: false, checks: { db: 'timeout' } } : { ok: true }) + '\n');
      return;
    }
    let buildId = null;
    try { buildId = fs.readFileSync(path.join(cwd, '.next', 'BUILD_ID'), 'utf8').trim(); } catch (e) { /* below */ }
    res.writeHead(buildId ? 200 : 500, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Botbau</title><p>Botbau ${buildId || 'ohne Build'}</p>\n`);
  });
  server.on('error', (err) => {
    console.error(err);  // Node's own rendering: `Error: listen EADDRINUSE: address already in use ...`
    process.exit(1);
  });
  server.listen(port, host, () => console.log(`> Ready on http://${host}:${port}`));

  // A memory leak for the max_memory_restart scenario: with `.memory-hog` in the app folder the
  // process keeps 8 MB more every 100 ms (up to 1 GB), until PM2 restarts it over its limit.
  if (fs.existsSync(path.join(cwd, '.memory-hog'))) {
    const kept = [];
    const grow = setInterval(() => { kept.push(Buffer.alloc(8 * 1024 * 1024, 1)); if (kept.length > 128) clearInterval(grow); }, 100);
  }
}
