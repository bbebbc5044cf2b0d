/** The forge options, checked once at the edge: guesses from the remote, defaults, and refusals. */
import { describe, expect, it } from 'vitest';
import { forgeConfigFrom, parseRemoteUrl } from '../../src/forge/create.js';

const env = { GITHUB_TOKEN: 'gh-secret-value', GITLAB_TOKEN: 'gl-secret-value', MY_TOKEN: 'mine', EMPTY: '  ' };

describe('forge options', () => {
  it('guesses GitHub and the repository from the remote URL, in every URL form', () => {
    for (const url of ['https://github.com/acme/gitops.git', 'git@github.com:acme/gitops.git', 'ssh://git@github.com/acme/gitops', 'https://github.com/acme/gitops/']) {
      expect(forgeConfigFrom({}, url, env)).toEqual({ kind: 'github', apiUrl: 'https://api.github.com', repository: { owner: 'acme', name: 'gitops' }, token: 'gh-secret-value' });
    }
  });

  it('guesses GitLab with a nested namespace', () => {
    expect(forgeConfigFrom({}, 'git@gitlab.com:platform/openstack/gitops.git', env)).toEqual({ kind: 'gitlab', apiUrl: 'https://gitlab.com/api/v4', repository: { owner: 'platform/openstack', name: 'gitops' }, token: 'gl-secret-value' });
  });

  it('takes the flags over the guesses', () => {
    const c = forgeConfigFrom({ forge: 'gitea', forgeUrl: 'http://127.0.0.1:3000/api/v1/', forgeRepo: 'ops/cloud', forgeTokenEnv: 'MY_TOKEN' }, 'https://git.example.com/x/y.git', env);
    expect(c).toEqual({ kind: 'gitea', apiUrl: 'http://127.0.0.1:3000/api/v1', repository: { owner: 'ops', name: 'cloud' }, token: 'mine' });
  });

  it('refuses what it cannot use, as FORGE_CONFIG (exit 2), never echoing a token', () => {
    const refusal = (flags: Parameters<typeof forgeConfigFrom>[0], url: string | undefined, message: RegExp) => {
      let err: unknown;
      try {
        forgeConfigFrom(flags, url, env);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'FORGE_CONFIG', exitCode: 2, message: expect.stringMatching(message) });
      expect(JSON.stringify(err)).not.toMatch(/secret-value/);
    };
    refusal({}, 'https://git.example.com/x/y.git', /cannot tell the forge .*git\.example\.com/);
    refusal({ forge: 'bitbucket' }, 'https://github.com/a/b', /--forge must be github, gitlab or gitea/);
    refusal({ forge: 'gitea' }, 'https://git.example.com/x/y.git', /needs --forge-url/);
    refusal({ forgeUrl: 'http://api.github.example/' }, 'https://github.com/a/b', /must be https/);
    refusal({ forgeUrl: 'https://user:gh-secret-value@api.github.example/' }, 'https://github.com/a/b', /must not carry credentials/);
    refusal({ forgeUrl: 'not a url' }, 'https://github.com/a/b', /is not a URL/);
    refusal({ forge: 'gitlab', forgeUrl: 'https://gitlab.example.com' }, 'https://gitlab.example.com/a/b', /not a GitLab API base/);
    refusal({ forgeRepo: 'just-a-name' }, 'https://github.com/a/b', /not a repository path/);
    refusal({ forgeRepo: 'a/b/c' }, 'https://github.com/a/b', /a github repository is owner\/name/);
    refusal({}, '/srv/git/gitops.git', /cannot tell the forge/);
    refusal({ forgeTokenEnv: 'NOT_SET_ANYWHERE' }, 'https://github.com/a/b', /environment variable NOT_SET_ANYWHERE is not set/);
    refusal({ forgeTokenEnv: 'EMPTY' }, 'https://github.com/a/b', /environment variable EMPTY is empty/);
    refusal({ forgeTokenEnv: 'A-B' }, 'https://github.com/a/b', /not an environment variable name/);
  });

  it('reads host and path of remote URLs', () => {
    expect(parseRemoteUrl('git@gitlab.com:a/b.git')).toEqual({ host: 'gitlab.com', path: 'a/b.git' });
    expect(parseRemoteUrl('https://GitHub.com/a/b')).toEqual({ host: 'github.com', path: '/a/b' });
    expect(parseRemoteUrl('/local/path')).toBeUndefined();
  });
});
