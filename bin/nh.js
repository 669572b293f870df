#!/usr/bin/env node
// CommonJS (bin/package.json): Node starts a CommonJS entry without initialising its ES module loader, which
// an ESM bin/nh.js and launcher cost every start (≈ 10–20 ms; BENCHMARKS.md, "nh's fixed cost per start").
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { launch } = require('../dist/nh/launch.cjs');

// Started by bin/nh, which kept NODE_EXTRA_CA_CERTS from Node's start: the processes nh starts get it back.
const moved = process.env.NH_NODE_EXTRA_CA_CERTS;
if (moved && !process.env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = moved;
// NH_EXPLICIT_CAS holds only where bin/nh started this Node with --use-openssl-ca (an nh this one starts may not be).
if (!process.execArgv.includes('--use-openssl-ca')) delete process.env.NH_EXPLICIT_CAS;

launch(pathToFileURL(join(__dirname, '../dist/nh/cli/main.js')), process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
