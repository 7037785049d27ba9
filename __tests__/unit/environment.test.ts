import { describe, it, expect } from '@jest/globals'
import { blueGreenDbtEnvironment, dbtEnvironment } from '../../src/environment.js'

const runnerEnv = {
  PATH: '/usr/bin',
  HOME: '/home/runner',
  LANG: 'C.UTF-8',
  CI: 'true',
  DBT_PROFILES_DIR: '/profiles',
  DBT_ENV_SECRET_MZ_PASSWORD: 'pw',
  MZ_HOST: 'mz.example',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIA',
  AWS_SECRET_ACCESS_KEY: 'secret',
  GITHUB_SHA: 'abc',
  GITHUB_REPOSITORY: 'acme/analytics',
  GITHUB_WORKSPACE: '/work',
  GITHUB_EVENT_PATH: '/runner/event.json',
  RUNNER_TEMP: '/runner/temp',
  'INPUT_GITHUB-TOKEN': 'ghs_token',
  'INPUT_MATERIALIZE-URL': 'postgres://u:p@h/db',
  INPUT_MODE: 'slim',
  ACTIONS_RUNTIME_TOKEN: 'runtime',
  ACTIONS_RUNTIME_URL: 'https://runtime.example',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example',
  ACTIONS_RESULTS_URL: 'https://results.example',
  ACTIONS_CACHE_URL: 'https://cache.example',
  GITHUB_TOKEN: 'ghs_exported',
  GH_TOKEN: 'ghs_cli',
  GITHUB_ENV: '/runner/env',
  GITHUB_OUTPUT: '/runner/output',
  GITHUB_PATH: '/runner/path',
  GITHUB_STATE: '/runner/state',
  GITHUB_STEP_SUMMARY: '/runner/summary'
}

describe('dbtEnvironment', () => {
  it("keeps the user's and the runner's ordinary variables", () => {
    const env = dbtEnvironment(undefined, runnerEnv)
    for (const name of [
      'PATH',
      'HOME',
      'LANG',
      'CI',
      'DBT_PROFILES_DIR',
      'DBT_ENV_SECRET_MZ_PASSWORD',
      'MZ_HOST',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'GITHUB_SHA',
      'GITHUB_REPOSITORY',
      'GITHUB_WORKSPACE',
      'GITHUB_EVENT_PATH',
      'RUNNER_TEMP'
    ] as const)
      expect(env[name]).toBe(runnerEnv[name])
  })

  it("drops the action's inputs, the runner's tokens and service URLs, and its command files", () => {
    const env = dbtEnvironment(undefined, runnerEnv)
    expect(Object.keys(env).filter((name) => /^(INPUT|ACTIONS)_/.test(name))).toEqual([])
    for (const name of [
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'GITHUB_ENV',
      'GITHUB_OUTPUT',
      'GITHUB_PATH',
      'GITHUB_STATE',
      'GITHUB_STEP_SUMMARY'
    ])
      expect(env).not.toHaveProperty(name)
    expect(Object.keys(env)).toHaveLength(15)
  })

  it('adds the pull request environment when there is one', () => {
    expect(dbtEnvironment('pr_7', runnerEnv).DBT_PR_ENVIRONMENT).toBe('pr_7')
    expect(dbtEnvironment(undefined, runnerEnv)).not.toHaveProperty('DBT_PR_ENVIRONMENT')
  })
})

describe('blueGreenDbtEnvironment', () => {
  it("is dbtEnvironment's without CI_TAG, which breaks deploy_init", () => {
    const env = { ...runnerEnv, CI_TAG: 'gh_ci_42' }
    expect(dbtEnvironment(undefined, env).CI_TAG).toBe('gh_ci_42')
    const expected = dbtEnvironment(undefined, env)
    delete expected.CI_TAG
    expect(blueGreenDbtEnvironment(env)).toEqual(expected)
  })
})
