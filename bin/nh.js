#!/usr/bin/env node
import { launch } from '../dist/nh/launch.js';

process.exitCode = await launch(new URL('../dist/nh/cli/main.js', import.meta.url), process.argv.slice(2), process.env);
