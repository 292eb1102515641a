import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { confinePath } from '../../src/server/confine-path.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'elexirion-confine-')));
const root = join(base, 'root');
mkdirSync(join(root, '..drafts'), { recursive: true });
writeFileSync(join(root, '..greeting.yaml'), 'name: g\n');
writeFileSync(join(root, '..drafts', 'x.yaml'), 'name: x\n');
writeFileSync(join(base, 'secret.yaml'), 'name: s\n');
symlinkSync(join(base, 'secret.yaml'), join(root, 'link.yaml'));

describe('confinePath', () => {
  it('accepts names inside the root that merely start with `..`', () => {
    expect(confinePath(root, '..greeting.yaml')).toBe(join(root, '..greeting.yaml'));
    expect(confinePath(root, '..drafts/x.yaml')).toBe(join(root, '..drafts', 'x.yaml'));
  });

  it('refuses `..` segments, absolute paths elsewhere, symlinks leading out and the root itself', () => {
    for (const file of ['../secret.yaml', '..', '/etc/passwd', 'link.yaml', '.', '..drafts/../../secret.yaml']) {
      expect(() => confinePath(root, file), file).toThrow(/outside the pipelines directory/);
    }
  });
});
