// The lab's stand-in for whatsapp-bot-builder: a Node.js HTTP server behind Caddy, run by PM2.
// Faults are controlled by files and env so the tests can inject them:
//   - `.env.production` with APP_MODE=crash: throws at start (PM2 crash loop, error in the log)
//   - `.env.production` with an empty SUPABASE_URL: throws supabase-js's "supabaseUrl is required."
//   - LAB_ROLE=squatter: only holds PORT (a foreign process for the EADDRINUSE scenario)
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

function readEnvFile(file) {
  const values = {};
  if (!fs.existsSync(file)) return values;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) values[m[1]] = m[2];
  }
  return values;
}

if (process.env.LAB_ROLE === 'squatter') {
  http.createServer((req, res) => { res.writeHead(418); res.end('squatter\n'); }).listen(port, host);
} else {
  const envFile = path.join(__dirname, '.env.production');
  const config = readEnvFile(envFile);
  const mode = config.APP_MODE || 'production';
  if (mode !== 'production') {
    throw new Error(`invalid configuration APP_MODE=${mode} in ${envFile} (expected APP_MODE=production)`);
  }
  // As supabase-js does when a deploy lost the project URL (createClient(undefined, key)).
  if ('SUPABASE_URL' in config && !config.SUPABASE_URL) {
    throw new Error('supabaseUrl is required.');
  }
  const buildIdFile = path.join(__dirname, '.next', 'BUILD_ID');
  const server = http.createServer((req, res) => {
    if (req.url === '/api/health') {
      // the app's own health endpoint: degraded while `.health-down` exists (its database "unreachable")
      const down = fs.existsSync(path.join(__dirname, '.health-down'));
      res.writeHead(down ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(down ? { status: 'degraded', database: 'unreachable' } : { status: 'ok' }) + '\n');
      return;
    }
    let buildId = 'missing';
    try { buildId = fs.readFileSync(buildIdFile, 'utf8').trim(); } catch (e) { /* reported below */ }
    res.writeHead(buildId === 'missing' ? 500 : 200, { 'content-type': 'text/plain' });
    res.end(`whatsapp-bot-builder ok build=${buildId}\n`);
  });
  server.on('error', (err) => {
    console.error(`server error: ${err.code || ''} ${err.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => console.log(`listening on http://${host}:${port}`));

  // A memory leak for the max_memory_restart scenario: with `.memory-hog` in the app folder the
  // process keeps 8 MB more every 100 ms (up to 1 GB), until PM2 restarts it over its limit.
  if (fs.existsSync(path.join(__dirname, '.memory-hog'))) {
    const kept = [];
    const grow = setInterval(() => { kept.push(Buffer.alloc(8 * 1024 * 1024, 1)); if (kept.length > 128) clearInterval(grow); }, 100);
  }
}
