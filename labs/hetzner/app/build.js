// `npm run build` of the lab app: writes .next/BUILD_ID like `next build` does.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '.next');
fs.mkdirSync(dir, { recursive: true });
const id = crypto.randomBytes(10).toString('base64url');
fs.writeFileSync(path.join(dir, 'BUILD_ID'), id);
console.log(`build ${id} written to ${dir}`);
