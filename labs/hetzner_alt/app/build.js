// `npm run build`: writes .next/BUILD_ID in the release folder, as `next build` does.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const dir = path.join(process.cwd(), '.next');
fs.mkdirSync(dir, { recursive: true });
const id = crypto.randomBytes(12).toString('hex');
fs.writeFileSync(path.join(dir, 'BUILD_ID'), id);
console.log(`Creating an optimized production build ... ${id}`);
