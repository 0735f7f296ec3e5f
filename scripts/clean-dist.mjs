#!/usr/bin/env node
// Removes dist/ before a build, so a packed release never carries files of modules that no longer exist.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
