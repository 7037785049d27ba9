export const id = 929;
export const ids = [929];
export const modules = {

/***/ 2929:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3838);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8408);
// The main step, loaded by index.ts: reads the inputs, runs the mode and phase, and fails
// the step with the cause.



try {
    await (0,_main_js__WEBPACK_IMPORTED_MODULE_2__/* .run */ .e)();
}
catch (error) {
    _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .setFailed */ .C1((0,_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .errorMessage */ .gJ)(error));
}

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 3916:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   dz: () => (/* binding */ InputError),
/* harmony export */   gJ: () => (/* binding */ errorMessage),
/* harmony export */   lZ: () => (/* binding */ ActionError)
/* harmony export */ });
/** An input that failed validation. Its message names the input and what is accepted. */
class InputError extends Error {
    input;
    constructor(input, detail) {
        super(`Input "${input}" ${detail}`);
        this.input = input;
        this.name = 'InputError';
    }
}
/** A failure the user can act on; its message is complete without a stack trace. */
class ActionError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = 'ActionError';
    }
}
function errorMessage(error) {
    if (error instanceof Error)
        return error.message;
    return String(error);
}


/***/ }),

/***/ 8408:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  e: () => (/* binding */ run)
});

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 7 modules
var lib_core = __webpack_require__(3838);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./node_modules/js-yaml/dist/js-yaml.mjs
var js_yaml = __webpack_require__(3243);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
;// CONCATENATED MODULE: ./src/secrets.ts
// Secrets are masked in the runner's log with core.setSecret, and also scrubbed from the
// texts the runner does not mask for us: PR comments, and anything we write to files.

const known = new Set();
/** `\u00e9` for `é`: how Python's json (dbt's artifacts) writes non-ASCII characters. */
const asciiEscaped = (text) => text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/**
 * The forms a secret takes in text: raw, URL-encoded (connection strings), JSON-escaped (as
 * JavaScript and as Python write it) and base64 (basic auth, Kubernetes-style configs). Each
 * form once; encoding a form again would never end, since `%` encodes to `%25`.
 */
function secretForms(value) {
    const json = JSON.stringify(value).slice(1, -1);
    return [
        ...new Set([
            value,
            encodeURIComponent(value),
            json,
            asciiEscaped(json),
            Buffer.from(value, 'utf8').toString('base64')
        ])
    ];
}
/** Masks a secret in all its forms before anything can print it. Very short values would mask noise. */
function registerSecret(value) {
    if (!value || value.length < 4)
        return;
    for (const form of secretForms(value)) {
        if (known.has(form))
            continue;
        known.add(form);
        lib_core/* setSecret */.Pq(form);
    }
}
/** Registers the values of dbt's secret environment variables (DBT_ENV_SECRET_*). */
function registerSecretEnvironment(env = process.env) {
    for (const [name, value] of Object.entries(env)) {
        if (name.startsWith('DBT_ENV_SECRET_'))
            registerSecret(value);
    }
}
/** Replaces every registered form, longest first, so no part of a longer form is left over. */
function redact(text) {
    let result = text;
    for (const secret of [...known].sort((a, b) => b.length - a.length))
        result = result.split(secret).join('***');
    return result;
}

;// CONCATENATED MODULE: ./src/input-fields.ts
// Typed readers of single action inputs: each reads one input by name, and every error names
// it and says what it accepts. Only inputs.ts calls them; it assembles the per-mode inputs.




function input_fields_text(name) {
    return lib_core/* getInput */.V4(name).trim();
}
function oneOf(name, accepted, fallback) {
    const value = input_fields_text(name) || fallback;
    if (accepted.includes(value))
        return value;
    throw new errors/* InputError */.dz(name, `is "${value}"; accepted: ${accepted.map((a) => `"${a}"`).join(', ')}.`);
}
function bool(name, fallback) {
    const value = input_fields_text(name);
    if (value === '')
        return fallback;
    if (/^true$/i.test(value))
        return true;
    if (/^false$/i.test(value))
        return false;
    throw new errors/* InputError */.dz(name, `is "${value}"; accepted: "true" or "false".`);
}
function integer(name, fallback, min, max) {
    const value = input_fields_text(name);
    if (value === '')
        return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
        throw new errors/* InputError */.dz(name, `is "${value}"; accepted: a whole number from ${min} to ${max}.`);
    }
    return Number(value);
}
function directoryInWorkspace(name, value, workspace) {
    const resolved = external_node_path_default().resolve(workspace, value);
    const relative = external_node_path_default().relative(workspace, resolved);
    if (relative.startsWith('..') || external_node_path_default().isAbsolute(relative)) {
        throw new errors/* InputError */.dz(name, `is "${value}", which is outside the workspace; accepted: a directory inside ${workspace}.`);
    }
    if (!(0,external_node_fs_.existsSync)(resolved) || !(0,external_node_fs_.statSync)(resolved).isDirectory()) {
        throw new errors/* InputError */.dz(name, `is "${value}", which is not a directory in the workspace.`);
    }
    return resolved;
}
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration such as `500ms`, `5s`, `2m`, `1h` or plain seconds, in milliseconds. */
function parseDuration(value) {
    const match = DURATION.exec(value.trim());
    return match ? Number(match[1]) * UNIT_MS[match[2] ?? 's'] : undefined;
}
function duration(name, fallback, minMs, maxMs) {
    const value = input_fields_text(name) || fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms < minMs || ms > maxMs) {
        throw new errors/* InputError */.dz(name, `is "${value}"; accepted: a duration from ${minMs / 1000} s to ${maxMs / 3_600_000} h such as "500ms", "30s", "10m" or "1h".`);
    }
    return ms;
}

;// CONCATENATED MODULE: ./src/util/args.ts
/**
 * Splits a command line into arguments the way a POSIX shell would for quoting only:
 * single and double quotes group, backslash escapes, nothing is expanded.
 */
function splitArgs(line) {
    const args = [];
    let current = '';
    let inArg = false;
    let quote;
    for (let i = 0; i < line.length; i++) {
        const char = line[i];
        if (quote) {
            if (char === quote)
                quote = undefined;
            else if (char === '\\' && quote === '"' && i + 1 < line.length)
                current += line[++i];
            else
                current += char;
        }
        else if (char === '"' || char === "'") {
            quote = char;
            inArg = true;
        }
        else if (char === '\\' && i + 1 < line.length) {
            current += line[++i];
            inArg = true;
        }
        else if (/\s/.test(char)) {
            if (inArg)
                args.push(current);
            current = '';
            inArg = false;
        }
        else {
            current += char;
            inArg = true;
        }
    }
    if (quote)
        throw new Error(`unclosed ${quote} quote`);
    if (inArg)
        args.push(current);
    return args;
}

;// CONCATENATED MODULE: ./src/inputs.ts
// The only module that reads action inputs. Everything is validated here, before anything
// touches S3, dbt or a database, and every error names the input and what it accepts.








const MODES = ['slim', 'blue-green'];
const SLIM_PHASES = ['build', 'teardown'];
const BLUE_GREEN_PHASES = [
    'all',
    'deploy',
    'promote',
    'cleanup',
    'rollback',
    'status'
];
const DEFAULT_EXCLUDE = ['config.materialized:source', 'config.materialized:sink'];
/** Flags owned by an input of their own, so dbt-args may not set them. */
const FLAGS_WITH_INPUTS = {
    '--target': 'target',
    '-t': 'target',
    '--profiles-dir': 'profiles-dir',
    '--project-dir': 'project-dir',
    '--vars': 'vars',
    '--state': 'state-uri',
    '--select': 'select',
    '-s': 'select',
    '--models': 'select',
    '-m': 'select',
    '--selector': 'selector',
    '--exclude': 'exclude',
    '--defer': 'defer',
    '--favor-state': 'favor-state'
};
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
function parseStateUri(value) {
    const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value);
    const bucket = match?.[1] ?? '';
    if (!match || !BUCKET_NAME.test(bucket)) {
        throw new errors/* InputError */.dz('state-uri', `is "${value}"; accepted: s3://<bucket>/<optional/prefix> with a valid bucket name (3-63 lowercase letters, digits, dots, hyphens).`);
    }
    const prefix = (match[2] ?? '').replace(/\/+$/, '');
    return { uri: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, bucket, prefix };
}
function vars() {
    const value = input_fields_text('vars');
    if (value === '')
        return {};
    let parsed;
    try {
        // The core schema: a date such as 2024-01-01 stays the text dbt renders, not a Date that
        // JSON would turn into a timestamp.
        parsed = js_yaml/* default.load */.Ay.load(value, { schema: js_yaml/* default.CORE_SCHEMA */.Ay.CORE_SCHEMA });
    }
    catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new errors/* InputError */.dz('vars', `is not valid YAML or JSON (${reason}); accepted: a mapping such as "{key: value}".`);
    }
    if (parsed === null || parsed === undefined)
        return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new errors/* InputError */.dz('vars', 'must be a YAML or JSON mapping such as "{key: value}", not a list or a scalar.');
    }
    return parsed;
}
function dbtArgs() {
    let args;
    try {
        args = splitArgs(input_fields_text('dbt-args'));
    }
    catch (error) {
        throw new errors/* InputError */.dz('dbt-args', `cannot be split into arguments: ${(0,errors/* errorMessage */.gJ)(error)}.`);
    }
    for (const arg of args) {
        const flag = arg.split('=')[0] ?? arg;
        const owner = FLAGS_WITH_INPUTS[flag];
        if (owner)
            throw new errors/* InputError */.dz('dbt-args', `must not contain ${flag}; use the "${owner}" input instead.`);
    }
    return args;
}
function profilesDir(workspace) {
    const value = input_fields_text('profiles-dir');
    if (value === '')
        return undefined;
    const dir = directoryInWorkspace('profiles-dir', value, workspace);
    if (!(0,external_node_fs_.existsSync)(external_node_path_default().join(dir, 'profiles.yml'))) {
        throw new errors/* InputError */.dz('profiles-dir', `is "${value}", which holds no profiles.yml; accepted: a directory containing profiles.yml.`);
    }
    return dir;
}
/** A name is looked up on PATH when dbt runs; a path is taken from the workspace, as documented. */
function dbtPath(workspace) {
    const value = input_fields_text('dbt-path') || 'dbt';
    return external_node_path_default().basename(value) === value ? value : external_node_path_default().resolve(workspace, value);
}
function dbtSettings(workspace) {
    const projectDir = directoryInWorkspace('project-dir', input_fields_text('project-dir') || '.', workspace);
    if (!(0,external_node_fs_.existsSync)(external_node_path_default().join(projectDir, 'dbt_project.yml'))) {
        throw new errors/* InputError */.dz('project-dir', `is "${input_fields_text('project-dir') || '.'}", which holds no dbt_project.yml.`);
    }
    return {
        executable: dbtPath(workspace),
        projectDir,
        profilesDir: profilesDir(workspace),
        target: input_fields_text('target') || undefined,
        vars: vars(),
        extraArgs: dbtArgs(),
        cacheParse: bool('cache-parse', true)
    };
}
function prEnvironment() {
    const value = input_fields_text('pr-environment');
    if (value === '')
        return undefined;
    if (!ENVIRONMENT_NAME.test(value)) {
        throw new errors/* InputError */.dz('pr-environment', `is "${value}"; accepted: letters, digits and "_", starting with a letter or "_", at most 63 characters.`);
    }
    return value;
}
/** `diff-keys`: model name to key column(s), as a YAML or JSON mapping. */
function diffKeys() {
    const value = input_fields_text('diff-keys');
    const accepted = 'accepted: a mapping of model names to a column or a list of columns, such as "{orders: order_id, lines: [order_id, line]}".';
    if (value === '')
        return {};
    let parsed;
    try {
        parsed = js_yaml/* default.load */.Ay.load(value, { schema: js_yaml/* default.CORE_SCHEMA */.Ay.CORE_SCHEMA });
    }
    catch {
        throw new errors/* InputError */.dz('diff-keys', `is not valid YAML or JSON; ${accepted}`);
    }
    const identifier = (c) => typeof c === 'string' && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(c);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new errors/* InputError */.dz('diff-keys', `is not a mapping; ${accepted}`);
    const keys = {};
    for (const [model, columns] of Object.entries(parsed)) {
        const list = Array.isArray(columns) ? columns : [columns];
        if (list.length === 0 || !list.every(identifier))
            throw new errors/* InputError */.dz('diff-keys', `gives "${model}" ${JSON.stringify(columns)}; ${accepted}`);
        keys[model] = list;
    }
    return keys;
}
function percent(name, fallback) {
    const value = input_fields_text(name);
    if (value === '')
        return fallback;
    if (!/^\d+(\.\d+)?%?$/.test(value) || Number(value.replace('%', '')) > 100)
        throw new errors/* InputError */.dz(name, `is "${value}"; accepted: a percentage from 0 to 100 such as "10" or "2.5".`);
    return Number(value.replace('%', ''));
}
function diffSettings() {
    return {
        mode: oneOf('diff', ['off', 'report', 'gate'], 'off'),
        maxRowChangePercent: percent('diff-max-row-change', 10),
        allowSchemaChange: bool('diff-allow-schema-change', true),
        timeoutMs: duration('diff-timeout', '5m', 1000, 24 * 3_600_000),
        maxObjects: integer('diff-max-objects', 20, 1, 1000),
        cluster: input_fields_text('diff-cluster') || undefined,
        keys: diffKeys(),
        downstream: bool('diff-downstream', false)
    };
}
function reportSettings() {
    const githubToken = input_fields_text('github-token') || undefined;
    if (githubToken)
        registerSecret(githubToken);
    return {
        githubToken,
        prComment: bool('pr-comment', true),
        environmentUrl: httpUrl('environment-url')
    };
}
/** An optional http(s) URL input. */
function httpUrl(name) {
    const value = input_fields_text(name) || undefined;
    if (value !== undefined && !/^https?:\/\/[^\s/]+\S*$/.test(value)) {
        throw new errors/* InputError */.dz(name, `is "${value}"; accepted: an http:// or https:// URL.`);
    }
    return value;
}
function s3Settings() {
    return {
        endpoint: httpUrl('s3-endpoint'),
        region: input_fields_text('aws-region') || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
        maxAttempts: integer('s3-max-attempts', 3, 1, 10),
        timeoutMs: integer('s3-timeout', 30, 1, 600) * 1000
    };
}
function selection() {
    const select = input_fields_text('select') || undefined;
    const selector = input_fields_text('selector') || undefined;
    if (select && selector) {
        throw new errors/* InputError */.dz('selector', 'cannot be combined with "select"; give one of them.');
    }
    const exclude = input_fields_text('exclude');
    return {
        select,
        selector,
        exclude: exclude === '' ? undefined : exclude === 'none' ? [] : exclude.split(/\s+/)
    };
}
function slimBuild(common) {
    const defer = bool('defer', false);
    const favorState = bool('favor-state', false);
    if (favorState && !defer) {
        throw new errors/* InputError */.dz('favor-state', 'is "true", which needs "defer: true": --favor-state only changes how dbt defers. Set "defer" to "true", or drop "favor-state".');
    }
    return {
        ...common,
        mode: 'slim',
        phase: 'build',
        state: stateLocation('slim'),
        s3: s3Settings(),
        onStateError: oneOf('on-state-error', ['fail', 'full-build'], 'fail'),
        selection: selection(),
        defer,
        favorState,
        skipUnchanged: bool('skip-unchanged', true),
        uploadManifest: oneOf('upload-manifest', ['auto', 'true', 'false'], 'auto'),
        cachePackages: bool('cache-packages', true)
    };
}
const ENCODING_HINT = 'Percent-encode reserved characters in the user name and password, e.g. "%" as "%25", "/" as "%2F", "@" as "%40", "#" as "%23".';
/** Decodes a user name or password; the error never shows the value. */
function decodeUrlPart(part, what) {
    try {
        return decodeURIComponent(part);
    }
    catch {
        throw new errors/* InputError */.dz('materialize-url', `has a ${what} that is not percent-encoded. ${ENCODING_HINT}`);
    }
}
/** The `materialize-url` input alone (masked), for the post step's connection. */
function materializeUrl() {
    const value = input_fields_text('materialize-url');
    if (value === '')
        return undefined;
    registerSecret(value);
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new errors/* InputError */.dz('materialize-url', `is not a URL; accepted: postgres://user:password@host:port/database. ${ENCODING_HINT}`);
    }
    if (!['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname) {
        throw new errors/* InputError */.dz('materialize-url', 'must be postgres://user:password@host:port/database.');
    }
    decodeUrlPart(url.username, 'user name');
    if (url.password)
        registerSecret(decodeUrlPart(url.password, 'password'));
    return value;
}
const QUALIFIED_NAME = /^[^.\s,"]+\.[^.\s,"]+\.[^.\s,"]+$/;
function allowDependents() {
    const names = input_fields_text('allow-dependents')
        .split(/[\s,]+/)
        .filter(Boolean);
    const bad = names.find((name) => !QUALIFIED_NAME.test(name));
    if (bad !== undefined) {
        throw new errors/* InputError */.dz('allow-dependents', `has "${bad}"; accepted: fully qualified names database.schema.name, as the blocked drop's error prints them, separated by spaces or commas.`);
    }
    return names;
}
function dryRun(phase) {
    const value = bool('dry-run', false);
    if (value && phase !== 'promote') {
        throw new errors/* InputError */.dz('dry-run', `is "true", which applies only to "phase: promote" (phase is "${phase}"); stage with "phase: deploy" first.`);
    }
    return value;
}
function blueGreenSettings(phase) {
    const exclude = selection().exclude;
    return {
        awaitWith: oneOf('await', ['action', 'dbt'], 'action'),
        lagThresholdSeconds: duration('lag-threshold', '1s', 0, 3_600_000) / 1000,
        replicaGraceSeconds: duration('replica-grace', '2m', 0, 3_600_000) / 1000,
        statementTimeoutMs: duration('statement-timeout', '5m', 1000, 3_600_000),
        pollIntervalMs: duration('poll-interval', '1s', 100, 600_000),
        awaitTimeoutMs: duration('await-timeout', '30m', 1000, 24 * 3_600_000),
        runTests: bool('run-tests', true),
        force: bool('force', false),
        keepPrevious: bool('keep-previous', false),
        cleanupOnFailure: bool('cleanup-on-failure', true),
        lockTimeoutMs: duration('lock-timeout', '10m', 0, 24 * 3_600_000),
        lockTtlMs: duration('lock-ttl', '30m', 10_000, 24 * 3_600_000),
        swapRetries: integer('swap-retries', 3, 0, 10),
        materializeUrl: materializeUrl(),
        exclude: exclude ?? DEFAULT_EXCLUDE,
        allowDependents: allowDependents(),
        dryRun: dryRun(phase),
        environment: environmentName(),
        requireHydrationCheck: bool('require-hydration-check', false)
    };
}
/** GitHub's rule for environment names: at most 255 characters, no control characters. */
function environmentName() {
    const value = input_fields_text('environment') || undefined;
    // eslint-disable-next-line no-control-regex
    if (value !== undefined && (value.length > 255 || /[\u0000-\u001f]/.test(value))) {
        throw new errors/* InputError */.dz('environment', 'is not a GitHub environment name; accepted: up to 255 characters, no control characters.');
    }
    return value;
}
function stateLocation(mode) {
    const stateUri = input_fields_text('state-uri');
    if (stateUri === '') {
        throw new errors/* InputError */.dz('state-uri', `is required in ${mode} mode; accepted: s3://<bucket>/<prefix>.`);
    }
    return parseStateUri(stateUri);
}
function blueGreen(common) {
    const phase = oneOf('phase', BLUE_GREEN_PHASES, 'all');
    return {
        ...common,
        mode: 'blue-green',
        phase,
        state: stateLocation('blue-green'),
        s3: s3Settings(),
        blueGreen: blueGreenSettings(phase)
    };
}
/**
 * Inputs only one mode reads, with their action.yml defaults (a unit test keeps them equal).
 * Set to anything else under the other mode, they would silently do nothing.
 */
const MODE_ONLY_INPUTS = {
    slim: {
        'on-state-error': 'fail',
        select: '',
        selector: '',
        defer: 'false',
        'favor-state': 'false',
        'skip-unchanged': 'true',
        'upload-manifest': 'auto',
        'cache-packages': 'true'
    },
    'blue-green': {
        await: 'action',
        'lag-threshold': '1s',
        'replica-grace': '2m',
        'statement-timeout': '5m',
        'poll-interval': '1s',
        'await-timeout': '30m',
        'run-tests': 'true',
        force: 'false',
        'keep-previous': 'false',
        'cleanup-on-failure': 'true',
        'lock-timeout': '10m',
        'lock-ttl': '30m',
        'swap-retries': '3',
        'materialize-url': '',
        'allow-dependents': '',
        'dry-run': 'false',
        environment: '',
        'require-hydration-check': 'false'
    }
};
function warnInapplicable(mode) {
    const other = MODES.find((m) => m !== mode);
    for (const [name, fallback] of Object.entries(MODE_ONLY_INPUTS[other])) {
        const value = input_fields_text(name);
        if (value !== '' && value.toLowerCase() !== fallback.toLowerCase()) {
            lib_core/* warning */.$e(`Input "${name}" applies only to mode "${other}"; it has no effect with mode "${mode}".`);
        }
    }
}
function getInputs() {
    const workspace = external_node_path_default().resolve(process.env.GITHUB_WORKSPACE || process.cwd());
    const mode = oneOf('mode', MODES, 'slim');
    const phase = mode === 'slim' ? oneOf('phase', SLIM_PHASES, 'build') : undefined;
    const common = {
        workspace,
        report: reportSettings(),
        diff: diffSettings(),
        prEnvironment: prEnvironment(),
        dbt: dbtSettings(workspace)
    };
    const inputs = mode === 'blue-green'
        ? blueGreen(common)
        : phase === 'build'
            ? slimBuild(common)
            : { ...common, mode: 'slim', phase: 'teardown' };
    warnInapplicable(mode);
    return inputs;
}

;// CONCATENATED MODULE: ./src/context.ts
// What the triggering event tells us, read once from the runner's environment.

function readPayload() {
    const file = process.env.GITHUB_EVENT_PATH;
    if (!file)
        return {};
    try {
        return JSON.parse((0,external_node_fs_.readFileSync)(file, 'utf8'));
    }
    catch {
        return {};
    }
}
function pullRequest(payload) {
    const number = payload.pull_request?.number ?? payload.number;
    if (!payload.pull_request || typeof number !== 'number')
        return undefined;
    return { number, action: payload.action ?? '', headSha: payload.pull_request.head?.sha ?? '' };
}
function readRunContext(env = process.env) {
    const payload = readPayload();
    const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    return {
        eventName: env.GITHUB_EVENT_NAME ?? '',
        sha: env.GITHUB_SHA ?? '',
        ref: env.GITHUB_REF ?? '',
        owner,
        repo,
        defaultBranch: payload.repository?.default_branch,
        pullRequest: pullRequest(payload),
        runUrl: env.GITHUB_RUN_ID
            ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`
            : undefined
    };
}
function isDefaultBranchPush(context) {
    return (context.eventName === 'push' &&
        context.defaultBranch !== undefined &&
        context.ref === `refs/heads/${context.defaultBranch}`);
}

// EXTERNAL MODULE: ./node_modules/@actions/io/lib/io.js
var io = __webpack_require__(8701);
// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __webpack_require__(7975);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
;// CONCATENATED MODULE: ./src/util/process.ts
// Child processes (dbt, git) run with argument arrays and no shell, their output streamed to
// the log. Each child leads its own process group, so stopping it reaches everything it
// started; running children are tracked so a cancelled run can stop them and wait for them.

/**
 * SIGINT first: dbt takes it as Ctrl-C and cancels its open warehouse queries, which a
 * terminated dbt leaves running. Then SIGTERM and SIGKILL for a group that does not listen.
 * At most 5 s in all, so that cancel.ts can still undo and exit before the runner's SIGTERM.
 */
const STOP_SCHEDULE = [
    { signal: 'SIGINT', waitMs: 3500 },
    { signal: 'SIGTERM', waitMs: 1000 },
    { signal: 'SIGKILL', waitMs: 500 }
];
const waitUnref = (ms) => new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
});
const TAIL_LINES = 30;
const running = new Set();
let stopping = false;
/** Calls back once per complete line of a stream that arrives in chunks. */
class LineSplitter {
    onLine;
    /** The line begun but not yet ended. */
    partial = '';
    constructor(onLine) {
        this.onLine = onLine;
    }
    push(chunk) {
        const parts = (this.partial + chunk).split('\n');
        this.partial = parts.pop() ?? '';
        parts.forEach((line) => this.onLine(line));
    }
    /** Ends the stream: a last line without a newline is a line too. */
    flush() {
        if (this.partial !== '')
            this.onLine(this.partial);
        this.partial = '';
    }
}
class Tail {
    lines = [];
    splitter = new LineSplitter((line) => this.lines.push(line));
    push(chunk) {
        this.splitter.push(chunk);
        if (this.lines.length > TAIL_LINES * 2)
            this.lines = this.lines.slice(-TAIL_LINES);
    }
    text() {
        return [...this.lines, this.splitter.partial]
            .filter((l) => l !== '')
            .slice(-TAIL_LINES)
            .join('\n');
    }
}
function processGroup(child) {
    return {
        signal(signal) {
            if (child.pid === undefined)
                return;
            try {
                process.kill(-child.pid, signal);
            }
            catch {
                // Every process of the group has exited already.
            }
        },
        closed: new Promise((resolve) => {
            child.once('close', () => resolve());
            child.once('error', () => resolve());
        })
    };
}
/** Signals the group step by step until it has closed, or the schedule is over. */
async function stopGroup(group, schedule = STOP_SCHEDULE, wait = waitUnref) {
    const closed = group.closed.then(() => true);
    for (const step of schedule) {
        if (step.signal)
            group.signal(step.signal);
        if (await Promise.race([closed, wait(step.waitMs).then(() => false)]))
            return;
    }
}
/** Starts `command` (no shell) as the leader of its own group; refused once the run is stopping. */
function startChild(command, args, options) {
    if (stopping)
        throw new Error(`Not starting ${command}: the run is stopping.`);
    const child = (0,external_node_child_process_.spawn)(command, args, {
        cwd: options.cwd,
        env: options.env,
        detached: true, // its own process group: a stop reaches whatever it started
        stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe']
    });
    const group = processGroup(child);
    running.add(group);
    void group.closed.then(() => running.delete(group));
    return { child, group };
}
async function runProcess(command, args, options) {
    const { child, group } = startChild(command, args, options);
    if (options.echo !== false)
        process.stdout.write(`[command]${command} ${args.join(' ')}\n`);
    return new Promise((resolve, reject) => {
        const tail = new Tail();
        const collect = (chunk) => {
            if (options.echo !== false)
                process.stdout.write(chunk);
            tail.push(chunk.toString('utf8'));
        };
        const stdout = [];
        child.stdout?.on('data', (chunk) => {
            if (options.keepStdout)
                stdout.push(chunk.toString('utf8'));
            collect(chunk);
        });
        child.stderr?.on('data', collect);
        child.once('error', reject);
        let timedOut = false;
        const timer = options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                void stopGroup(group);
            }, options.timeoutMs);
        child.once('close', (code, signal) => {
            clearTimeout(timer);
            const kept = options.keepStdout ? { stdout: stdout.join('') } : {};
            resolve({ exitCode: exitCodeOf(code, signal), tail: tail.text(), timedOut, ...kept });
        });
    });
}
/** A child's exit code as a shell reports it; 128 for a signal. */
function exitCodeOf(code, signal) {
    return code ?? (signal ? 128 : 1);
}
/** Stops every running child and starts no more, e.g. when the job is cancelled. */
async function stopRunningProcesses() {
    stopping = true;
    await Promise.all([...running].map((group) => stopGroup(group)));
}

;// CONCATENATED MODULE: ./src/dbt/ask.ts
// Asking the installed dbt about itself in one short process: dbt's own Python when the
// executable is a Python script (pip, pipx, uv), else `dbt --version` (a wrapper, a binary).



const QUERY_TIMEOUT_MS = 60_000;
/** The interpreter of a Python script, e.g. ['/venv/bin/python3'] or ['/usr/bin/env', 'python3']. */
function pythonShebang(executable) {
    const head = Buffer.alloc(256);
    const fd = (0,external_node_fs_.openSync)(executable, 'r');
    try {
        (0,external_node_fs_.readSync)(fd, head, 0, head.length, 0);
    }
    finally {
        (0,external_node_fs_.closeSync)(fd);
    }
    const words = /^#!(.*)/.exec(head.toString('utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    return words.some((word) => /^python[\d.]*$/.test(external_node_path_default().basename(word))) ? words : undefined;
}
/**
 * The dbt distributions next to the executable's Python (venv or pip layout), e.g.
 * `dbt_core-1.11.7.dist-info`: read from the file system, since asking dbt costs a process.
 */
function installedDbtDistributions(executable) {
    try {
        const python = pythonShebang(executable)?.find((word) => external_node_path_default().isAbsolute(word));
        if (!python)
            return [];
        const lib = external_node_path_default().join(external_node_path_default().dirname(python), '..', 'lib');
        return (0,external_node_fs_.readdirSync)(lib)
            .filter((dir) => dir.startsWith('python'))
            .flatMap((dir) => (0,external_node_fs_.readdirSync)(external_node_path_default().join(lib, dir, 'site-packages')))
            .filter((name) => /^dbt[_-].*\.dist-info$/.test(name))
            .sort();
    }
    catch {
        return [];
    }
}
/**
 * A distribution's version in a listing of installedDbtDistributions, e.g. `1.11.7` for
 * `dbt_core`. Undefined when it is not there, or there twice (a broken upgrade).
 */
function distributionVersion(distributions, distribution) {
    const pattern = new RegExp(`^${distribution}-(.+)\\.dist-info$`);
    const found = distributions.flatMap((name) => pattern.exec(name)?.[1] ?? []);
    return found.length === 1 ? found[0] : undefined;
}
/** dbt-core's version from its distribution next to the executable's Python, without a process. */
function installedCoreVersion(executable) {
    return distributionVersion(installedDbtDistributions(executable), 'dbt_core');
}
/** Runs `pythonQuery` in dbt's Python, or `dbt --version`; undefined when neither answers. */
async function askDbt(executable, cwd, env, pythonQuery) {
    try {
        const python = pythonShebang(executable);
        const [command, ...args] = python ? [...python, '-c', pythonQuery] : [executable, '--version'];
        const result = await runProcess(command, args, {
            cwd,
            env,
            echo: false,
            timeoutMs: QUERY_TIMEOUT_MS
        });
        if (result.exitCode !== 0)
            return undefined;
        return { fromPython: python !== undefined, output: result.tail };
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/dbt/manifest-versions.ts
// Which manifest schema versions the installed dbt reads. dbt aborts on a `--state` manifest it
// cannot read (one written by a newer dbt, during every upgrade), so the action checks first and
// applies "on-state-error" instead.

const SCHEMA_URL = /^https:\/\/schemas\.getdbt\.com\/dbt\/manifest\/v(\d+)\.json$/;
/**
 * The manifest version dbt-core 1.<index> writes. From 1.2 on, dbt also reads every older one
 * back to v4 (its `compatible_previous_versions`); 1.0 and 1.1 read only their own. dbt-core
 * 1.12.0 to 1.12.6 still ship only manifest v12 (dbt/artifacts/schemas/manifest/v12).
 */
const MANIFEST_BY_MINOR = [4, 5, 6, 7, 8, 9, 10, 11, 12, 12, 12, 12, 12];
const OLDEST_MANIFEST = 4;
/**
 * Asks dbt's own Python for its exact rule (dbt/artifacts/schemas/base.py, is_compatible_version),
 * printing {"dbt": version, "versions": [current, ...compatible_previous_versions]}.
 */
const PYTHON_QUERY = `import json
from dbt.version import __version__
try:
    from dbt.artifacts.schemas.manifest import WritableManifest as M
except ImportError:
    from dbt.contracts.graph.manifest import WritableManifest as M
older = getattr(M, "compatible_previous_versions", lambda: [])()
versions = [M.dbt_schema_version.version] + [v for name, v in older if name == "manifest"]
print(json.dumps({"dbt": __version__, "versions": versions}))`;
function range(from, to) {
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
/** What dbt-core `version` reads, from the table; undefined for versions other than 1.x. */
function supportFromTable(dbtVersion) {
    const minor = Number(/^1\.(\d+)\./.exec(dbtVersion)?.[1] ?? NaN);
    if (Number.isNaN(minor))
        return undefined;
    const newest = MANIFEST_BY_MINOR[Math.min(minor, MANIFEST_BY_MINOR.length - 1)];
    const oldest = minor < 2 ? newest : OLDEST_MANIFEST;
    return {
        dbtVersion,
        versions: range(oldest, newest),
        exhaustive: minor < MANIFEST_BY_MINOR.length
    };
}
/** dbt-core's version from `dbt --version` ("installed: 1.11.7", older dbt "installed version: 1.0.0"). */
function parseVersionOutput(output) {
    return /installed(?: version)?:\s*v?(\d+\.\d+\.\d+\S*)/.exec(output)?.[1];
}
/** The answer of PYTHON_QUERY: its last line. */
function parsePythonAnswer(output) {
    try {
        const answer = JSON.parse(output.trim().split('\n').pop() ?? '');
        const listed = Array.isArray(answer.versions) ? answer.versions : [];
        const versions = listed.filter((v) => Number.isInteger(v));
        if (typeof answer.dbt !== 'string' || versions.length === 0)
            return undefined;
        return { dbtVersion: answer.dbt, versions, exhaustive: true };
    }
    catch {
        return undefined;
    }
}
/**
 * The manifest versions the installed dbt reads, asked of dbt (see askDbt); from the table when
 * only `dbt --version` answers. Undefined when it cannot tell.
 */
async function queryManifestSupport(executable, cwd, env) {
    // A dbt-core the table knows needs no process: its distribution's name tells the version.
    const installed = installedCoreVersion(executable);
    const known = installed === undefined ? undefined : supportFromTable(installed);
    if (known?.exhaustive)
        return known;
    const answer = await askDbt(executable, cwd, env, PYTHON_QUERY);
    if (!answer)
        return undefined;
    if (answer.fromPython)
        return parsePythonAnswer(answer.output);
    const version = parseVersionOutput(answer.output);
    return version === undefined ? undefined : supportFromTable(version);
}
/** e.g. `v4 to v12` */
function readableRange(support) {
    return `v${Math.min(...support.versions)} to v${Math.max(...support.versions)}`;
}
/** Why this dbt cannot read the manifest at `source`; undefined when it can, or may. */
function unreadableManifest(manifest, support, source) {
    const version = Number(SCHEMA_URL.exec(manifest.schemaVersion)?.[1] ?? NaN);
    if (support.versions.includes(version))
        return undefined;
    // A dbt newer than the table may read newer manifests: dbt decides.
    if (!support.exhaustive && version > Math.max(...support.versions))
        return undefined;
    const label = Number.isNaN(version) ? `"${manifest.schemaVersion}"` : `v${version}`;
    return (`The production manifest ${source} has schema version ${label} (written by dbt ${manifest.dbtVersion ?? 'of an unknown version'}), ` +
        `which the installed dbt-core ${support.dbtVersion} cannot read: it reads manifest versions ${readableRange(support)}. ` +
        'Run the same dbt version here and in the workflow that publishes production state.');
}

;// CONCATENATED MODULE: ./src/dbt/known-versions.ts
// The dbt-core and dbt-materialize releases blue/green can run on: floors and known-bad
// releases, each with the upstream link that explains it. Keep every entry here.

const FLOORS = [
    {
        package: 'dbt-materialize',
        minimum: '1.9.8',
        why: 'older deploy_promote has no max_retries/retry_backoff arguments, so every promote would fail after green was built',
        link: 'https://github.com/MaterializeInc/materialize/pull/36155'
    },
    {
        package: 'dbt-core',
        minimum: '1.8.0',
        why: 'dbt-materialize 1.9 requires it (and the action reads the manifest dbt-core 1.8 writes)',
        link: 'https://github.com/MaterializeInc/materialize/blob/main/misc/dbt-materialize/setup.py'
    }
];
/**
 * Releases where `CI_TAG` in dbt's environment makes `deploy_init` run `COMMENT ON SCHEMA ""`
 * and fail: from the release that added CI tags (MaterializeInc/materialize#25744) to the
 * newest release; the fix is merged upstream but not released.
 */
const CI_TAG_BREAKS_DEPLOY_INIT = {
    package: 'dbt-materialize',
    from: '1.7.5',
    through: '1.9.11',
    problem: 'with CI_TAG set, deploy_init runs COMMENT ON SCHEMA "" and fails',
    link: 'https://github.com/MaterializeInc/materialize/pull/38066'
};
/** Known-bad releases the action refuses (none today beyond the floors). */
const REFUSED_RELEASES = [];
/** `1.9.8` → [1, 9, 8]; pre-release and post-release tags after the numbers are ignored. */
function numbers(version) {
    return (/^v?(\d+(?:\.\d+)*)/.exec(version)?.[1] ?? '').split('.').map(Number);
}
/** Negative when a is older than b, 0 when equal, positive when newer. */
function compareVersions(a, b) {
    const [x, y] = [numbers(a), numbers(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const difference = (x[i] ?? 0) - (y[i] ?? 0);
        if (difference !== 0)
            return difference;
    }
    return 0;
}
function isIn(version, releases) {
    return (compareVersions(version, releases.from) >= 0 && compareVersions(version, releases.through) <= 0);
}
/** Why the installed releases cannot run a blue/green deploy, one sentence each; empty when they can. */
function versionProblems(installed) {
    const problems = [];
    for (const floor of FLOORS) {
        const version = installed[floor.package];
        if (version === undefined)
            problems.push(`${floor.package} is not installed.`);
        else if (compareVersions(version, floor.minimum) < 0)
            problems.push(`${floor.package} ${version} is older than ${floor.minimum}, the oldest release blue/green supports: ${floor.why} (${floor.link}).`);
    }
    for (const bad of REFUSED_RELEASES) {
        const version = installed[bad.package];
        if (version !== undefined && isIn(version, bad))
            problems.push(`${bad.package} ${version} is a known-bad release: ${bad.problem} (${bad.link}).`);
    }
    return problems;
}
/** Asks dbt's own Python which releases it runs: {"dbt-core": "1.11.7", "dbt-materialize": …}. */
const known_versions_PYTHON_QUERY = `import json
from importlib.metadata import PackageNotFoundError, version
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
print(json.dumps({name: installed(name) for name in ("dbt-core", "dbt-materialize")}))`;
/** The answer of PYTHON_QUERY: its last line. */
function parseVersionsAnswer(output) {
    try {
        const answer = JSON.parse(output.trim().split('\n').pop() ?? '');
        const read = (name) => (typeof answer[name] === 'string' ? answer[name] : undefined);
        return { 'dbt-core': read('dbt-core'), 'dbt-materialize': read('dbt-materialize') };
    }
    catch {
        return undefined;
    }
}
/** `dbt --version`: "installed: 1.11.7" under Core, "- materialize: 1.9.10 - …" under Plugins. */
function parseDbtVersionOutput(output) {
    const core = /installed(?: version)?:\s*v?(\d+\.\d+\.\d+\S*)/.exec(output)?.[1];
    if (core === undefined)
        return undefined;
    const materialize = /-\s*materialize:\s*v?(\d+\.\d+\.\d+[^\s-]*)/.exec(output)?.[1];
    return { 'dbt-core': core, 'dbt-materialize': materialize };
}
/**
 * The installed dbt-core and dbt-materialize: read from their distributions next to dbt's
 * Python when both are there, else asked of dbt (see askDbt); undefined when it cannot tell.
 */
async function queryInstalledVersions(executable, cwd, env) {
    const distributions = installedDbtDistributions(executable);
    const core = distributionVersion(distributions, 'dbt_core');
    const materialize = distributionVersion(distributions, 'dbt_materialize');
    if (core !== undefined && materialize !== undefined)
        return { 'dbt-core': core, 'dbt-materialize': materialize };
    const answer = await askDbt(executable, cwd, env, known_versions_PYTHON_QUERY);
    if (!answer)
        return undefined;
    return answer.fromPython
        ? parseVersionsAnswer(answer.output)
        : parseDbtVersionOutput(answer.output);
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/dbt/worker.ts
// One long-lived dbt process for a run's invocations with the same vars: Python imports dbt
// once, and dbt parses the project once, through its programmatic entry point (dbtRunner,
// https://docs.getdbt.com/reference/programmatic-invocations). Each invocation then reuses the
// parsed manifest, which dbt documents for this use. A cancelled run stops the process like any
// other child; a crash or a timeout ends it, and the next invocation starts a new one.


/**
 * Reads one request per line: {"args": [...], "parse": [...] | null}. With "parse", the
 * invocation runs on the manifest those arguments parse, kept for the next such request;
 * without, it parses by itself, and a kept manifest is dropped unless it was `dbt parse`,
 * whose result replaces it. After each invocation: the marker and {"exit": code}, code as the
 * dbt command line gives it (0 ok, 1 failed, 2 error). Ctrl-C ends the process with 130.
 */
const WORKER_SOURCE = `import json, sys
from dbt.cli.main import dbtRunner

def exit_code(result):
    if result.success:
        return 0
    return 2 if result.exception is not None else 1

def invoke(args, manifest=None):
    sys.argv = ["dbt", *args]  # dbt records it as the invocation command in its artifacts
    return dbtRunner(manifest=manifest).invoke(args)

def serve(marker):
    manifest = None
    for line in sys.stdin:
        request = json.loads(line)
        result = None
        if request["parse"] is not None and manifest is None:
            parsed = invoke(request["parse"])
            if parsed.success:
                manifest = parsed.result
            else:
                result = parsed
        if result is None:
            reuse = request["parse"] is not None
            result = invoke(request["args"], manifest if reuse else None)
            if request["args"][0] == "parse":
                manifest = result.result if result.success else None
            elif not reuse:
                manifest = None
        sys.stdout.flush()
        sys.stderr.flush()
        print(marker + json.dumps({"exit": exit_code(result)}), flush=True)
        if isinstance(result.exception, KeyboardInterrupt):
            sys.exit(130)

try:
    serve(sys.argv.pop())
except KeyboardInterrupt:
    sys.exit(130)
`;
/** After its input closes, the worker exits by itself; one that does not is stopped. */
const CLOSE_SCHEDULE = [{ signal: null, waitMs: 10_000 }, ...STOP_SCHEDULE];
class DbtWorker {
    python;
    shownAs;
    cwd;
    env;
    process;
    /** Invocations run one at a time, in the order asked. */
    queue = Promise.resolve();
    closed = false;
    constructor(
    /** dbt's Python interpreter, e.g. ['/venv/bin/python3'] (see pythonShebang). */
    python, shownAs, cwd, env) {
        this.python = python;
        this.shownAs = shownAs;
        this.cwd = cwd;
        this.env = env;
    }
    invoke(request, options = {}) {
        const next = this.queue.then(() => this.invokeNow(request, options));
        this.queue = next.catch(() => undefined);
        return next;
    }
    /**
     * Starts the process and parses now, quietly, ahead of the first invocation, which waits for
     * it. A failed parse shows when that invocation parses again; close() awaits it.
     */
    prepare(parse) {
        this.queue = this.queue
            .then(() => this.invokeNow({ args: parse, parse: null }, { quiet: true }))
            .catch(() => undefined);
    }
    /**
     * Ends the process: its input closes and it exits. Every invocation asked for has been
     * awaited by then, but a prepare() the run did not need, which is stopped.
     */
    async close() {
        this.closed = true;
        const current = this.process;
        this.process = undefined;
        if (current) {
            keepAlive(current, true); // the action waits for the exit, not only for the input to close
            current.child.stdin?.end();
            await stopGroup(current.group, current.pending ? STOP_SCHEDULE : CLOSE_SCHEDULE);
        }
        await this.queue;
    }
    invokeNow(request, options) {
        if (this.closed)
            throw new Error('dbt was closed before this invocation could start.');
        const worker = (this.process ??= this.start());
        if (!options.quiet)
            process.stdout.write(`[command]${this.shownAs} ${request.args.join(' ')}\n`);
        return new Promise((resolve) => {
            const pending = { options, tail: new Tail(), stdout: [], timedOut: false, resolve };
            worker.pending = pending;
            const timer = options.timeoutMs === undefined
                ? undefined
                : setTimeout(() => {
                    pending.timedOut = true;
                    this.retire(worker);
                    void stopGroup(worker.group);
                }, options.timeoutMs);
            pending.resolve = (result) => {
                clearTimeout(timer);
                worker.pending = undefined;
                keepAlive(worker, false);
                resolve(result);
            };
            keepAlive(worker, true);
            worker.child.stdin?.write(`${JSON.stringify(request)}\n`);
        });
    }
    start() {
        const marker = `dbt-worker-${(0,external_node_crypto_.randomBytes)(12).toString('hex')} `;
        const started = startChild(this.python[0], [...this.python.slice(1), '-u', '-c', WORKER_SOURCE, marker], { cwd: this.cwd, env: this.env, stdin: 'pipe' });
        const worker = { ...started, marker };
        keepAlive(worker, false);
        const { child } = started;
        // The marker must be matched on whole lines.
        const lines = new LineSplitter((line) => this.onLine(worker, line));
        child.stdout?.on('data', (chunk) => lines.push(chunk.toString('utf8')));
        child.stderr?.on('data', (chunk) => this.echo(worker, chunk.toString('utf8'), false));
        child.stdin?.on('error', () => undefined); // a worker that died is reported by 'close'
        const ended = (exitCode) => {
            lines.flush();
            this.retire(worker);
            if (worker.pending)
                finish(worker.pending, exitCode);
        };
        child.once('close', (code, signal) => ended(exitCodeOf(code, signal)));
        child.once('error', (error) => {
            worker.pending?.tail.push(`${error.message}\n`);
            ended(127);
        });
        return worker;
    }
    /** The next invocation starts a new process: this one is stopping or gone. */
    retire(worker) {
        if (this.process === worker)
            this.process = undefined;
    }
    onLine(worker, line) {
        const pending = worker.pending;
        if (pending && line.startsWith(worker.marker)) {
            const { exit } = JSON.parse(line.slice(worker.marker.length));
            finish(pending, exit);
            return;
        }
        this.echo(worker, `${line}\n`, true);
    }
    echo(worker, text, isStdout) {
        const pending = worker.pending;
        if (!pending?.options.quiet)
            process.stdout.write(text);
        pending?.tail.push(text);
        if (isStdout && pending?.options.keepStdout)
            pending.stdout.push(text);
    }
}
function finish(pending, exitCode) {
    pending.resolve({
        exitCode,
        tail: pending.tail.text(),
        timedOut: pending.timedOut,
        ...(pending.options.keepStdout ? { stdout: pending.stdout.join('') } : {})
    });
}
/**
 * An invocation in flight keeps the action alive; an idle worker does not, so a run that ends
 * without close() still exits, and the worker's input closes with it.
 */
function keepAlive({ child }, on) {
    const handles = [
        child,
        ...[child.stdin, child.stdout, child.stderr].map((s) => s)
    ];
    for (const handle of handles) {
        if (on)
            handle?.ref();
        else
            handle?.unref();
    }
}

;// CONCATENATED MODULE: ./src/dbt/cli.ts
// The dbt command line behind a small interface, so unit tests can fake it.










/** Commands that run on a parsed manifest, and so may reuse the one parsed before. */
const MANIFEST_COMMANDS = new Set([
    'build',
    'compile',
    'list',
    'ls',
    'run',
    'run-operation',
    'seed',
    'show',
    'snapshot',
    'test'
]);
/** Flags that change what dbt parses, or what it merges into the manifest (deferral). */
const PARSE_FLAGS = /^--(vars|target|profile|project-dir|profiles-dir|target-path|(no-)?partial-parse|(no-)?defer|defer-state|state|favor-state|(no-)?static-parser|use-experimental-parser)(=|$)|^-t$/;
/** Whether an invocation may run on the manifest parsed with the common arguments. */
function reusesManifest(command, args) {
    return MANIFEST_COMMANDS.has(command) && !args.some((arg) => PARSE_FLAGS.test(arg));
}
class DbtCli {
    executable;
    settings;
    env;
    options;
    targetPath;
    worker;
    constructor(executable, settings, env, options, 
    /** Relative to the project; undefined: the project's own target-path. */
    targetPath) {
        this.executable = executable;
        this.settings = settings;
        this.env = env;
        this.options = options;
        this.targetPath = targetPath;
        const python = options.persistent ? pythonShebang(executable) : undefined;
        if (python)
            this.worker = new DbtWorker(python, executable, settings.projectDir, env);
    }
    get projectDir() {
        return this.settings.projectDir;
    }
    /** Fails with an InputError naming "dbt-path" when dbt is not there. */
    static async create(settings, env, options = {}) {
        return new DbtCli(await locate(settings.executable), settings, env, options);
    }
    /** The manifest schema versions this dbt reads; undefined when it cannot tell. */
    manifestSupport() {
        return queryManifestSupport(this.executable, this.settings.projectDir, this.env);
    }
    installedVersions() {
        return queryInstalledVersions(this.executable, this.settings.projectDir, this.env);
    }
    /**
     * The same dbt with different vars, e.g. `deploy: true` for the green environment. dbt parses
     * the whole project again whenever the vars differ from its last parse in a target path, so
     * other vars get their own target path, where their partial parse state stays valid. A
     * persistent dbt gets a process of its own, which keeps the manifest of these vars.
     */
    withVars(vars, targetPath) {
        const settings = { ...this.settings, vars };
        return new DbtCli(this.executable, settings, this.env, this.options, targetPath);
    }
    async run(command, args, options = {}) {
        const common = this.commonArgs();
        const result = this.worker
            ? await this.worker.invoke({
                args: [command, ...common, ...args],
                parse: reusesManifest(command, args) ? ['parse', ...common] : null
            }, options)
            : await runProcess(this.executable, [command, ...common, ...args], {
                cwd: this.settings.projectDir,
                env: this.env,
                echo: !options.quiet,
                timeoutMs: options.timeoutMs,
                keepStdout: options.keepStdout
            });
        // The tail goes into error messages: no colour codes, even if dbt-args turns colours on.
        return { ...result, tail: (0,external_node_util_.stripVTControlCharacters)(result.tail) };
    }
    prepare() {
        this.worker?.prepare(['parse', ...this.commonArgs()]);
    }
    async close() {
        await this.worker?.close();
    }
    commonArgs() {
        const { projectDir, profilesDir, target, vars } = this.settings;
        // Plain text for the log, the annotations and the summary; every dbt command accepts it.
        const args = ['--no-use-colors', '--project-dir', projectDir];
        if (profilesDir)
            args.push('--profiles-dir', profilesDir);
        if (target)
            args.push('--target', target);
        if (Object.keys(vars).length > 0)
            args.push('--vars', JSON.stringify(vars));
        if (this.targetPath)
            args.push('--target-path', this.targetPath);
        return args;
    }
}
const INSTALL_HINT = 'Install dbt-core and your adapter in an earlier step (for example "pip install dbt-materialize"), or point "dbt-path" at the executable (a relative path is taken from the workspace).';
function isExecutableFile(file) {
    try {
        (0,external_node_fs_.accessSync)(file, external_node_fs_.constants.X_OK);
        return (0,external_node_fs_.statSync)(file).isFile();
    }
    catch {
        return false;
    }
}
/** The dbt executable: a path (made absolute by the inputs) or a name on PATH. */
async function locate(executable) {
    if (external_node_path_default().isAbsolute(executable)) {
        if (isExecutableFile(executable))
            return executable;
        throw new errors/* InputError */.dz('dbt-path', `resolves to "${executable}", which is not an executable file. ${INSTALL_HINT}`);
    }
    const found = await io/* which */.K7(executable, false);
    if (!found)
        throw new errors/* InputError */.dz('dbt-path', `is "${executable}", which was not found on PATH. ${INSTALL_HINT}`);
    return found;
}

;// CONCATENATED MODULE: ./src/dbt/artifacts.ts
// dbt's JSON artifacts, reduced to the fields the reports use.


const FAILED_STATUSES = new Set(['error', 'fail', 'runtime error']);
function readRunResults(file) {
    if (!(0,external_node_fs_.existsSync)(file))
        return [];
    const parsed = JSON.parse((0,external_node_fs_.readFileSync)(file, 'utf8'));
    return (parsed.results ?? []).map((r) => ({
        uniqueId: r.unique_id,
        status: r.status,
        seconds: r.execution_time ?? 0,
        message: r.message ?? undefined,
        failures: r.failures ?? undefined
    }));
}
function parseManifest(text, source) {
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`${source} is not valid JSON (${(0,errors/* errorMessage */.gJ)(error)}).`);
    }
    const schemaVersion = parsed?.metadata?.dbt_schema_version;
    if (!schemaVersion?.includes('manifest') || typeof parsed.nodes !== 'object') {
        throw new errors/* ActionError */.lZ(`${source} is not a dbt manifest (no metadata.dbt_schema_version or nodes).`);
    }
    const nodes = new Map();
    for (const [id, node] of Object.entries({ ...parsed.nodes, ...parsed.sources })) {
        nodes.set(id, {
            resourceType: node.resource_type ?? id.split('.')[0] ?? '',
            name: node.name ?? id,
            originalFilePath: node.original_file_path,
            checksum: node.checksum?.checksum
        });
    }
    return { schemaVersion, dbtVersion: parsed.metadata?.dbt_version, nodes };
}
function readManifestIndex(file) {
    return (0,external_node_fs_.existsSync)(file)
        ? parseManifest((0,external_node_fs_.readFileSync)(file, 'utf8'), file).nodes
        : new Map();
}

;// CONCATENATED MODULE: ./src/util/scalar.ts
// YAML and JSON hand the action `unknown`s: only scalars become text, so a mapping written
// where a name belongs is reported as missing, never printed as "[object Object]".
function scalarText(value) {
    if (typeof value === 'string')
        return value;
    if (typeof value === 'number' || typeof value === 'boolean')
        return String(value);
    return undefined;
}

;// CONCATENATED MODULE: ./src/dbt/project.ts
// The few facts about a dbt project the action needs, read from its YAML files.





const DBT_CONFIG_FILES = [
    'dbt_project.yml',
    'packages.yml',
    'dependencies.yml',
    'package-lock.yml',
    'selectors.yml',
    'profiles.yml'
];
function readYaml(file) {
    try {
        const parsed = js_yaml/* default.load */.Ay.load((0,external_node_fs_.readFileSync)(file, 'utf8'));
        return parsed && typeof parsed === 'object' ? parsed : {};
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`Could not parse ${file}: ${(0,errors/* errorMessage */.gJ)(error).split('\n')[0]}`);
    }
}
function pathList(config, key, fallback) {
    const value = config[key];
    return Array.isArray(value) ? value.map(String) : fallback;
}
function readSelectors(dir) {
    const file = external_node_path_default().join(dir, 'selectors.yml');
    if (!(0,external_node_fs_.existsSync)(file))
        return [];
    const selectors = readYaml(file).selectors;
    if (!Array.isArray(selectors))
        return [];
    return selectors.map((entry) => ({
        name: scalarText(entry.name) ?? '',
        stateBased: /\bstate\b/.test(JSON.stringify(entry.definition ?? '')),
        isDefault: entry.default === true
    }));
}
function readProject(dir) {
    const config = readYaml(external_node_path_default().join(dir, 'dbt_project.yml'));
    const selectors = readSelectors(dir);
    const defaultSelector = selectors.find((s) => s.isDefault);
    return {
        dir,
        name: scalarText(config.name) ?? '',
        profile: scalarText(config.profile) ?? scalarText(config.name) ?? '',
        sourcePaths: [
            ...pathList(config, 'model-paths', ['models']),
            ...pathList(config, 'seed-paths', ['seeds']),
            ...pathList(config, 'macro-paths', ['macros']),
            ...pathList(config, 'snapshot-paths', ['snapshots']),
            ...pathList(config, 'test-paths', ['tests']),
            ...pathList(config, 'analysis-paths', ['analyses']),
            ...pathList(config, 'docs-paths', [])
        ],
        targetPath: scalarText(config['target-path']) ?? 'target',
        packagesPath: scalarText(config['packages-install-path']) ?? 'dbt_packages',
        packageFiles: ['packages.yml', 'dependencies.yml', 'package-lock.yml'].filter((f) => (0,external_node_fs_.existsSync)(external_node_path_default().join(dir, f))),
        defaultSelector: defaultSelector && {
            name: defaultSelector.name,
            stateBased: defaultSelector.stateBased
        },
        selectors: new Map(selectors.map((s) => [s.name, { name: s.name, stateBased: s.stateBased }])),
        vars: config.vars ?? {}
    };
}
/** Whether a project-relative path is something dbt parses or configures itself with. */
function isDbtFile(project, relativePath) {
    const normalized = relativePath.split((external_node_path_default()).sep).join('/');
    if (DBT_CONFIG_FILES.includes(normalized))
        return true;
    return project.sourcePaths.some((dir) => normalized.startsWith(`${dir.replace(/\/+$/, '')}/`));
}

;// CONCATENATED MODULE: ./src/environment.ts
const PR_ENVIRONMENT_ENV = 'DBT_PR_ENVIRONMENT';
const PR_ENVIRONMENT_VAR = 'pr_environment';
function environment_prEnvironment(inputs, context) {
    if (inputs.prEnvironment)
        return inputs.prEnvironment;
    return context.pullRequest ? `pr_${context.pullRequest.number}` : undefined;
}
/**
 * What dbt, and every package's `env_var()`, must not read: the action's inputs (its GitHub
 * token, `materialize-url`), the runner's internal tokens and service URLs (ACTIONS_*: OIDC,
 * cache, results), GitHub tokens, and the runner's command files, through which a process
 * could set later steps' outputs, environment and PATH.
 */
const HIDDEN_PREFIXES = ['INPUT_', 'ACTIONS_'];
const HIDDEN_NAMES = new Set([
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'GITHUB_ENV',
    'GITHUB_OUTPUT',
    'GITHUB_PATH',
    'GITHUB_STATE',
    'GITHUB_STEP_SUMMARY'
]);
function hiddenFromDbt(name) {
    return HIDDEN_NAMES.has(name) || HIDDEN_PREFIXES.some((prefix) => name.startsWith(prefix));
}
/**
 * The environment dbt runs with: the runner's without what dbt must not read, plus the PR
 * environment when there is one.
 */
function dbtEnvironment(environment, runnerEnv = process.env) {
    const env = {};
    for (const [name, value] of Object.entries(runnerEnv))
        if (value !== undefined && !hiddenFromDbt(name))
            env[name] = value;
    if (environment)
        env[PR_ENVIRONMENT_ENV] = environment;
    return env;
}
/**
 * dbt-materialize's CI tag: `deploy_init` comments the green schemas and clusters with it and
 * then accepts a non-empty green carrying the same tag. Blue/green keeps one green per target
 * and refuses an existing one itself, and released deploy_init fails with it set
 * (dbt/known-versions.ts), so blue/green runs dbt without it.
 */
const CI_TAG_ENV = 'CI_TAG';
/** The environment blue/green runs dbt with: dbtEnvironment's, without CI_TAG. */
function blueGreenDbtEnvironment(runnerEnv = process.env) {
    const env = dbtEnvironment(undefined, runnerEnv);
    delete env[CI_TAG_ENV];
    return env;
}
function withEnvironmentVar(vars, environment) {
    return environment ? { ...vars, [PR_ENVIRONMENT_VAR]: environment } : vars;
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
var external_node_os_default = /*#__PURE__*/__webpack_require__.n(external_node_os_);
;// CONCATENATED MODULE: ./src/dbt/profile.ts
// Reads the dbt profile target the way dbt resolves it, so the action can mask its secrets
// and open its own connection. Only `env_var(...)`, quoted strings and `or` are rendered:
// a field with any other Jinja is left out and named, never shown, since it may hold a secret.






const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g;
const FILTER = String.raw `(?:\|\s*(?:int|float|as_number|as_text|as_bool|as_native|string)\s*)?`;
const ENV_VAR = new RegExp(String.raw `^env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(?:'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?))\s*)?\)\s*` +
    FILTER +
    '$');
const LITERAL = /^(?:'([^']*)'|"([^"]*)")$/;
/** The fields the action's own connection reads. */
const CONNECTION_FIELDS = [
    'type',
    'host',
    'port',
    'user',
    'password',
    'pass',
    'dbname',
    'database',
    'schema',
    'cluster',
    'role',
    'sslmode',
    'sslrootcert',
    'sslcert',
    'sslkey'
];
/** Credentials in dbt adapters' profiles: password/pass, passphrases, tokens, secrets, keys. */
const SECRET_FIELD = /pass|secret|token|private_key|credential/i;
/** …but not where they are kept: paths, files and URLs are no secrets. */
const LOCATION_FIELD = /(?:_path|_file|_uri|_url)$/i;
function profilesFile(projectDir, profilesDir, env = process.env) {
    const candidates = [
        profilesDir,
        env.DBT_PROFILES_DIR,
        projectDir,
        external_node_path_default().join(external_node_os_default().homedir(), '.dbt')
    ];
    for (const dir of candidates) {
        if (dir && (0,external_node_fs_.existsSync)(external_node_path_default().join(dir, 'profiles.yml')))
            return external_node_path_default().join(dir, 'profiles.yml');
    }
    return undefined;
}
/** One operand: env_var('NAME'[, default])[| filter] or a quoted string. */
function renderTerm(term, env) {
    const literal = LITERAL.exec(term);
    if (literal)
        return literal[1] ?? literal[2] ?? '';
    const match = ENV_VAR.exec(term);
    if (!match) {
        throw new errors/* ActionError */.lZ(`it has Jinja the action cannot render: only env_var('NAME'[, default]), quoted strings and "or" are supported`);
    }
    const rendered = env[match[2]] ?? match[3] ?? match[4] ?? match[5];
    if (rendered === undefined)
        throw new errors/* ActionError */.lZ(`env var ${match[2]} is not set and has no default`);
    return rendered;
}
function renderValue(value, env) {
    return value.replace(EXPRESSION, (_whole, expression) => {
        // Jinja's `a or b`: the first operand that renders non-empty.
        const terms = expression.split(/\s+or\s+/).map((term) => renderTerm(term.trim(), env));
        return terms.find((term) => term !== '') ?? terms[terms.length - 1] ?? '';
    });
}
/** Renders every string in `value`; what cannot be rendered is left out and noted by name. */
function renderTree(value, name, env, unrendered) {
    if (typeof value === 'string') {
        try {
            return renderValue(value, env);
        }
        catch (error) {
            unrendered[name] = (0,errors/* errorMessage */.gJ)(error);
            return undefined;
        }
    }
    if (Array.isArray(value))
        return value.map((item) => renderTree(item, name, env, unrendered));
    if (value !== null && typeof value === 'object') {
        const fields = {};
        for (const [key, child] of Object.entries(value)) {
            const rendered = renderTree(child, name ? `${name}.${key}` : key, env, unrendered);
            if (rendered !== undefined)
                fields[key] = rendered;
        }
        return fields;
    }
    return value;
}
function optionalString(value) {
    const text = scalarText(value);
    return text === '' ? undefined : text;
}
/** The target rendered as far as possible, or an error that says which profile or target is wrong. */
function readProfile(file, profileName, targetName, env) {
    const profiles = (js_yaml/* default.load */.Ay.load((0,external_node_fs_.readFileSync)(file, 'utf8')) ?? {});
    const profile = profiles[profileName];
    if (!profile)
        throw new errors/* ActionError */.lZ(`Profile "${profileName}" is not in ${file}.`);
    const outputs = (profile.outputs ?? {});
    const target = targetName ?? optionalString(renderValue(scalarText(profile.target) ?? '', env));
    if (!target || !outputs[target]) {
        throw new errors/* ActionError */.lZ(`Target "${target ?? ''}" is not in profile "${profileName}" (${file}); it has: ${Object.keys(outputs).join(', ') || 'no targets'}.`);
    }
    const unrendered = {};
    const fields = renderTree(outputs[target], '', env, unrendered);
    return { profile: profileName, target, fields, unrendered };
}
/** The values of every secret-looking field, nested ones included (e.g. keyfile_json.private_key). */
function secretValues(fields) {
    const found = [];
    const visit = (value, key) => {
        if (Array.isArray(value))
            value.forEach((item) => visit(item, key));
        else if (value !== null && typeof value === 'object')
            for (const [child, inner] of Object.entries(value))
                visit(inner, child);
        else if ((typeof value === 'string' || typeof value === 'number') &&
            SECRET_FIELD.test(key) &&
            !LOCATION_FIELD.test(key))
            found.push(String(value));
    };
    visit(fields, '');
    return found;
}
/** The connection, or an error naming the field it needs but the action could not render. */
function connectionTarget(rendered) {
    const missing = CONNECTION_FIELDS.find((name) => name in rendered.unrendered);
    if (missing) {
        throw new errors/* ActionError */.lZ(`Profile field "${missing}" of target "${rendered.target}": ${rendered.unrendered[missing]}.`);
    }
    const { fields } = rendered;
    const type = scalarText(fields.type) ?? '';
    const role = optionalString(fields.role);
    if (role && type === 'materialize') {
        // dbt-materialize runs `set role` when the field is set, and Materialize refuses it.
        throw new errors/* ActionError */.lZ(`Profile field "role" of target "${rendered.target}" is set, but Materialize has no SET ROLE, so dbt-materialize cannot connect with it. ` +
            'Log in as the deploy role itself (its user and password or app password) and remove "role".');
    }
    return {
        profile: rendered.profile,
        target: rendered.target,
        type,
        host: optionalString(fields.host),
        port: fields.port === undefined ? undefined : Number(fields.port),
        user: optionalString(fields.user),
        password: optionalString(fields.password ?? fields.pass),
        database: optionalString(fields.dbname ?? fields.database),
        schema: optionalString(fields.schema),
        cluster: optionalString(fields.cluster),
        role,
        sslmode: optionalString(fields.sslmode),
        sslrootcert: optionalString(fields.sslrootcert),
        sslcert: optionalString(fields.sslcert),
        sslkey: optionalString(fields.sslkey)
    };
}
/** The target names of a profile, read by name only (nothing rendered); undefined without the profile. */
function profileTargetNames(file, profileName) {
    let profiles;
    try {
        profiles = js_yaml/* default.load */.Ay.load((0,external_node_fs_.readFileSync)(file, 'utf8'));
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`Could not parse ${file}: ${(0,errors/* errorMessage */.gJ)(error).split('\n')[0]}`);
    }
    const profile = profiles?.[profileName];
    if (!profile || typeof profile !== 'object')
        return undefined;
    return profile.outputs && typeof profile.outputs === 'object' ? Object.keys(profile.outputs) : [];
}

;// CONCATENATED MODULE: ./src/dbt/masking.ts
// Reads the profile target with its secrets masked before dbt or anything else can print them.




/** DBT_ENV_SECRET_* values and every secret the action can render from the target, masked. */
function readMasked(settings, project, env, purpose) {
    registerSecretEnvironment(env);
    const file = profilesFile(settings.projectDir, settings.profilesDir);
    if (!file) {
        throw new errors/* ActionError */.lZ(`${purpose} needs the dbt profile, but no profiles.yml was found (input "profiles-dir").`);
    }
    const target = readProfile(file, project.profile, settings.target, env);
    for (const secret of secretValues(target.fields))
        registerSecret(secret);
    return target;
}
/** Names the fields left unmasked; their values (or Jinja) are never shown. */
function warnUnrendered(target) {
    const names = Object.keys(target.unrendered);
    if (names.length === 0)
        return;
    const fields = names.map((name) => `"${name}"`).join(', ');
    const what = names.length === 1
        ? `field ${fields}, so it cannot mask what it holds`
        : `fields ${fields}, so it cannot mask what they hold`;
    lib_core/* warning */.$e(`Profile target "${target.target}": the action could not render ${what}. ` +
        `It renders only env_var(...), quoted strings and "or"; dbt renders the rest itself. Keep secrets in DBT_ENV_SECRET_* variables, which are always masked.`);
}
/** The target as far as the action can render it, secrets masked; `purpose` names the caller. */
function maskedProfile(settings, project, env, purpose) {
    const target = readMasked(settings, project, env, purpose);
    warnUnrendered(target);
    return target;
}
/** The target's connection, secrets masked; an error names a connection field it cannot render. */
function maskedProfileTarget(settings, project, env, purpose) {
    const target = readMasked(settings, project, env, purpose);
    const connection = connectionTarget(target);
    warnUnrendered(target);
    return connection;
}
/** Best effort before dbt runs: dbt reports profile problems itself. */
function maskProfileSecrets(settings, project, env) {
    try {
        maskedProfile(settings, project, env, 'Masking');
    }
    catch (error) {
        lib_core/* warning */.$e(`The dbt profile's secrets are not masked: ${(0,errors/* errorMessage */.gJ)(error)}`);
    }
}

// EXTERNAL MODULE: ./node_modules/@actions/cache/lib/cache.js + 340 modules
var cache = __webpack_require__(1691);
// EXTERNAL MODULE: ./node_modules/@actions/exec/lib/exec.js + 1 modules
var exec = __webpack_require__(1955);
;// CONCATENATED MODULE: ./src/util/git.ts
// Read-only git queries in the workspace.

async function gitRun(cwd, args) {
    return exec/* getExecOutput */.H('git', args, { cwd, ignoreReturnCode: true, silent: true });
}
async function git(cwd, args) {
    const result = await gitRun(cwd, args);
    return result.exitCode === 0 ? result.stdout : undefined;
}
/** Guards git arguments read from S3 metadata: a commit sha, never an option. */
function isCommitSha(value) {
    return /^[0-9a-f]{7,64}$/i.test(value);
}
async function headSha(cwd) {
    return (await git(cwd, ['rev-parse', 'HEAD']))?.trim() || undefined;
}
/** The git tree of `cwd` at HEAD: equal trees hold equal files. */
async function treeSha(cwd) {
    return (await git(cwd, ['rev-parse', 'HEAD:./']))?.trim() || undefined;
}
/**
 * Files (relative to cwd, limited to it) that differ between `sha` and the working tree,
 * untracked ones included; undefined when git cannot tell (e.g. a shallow clone without sha).
 */
async function changedFilesSince(cwd, sha) {
    if (!isCommitSha(sha))
        return undefined;
    const diff = await git(cwd, ['diff', '--name-only', '--relative', '--no-renames', sha, '--']);
    const untracked = await git(cwd, ['ls-files', '--others', '--exclude-standard']);
    if (diff === undefined || untracked === undefined)
        return undefined;
    return [...diff.split('\n'), ...untracked.split('\n')].filter((line) => line !== '');
}
/** Whether `ancestor` is in the history of `descendant`; undefined when a commit is missing. */
async function isAncestor(cwd, ancestor, descendant) {
    if (!isCommitSha(ancestor) || !isCommitSha(descendant))
        return undefined;
    const { exitCode } = await gitRun(cwd, ['merge-base', '--is-ancestor', ancestor, descendant]);
    return exitCode === 0 ? true : exitCode === 1 ? false : undefined;
}
/** A shallow clone lacks older history, so "not an ancestor" there proves nothing (true when git cannot say). */
async function isShallow(cwd) {
    return (await git(cwd, ['rev-parse', '--is-shallow-repository']))?.trim() !== 'false';
}

;// CONCATENATED MODULE: ./src/dbt/parse-cache.ts
// dbt's partial parse state (partial_parse.msgpack) restored from and saved to the Actions
// cache, so that a CI run re-parses only the files that changed since an earlier run with the
// same dbt, target and vars. dbt checks a restored file itself (its version, the vars, the
// profile, every file's checksum) and parses in full when it does not match, so a stale cache
// can cost time but never change what is built.








const PARSE_FILE = 'partial_parse.msgpack';
/** Where @actions/cache resolves relative paths. */
const workspace = () => process.env.GITHUB_WORKSPACE || process.cwd();
function digest(value) {
    return (0,external_node_crypto_.createHash)('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}
/** The cache entry of this scope: the setup's hash, then the project's git tree (or none). */
async function parseCacheEntry(scope) {
    const setup = digest({
        dbt: installedDbtDistributions(scope.executable),
        settings: scope.settings,
        targetPaths: scope.targetPaths
    });
    const tree = (await treeSha(scope.projectDir)) ?? 'untracked';
    // Relative to the workspace: the cache's version hashes the paths as given.
    const project = external_node_path_default().relative(workspace(), scope.projectDir);
    return {
        key: `dbt-parse-${process.env.RUNNER_OS ?? 'unknown'}-${setup}-${tree}`,
        paths: scope.targetPaths.map((target) => external_node_path_default().join(project, target, PARSE_FILE))
    };
}
const prefixOf = (key) => key.slice(0, key.lastIndexOf('-') + 1);
/** The scope of a run's dbt, or undefined when the "cache-parse" input turned caching off. */
function parseScope(dbt, settings, targetPaths, environment) {
    if (!settings.cacheParse || !dbt.executable)
        return undefined;
    const { projectDir, profilesDir, target, vars } = settings;
    // Relative: the checkout's absolute path differs between runners and runs.
    const profiles = profilesDir && external_node_path_default().relative(projectDir, profilesDir);
    return {
        executable: dbt.executable,
        projectDir,
        targetPaths,
        settings: { profiles, target, vars, environment }
    };
}
/** Restores the nearest saved parse state; undefined when caching is off or unavailable. */
async function restoreParseState(scope) {
    if (!scope || !cache/* isFeatureAvailable */.w3())
        return undefined;
    const entry = await parseCacheEntry(scope);
    try {
        entry.restored = await cache/* restoreCache */.P3(entry.paths, entry.key, [prefixOf(entry.key)]);
    }
    catch (error) {
        lib_core/* warning */.$e(`Restoring dbt's parse state from the cache failed: ${(0,errors/* errorMessage */.gJ)(error)}`);
        return entry;
    }
    lib_core/* info */.pq(entry.restored
        ? `dbt's parse state restored from the cache (${entry.restored}); dbt checks it and re-parses what changed.`
        : `No cached parse state for ${entry.key}: dbt parses the whole project.`);
    return entry;
}
/** Saves the parse state this run left, unless the cache already holds it under this key. */
async function saveParseState(entry) {
    if (!entry || entry.restored === entry.key)
        return;
    const paths = entry.paths.filter((file) => (0,external_node_fs_.existsSync)(external_node_path_default().resolve(workspace(), file)));
    if (paths.length !== entry.paths.length)
        return; // a run that stopped before dbt parsed
    try {
        await cache/* saveCache */.Io(paths, entry.key);
        lib_core/* info */.pq(`dbt's parse state saved to the cache (${entry.key}).`);
    }
    catch (error) {
        lib_core/* warning */.$e(`Saving dbt's parse state to the cache failed: ${(0,errors/* errorMessage */.gJ)(error)}`);
    }
}

;// CONCATENATED MODULE: ./src/dbt/target.ts


function checkTarget(settings, project) {
    const target = settings.target;
    if (!target)
        return;
    const file = profilesFile(settings.projectDir, settings.profilesDir);
    if (!file) {
        throw new errors/* InputError */.dz('target', `is "${target}", but no profiles.yml was found to hold it: set "profiles-dir", or DBT_PROFILES_DIR, or put profiles.yml in the project directory or ~/.dbt.`);
    }
    const targets = profileTargetNames(file, project.profile);
    if (targets?.includes(target))
        return;
    const where = `profile "${project.profile}" of ${file}`;
    throw new errors/* InputError */.dz('target', targets
        ? `is "${target}", which is not a target of ${where}; accepted: ${targets.map((t) => `"${t}"`).join(', ') || 'none (the profile has no outputs)'}.`
        : `is "${target}", but ${where} does not exist (dbt_project.yml names the profile).`);
}

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-s3/dist-cjs/index.js
var dist_cjs = __webpack_require__(3711);
;// CONCATENATED MODULE: ./src/store/s3.ts
// The state store: small JSON objects in S3 or an S3-compatible server, read with their ETag
// and written with conditional headers so that concurrent runs cannot clobber each other.


/** Another writer got there first: the precondition (ETag or absence) no longer holds. */
class ConditionalWriteRefused extends errors/* ActionError */.lZ {
    location;
    constructor(location) {
        super(`S3 refused the conditional write to ${location}: the object changed since this run read it.`);
        this.location = location;
        this.name = 'ConditionalWriteRefused';
    }
}
class S3ObjectStore {
    client;
    bucket;
    settings;
    constructor(client, bucket, settings) {
        this.client = client;
        this.bucket = bucket;
        this.settings = settings;
    }
    static create(settings, bucket) {
        const client = new dist_cjs/* S3Client */.YxF({
            region: settings.region,
            endpoint: settings.endpoint,
            forcePathStyle: settings.endpoint !== undefined,
            // S3-compatible stores reject or corrupt the SDK's default aws-chunked CRC32 uploads.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
            maxAttempts: settings.maxAttempts,
            requestHandler: {
                connectionTimeout: settings.timeoutMs,
                requestTimeout: settings.timeoutMs,
                // Without this the SDK only logs a warning when a response is late.
                throwOnRequestTimeout: true
            }
        });
        return new S3ObjectStore(client, bucket, settings);
    }
    async get(key) {
        try {
            const response = await this.client.send(new dist_cjs/* GetObjectCommand */.jLs({ Bucket: this.bucket, Key: key }));
            const body = (await response.Body?.transformToString('utf8')) ?? '';
            return { body, etag: response.ETag ?? '', metadata: response.Metadata ?? {} };
        }
        catch (error) {
            if (errorCode(error) === 'NoSuchKey')
                return undefined;
            throw this.explain(error, 'read', key);
        }
    }
    async head(key) {
        try {
            const response = await this.client.send(new dist_cjs/* HeadObjectCommand */.l81({ Bucket: this.bucket, Key: key }));
            return { etag: response.ETag ?? '', metadata: response.Metadata ?? {} };
        }
        catch (error) {
            // A HEAD answer has no body, so a 404 may be a missing key or a missing bucket: GET tells.
            if (httpStatus(error) === 404) {
                const object = await this.get(key);
                return object && { etag: object.etag, metadata: object.metadata };
            }
            throw this.explain(error, 'read', key);
        }
    }
    async put(key, body, condition, metadata = {}) {
        try {
            const response = await this.client.send(new dist_cjs/* PutObjectCommand */.wKZ({
                Bucket: this.bucket,
                Key: key,
                Body: body,
                ContentType: 'application/json',
                Metadata: metadata,
                IfMatch: condition && 'ifMatch' in condition ? condition.ifMatch : undefined,
                IfNoneMatch: condition && 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined
            }));
            return response.ETag ?? '';
        }
        catch (error) {
            const code = errorCode(error);
            // 409 is a concurrent conditional write; 404 is If-Match on a key deleted meanwhile.
            if (condition &&
                ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes(code)) {
                throw new ConditionalWriteRefused(this.location(key));
            }
            throw this.explain(error, 'write', key);
        }
    }
    async delete(key, ifMatch) {
        try {
            await this.client.send(new dist_cjs/* DeleteObjectCommand */.k4j({ Bucket: this.bucket, Key: key, IfMatch: ifMatch }));
        }
        catch (error) {
            const code = errorCode(error);
            if (code === 'NoSuchKey')
                return;
            if (ifMatch && code === 'PreconditionFailed')
                throw new ConditionalWriteRefused(this.location(key));
            throw this.explain(error, 'delete', key);
        }
    }
    close() {
        this.client.destroy();
    }
    location(key) {
        return `s3://${this.bucket}/${key}`;
    }
    explain(error, verb, key) {
        const where = this.location(key);
        const attempts = `after ${this.settings.maxAttempts} attempt(s)`;
        const endpoint = this.settings.endpoint ? ` at ${this.settings.endpoint}` : '';
        const code = errorCode(error);
        const status = httpStatus(error);
        const detail = (() => {
            if (code === 'NoSuchBucket')
                return `the bucket "${this.bucket}" does not exist${endpoint}; check "state-uri" and "s3-endpoint".`;
            if (code === 'AccessDenied' || status === 403)
                return `access was denied (${code === 'Unknown' ? 'HTTP 403' : code}); the credentials need s3:GetObject and s3:PutObject on the state prefix.`;
            if (code === 'TimeoutError' || code === 'RequestTimeout')
                return `S3${endpoint} did not answer within ${this.settings.timeoutMs / 1000} s ${attempts} (raise "s3-timeout" for slow stores).`;
            if (code === 'CredentialsProviderError')
                return 'no AWS credentials were found; configure them before this step, e.g. with aws-actions/configure-aws-credentials.';
            if (status && status >= 500)
                return `S3${endpoint} answered HTTP ${status} (${code}) ${attempts}.`;
            if (isNetworkError(code))
                return `S3${endpoint} is unreachable (${code}) ${attempts}.`;
            return `S3 answered ${code}${status ? ` (HTTP ${status})` : ''}: ${(0,errors/* errorMessage */.gJ)(error)}`;
        })();
        return new errors/* ActionError */.lZ(`Could not ${verb} ${where}: ${detail}`, { cause: error });
    }
}
function httpStatus(error) {
    return error instanceof dist_cjs/* S3ServiceException */.Hcp ? error.$metadata.httpStatusCode : undefined;
}
function errorCode(error) {
    if (error && typeof error === 'object') {
        const named = error;
        return named.Code ?? named.code ?? named.name ?? 'UnknownError';
    }
    return 'UnknownError';
}
function isNetworkError(code) {
    return [
        'ECONNREFUSED',
        'ECONNRESET',
        'ENOTFOUND',
        'EAI_AGAIN',
        'EPIPE',
        'ETIMEDOUT',
        'EHOSTUNREACH'
    ].includes(code);
}

// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js + 21 modules
var github = __webpack_require__(1758);
// EXTERNAL MODULE: ./node_modules/@octokit/plugin-retry/dist-bundle/index.js
var dist_bundle = __webpack_require__(9735);
// EXTERNAL MODULE: ./node_modules/@octokit/plugin-throttling/dist-bundle/index.js
var plugin_throttling_dist_bundle = __webpack_require__(6856);
;// CONCATENATED MODULE: ./src/github/octokit.ts
// The one way the action builds a GitHub client: Octokit that retries server errors and waits
// out (a few) rate limits, and a test for the answers that mean "this token may not".




const RATE_LIMIT_RETRIES = 2;
function octokitFor(token) {
    const retryOnLimit = (after, _options, _octokit, count) => {
        lib_core/* info */.pq(`GitHub API rate limit: retrying in ${after} s.`);
        return count < RATE_LIMIT_RETRIES;
    };
    return (0,github/* getOctokit */.Q)(token, { throttle: { onRateLimit: retryOnLimit, onSecondaryRateLimit: retryOnLimit } }, dist_bundle/* retry */.L, plugin_throttling_dist_bundle/* throttling */.A);
}
function octokit_httpStatus(error) {
    return typeof error === 'object' && error !== null && 'status' in error
        ? Number(error.status)
        : undefined;
}
/** 403 and 404 are what GitHub answers a token without the permission (or a fork's token). */
function isPermissionDenied(error) {
    const status = octokit_httpStatus(error);
    return status === 403 || status === 404;
}

;// CONCATENATED MODULE: ./src/store/ancestry.ts
// How the commit of a manifest another run published relates to this run's commit: from the
// local git history when it holds both commits, else from GitHub's compare API.



/** compare/{base}...{head}: head is "ahead" of base when base is its ancestor. */
const ORDER_OF_STATUS = {
    ahead: 'ancestor',
    behind: 'descendant',
    identical: 'identical',
    diverged: 'diverged'
};
const GIT_CANNOT_TELL = 'git cannot relate the two commits (one is missing from this checkout, or it is shallow; fetch-depth: 0 helps)';
function commitHistory(cwd, token, repository) {
    return async (stored, ours) => {
        if (stored === ours)
            return { order: 'identical', how: 'their shas' };
        if (!isCommitSha(stored))
            return { order: 'unknown', how: `"${stored}" is not a commit sha` };
        const fromGit = await orderFromGit(cwd, stored, ours);
        if (fromGit)
            return { order: fromGit, how: 'git' };
        return orderFromGitHub(token, repository, stored, ours);
    };
}
async function orderFromGit(cwd, stored, ours) {
    const storedFirst = await isAncestor(cwd, stored, ours);
    if (storedFirst === undefined)
        return undefined; // a commit is missing here
    if (storedFirst)
        return 'ancestor';
    if (await isAncestor(cwd, ours, stored))
        return 'descendant';
    return (await isShallow(cwd)) ? undefined : 'diverged';
}
async function orderFromGitHub(token, { owner, repo }, stored, ours) {
    if (!token)
        return {
            order: 'unknown',
            how: `${GIT_CANNOT_TELL}, and without "github-token" GitHub cannot be asked`
        };
    try {
        const { data } = await octokitFor(token).rest.repos.compareCommitsWithBasehead({
            owner,
            repo,
            basehead: `${stored}...${ours}`,
            per_page: 1
        });
        const order = ORDER_OF_STATUS[data.status];
        if (order)
            return { order, how: 'the GitHub API' };
        return {
            order: 'unknown',
            how: `${GIT_CANNOT_TELL}, and GitHub answered status "${data.status}"`
        };
    }
    catch (error) {
        return {
            order: 'unknown',
            how: `${GIT_CANNOT_TELL}, and GitHub's compare API failed: ${(0,errors/* errorMessage */.gJ)(error)}`
        };
    }
}

;// CONCATENATED MODULE: ./src/slim/packages.ts
// `dbt deps`, with dbt_packages/ restored from and saved to the Actions cache.






function cacheKey(project) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    // The lock pins exact versions; without one, the package specs are the best key we have.
    const files = project.packageFiles.includes('package-lock.yml')
        ? ['package-lock.yml']
        : project.packageFiles;
    for (const file of files)
        hash.update(file).update((0,external_node_fs_.readFileSync)(external_node_path_default().join(project.dir, file)));
    return `dbt-packages-${process.env.RUNNER_OS ?? 'unknown'}-${hash.digest('hex').slice(0, 32)}`;
}
async function restore(paths, key) {
    try {
        return (await cache/* restoreCache */.P3(paths, key)) !== undefined;
    }
    catch (error) {
        lib_core/* warning */.$e(`Restoring dbt packages from the cache failed; installing them instead: ${(0,errors/* errorMessage */.gJ)(error)}`);
        return false;
    }
}
async function save(paths, key) {
    try {
        await cache/* saveCache */.Io(paths, key);
    }
    catch (error) {
        lib_core/* warning */.$e(`Saving dbt packages to the cache failed: ${(0,errors/* errorMessage */.gJ)(error)}`);
    }
}
async function installPackages(dbt, project, useCache) {
    if (project.packageFiles.length === 0)
        return;
    await lib_core/* group */.Os('dbt deps', () => restoreOrInstall(dbt, project, useCache));
}
async function restoreOrInstall(dbt, project, useCache) {
    const cacheable = useCache && cache/* isFeatureAvailable */.w3();
    const paths = [external_node_path_default().join(project.dir, project.packagesPath)];
    const key = cacheable ? cacheKey(project) : '';
    if (cacheable && (await restore(paths, key))) {
        lib_core/* info */.pq(`dbt packages restored from the cache (${key}).`);
        return;
    }
    const deps = await dbt.run('deps', []);
    if (deps.exitCode !== 0)
        throw new errors/* ActionError */.lZ(`dbt deps failed (exit ${deps.exitCode}):\n${deps.tail}`);
    if (cacheable)
        await save(paths, key);
}

;// CONCATENATED MODULE: ./src/store/layout.ts
function objectKey(location, name) {
    return location.prefix ? `${location.prefix}/${name}` : name;
}
/**
 * Metadata stored with each published manifest, so that a run can decide from one HEAD request
 * (the commit it was built from, and the dbt that wrote it) without downloading it.
 */
const GIT_SHA = 'git-sha';
const DBT_VERSION = 'dbt-version';
const manifestKey = (location) => objectKey(location, 'manifest.json');
const archiveKey = (location, sha) => objectKey(location, `manifests/${sha}.json`);
const blueGreenKeys = (location) => ({
    lock: objectKey(location, 'deploy.lock'),
    staged: objectKey(location, 'staged/deployment.json'),
    stagedManifest: objectKey(location, 'staged/manifest.json'),
    /** The data diff of the staged green, which the promote compares its own with. */
    stagedDiff: objectKey(location, 'staged/diff.json'),
    previous: objectKey(location, 'previous.json'),
    swap: objectKey(location, 'swap.json')
});
/** What a staged deploy keeps in S3, removed together when it is promoted or dropped. */
const stagedKeys = (keys) => [
    keys.staged,
    keys.stagedManifest,
    keys.stagedDiff
];

;// CONCATENATED MODULE: ./src/store/publish.ts
// Publishing the new production manifest. The write is conditional on the manifest the run
// read when it started. When S3 refuses it, the run reads what S3 holds now and decides: its
// own content (S3 had committed a write whose answer was lost, and the retry was refused), an
// older commit's manifest (replaced), or a newer or unrelated one (left alone, with a message
// that says what that means for production).




/** Writes tried before giving up on a manifest that keeps changing under this run. */
const MAX_WRITES = 5;
function wantsUpload(policy, onDefaultBranchPush) {
    return policy === 'true' || (policy === 'auto' && onDefaultBranchPush);
}
/** Replace a manifest of an ancestor (or of the same commit); refuse anything else, saying why. */
function judgeStoredManifest(facts) {
    const { manifestUri: uri, ours, stored, ordering } = facts;
    const storedName = stored ?? 'an unknown commit';
    const notPublished = `This run's manifest (commit ${ours}) was not published: while this run was deploying, ${uri} was replaced by the manifest of ${storedName}`;
    const unsettled = facts.changedProduction
        ? ` Production may hold objects built from ${ours} while S3 describes ${storedName}: re-run the deploy of the commit that belongs in production.`
        : '';
    switch (ordering?.order) {
        case 'ancestor':
            return {
                replace: true,
                notice: `While this run was deploying, ${uri} was replaced by the manifest of ${stored}, an ancestor of this run's commit ${ours} (according to ${ordering.how}). This run's newer manifest replaces it.`
            };
        case 'identical':
            return {
                replace: true,
                notice: `While this run was deploying, another run published a manifest of the same commit ${ours} to ${uri}. This run's manifest replaces it.`
            };
        case 'descendant':
            return {
                replace: false,
                message: `${notPublished}, a newer commit (${ours} is its ancestor, according to ${ordering.how}). S3 keeps the manifest of ${stored}.` +
                    (facts.changedProduction
                        ? ` This run changed production, possibly after the deploy of ${stored} did, so production may hold objects built from the older commit ${ours}: re-run the deploy of ${stored} (or of the newest commit) to restore them.`
                        : '')
            };
        case 'diverged':
            return {
                replace: false,
                message: `${notPublished}, and neither commit is an ancestor of the other (according to ${ordering.how}), so this run cannot tell which is newer and leaves S3 as it is.${unsettled}`
            };
        case 'unknown':
            return {
                replace: false,
                message: `${notPublished}. This run cannot tell whether that commit is newer or older than ${ours}: ${ordering.how}. It leaves S3 as it is.${unsettled}`
            };
        default:
            return {
                replace: false,
                message: `${notPublished}, which this run does not replace.${unsettled}`
            };
    }
}
/**
 * Writes manifest.json on the condition read when the run started (undefined: the run could
 * not read the manifest, so it cannot prove it is not replacing a newer one), then the archive.
 * Returns a sentence for the report.
 */
async function publishManifest(store, location, body, condition, gitSha, options = {}) {
    if (!condition) {
        throw new errors/* ActionError */.lZ('The manifest is not published: this run could not read the current one, so it cannot prove it is not overwriting a newer one.');
    }
    const metadata = {
        [GIT_SHA]: gitSha,
        [DBT_VERSION]: writtenBy(body) ?? '',
        'github-run-id': process.env.GITHUB_RUN_ID ?? ''
    };
    const replaced = await writeManifest({ store, location, body, gitSha, metadata, options }, condition);
    await store.put(archiveKey(location, gitSha), body, undefined, metadata);
    lib_core/* info */.pq(`Published ${location.uri}/manifest.json and the archive manifests/${gitSha}.json.`);
    const replacing = replaced ? `, replacing the manifest of ${replaced} published meanwhile` : '';
    return `Manifest of ${gitSha} published to ${location.uri}/manifest.json${replacing}.`;
}
/**
 * The dbt version in the manifest's metadata, which dbt writes first: read from the head of the
 * text, since parsing all of a large manifest for one field costs seconds.
 */
function writtenBy(body) {
    return /"dbt_version"\s*:\s*"([^"]{1,64})"/.exec(body.slice(0, 4096))?.[1];
}
/** Writes manifest.json, deciding again after each refusal; returns the commit it replaced. */
async function writeManifest(publication, condition) {
    const { store, location, body, metadata } = publication;
    const key = manifestKey(location);
    let replaced;
    for (let write = 1;; write++) {
        try {
            await store.put(key, body, condition, metadata);
            return replaced;
        }
        catch (error) {
            if (!(error instanceof ConditionalWriteRefused))
                throw error;
        }
        const current = await store.get(key);
        if (current?.body === body) {
            lib_core/* info */.pq(`S3 refused a retried write of ${location.uri}/manifest.json, but holds this run's manifest: the first attempt had succeeded.`);
            return replaced;
        }
        if (write === MAX_WRITES) {
            throw new errors/* ActionError */.lZ(`The manifest was not published: ${location.uri}/manifest.json kept changing while this run wrote it (${MAX_WRITES} attempts).`);
        }
        const next = await conditionAfterRefusal(publication, current, condition);
        replaced = next.replacing ?? replaced;
        condition = next.condition;
    }
}
/** The condition of the next write, or an ActionError when the stored manifest must stay. */
async function conditionAfterRefusal({ location, gitSha: ours, options }, current, condition) {
    if (!current)
        return { condition: { ifNoneMatch: '*' } }; // deleted meanwhile: nothing to protect
    // A conflicting write in flight (409) that did not land: the object is still the one read.
    if (condition && 'ifMatch' in condition && condition.ifMatch === current.etag)
        return { condition };
    const stored = current.metadata[GIT_SHA] || undefined;
    const verdict = judgeStoredManifest({
        manifestUri: `${location.uri}/manifest.json`,
        ours,
        stored,
        ordering: options.history && (await orderingOf(options.history, stored, ours)),
        changedProduction: options.changedProduction ?? false
    });
    if (!verdict.replace)
        throw new errors/* ActionError */.lZ(verdict.message);
    lib_core/* notice */.lm(verdict.notice);
    return { condition: { ifMatch: current.etag }, replacing: stored };
}
async function orderingOf(history, stored, ours) {
    if (stored)
        return history(stored, ours);
    return { order: 'unknown', how: 'that manifest does not say which commit it was built from' };
}

;// CONCATENATED MODULE: ./src/slim/selection.ts


const DEFAULT_SELECT = 'state:modified+';
function excludeArgs(exclude) {
    return exclude.length > 0 ? ['--exclude', ...exclude] : [];
}
/** A "selector" must be one of the project's YAML selectors, checked before anything runs. */
function checkSelector(selection, project) {
    const name = selection.selector;
    if (name === undefined || project.selectors.has(name))
        return;
    const known = [...project.selectors.keys()].map((s) => `"${s}"`).join(', ');
    throw new errors/* InputError */.dz('selector', known
        ? `is "${name}", which is not a selector in selectors.yml; accepted: ${known}.`
        : `is "${name}", but the project has no selectors.yml with selectors.`);
}
function chooseSelection(selection, project) {
    const selectorName = selection.selector ?? (selection.select ? undefined : project.defaultSelector?.name);
    if (selectorName) {
        const known = project.selectors.get(selectorName);
        return { flag: '--selector', value: selectorName, stateBased: known?.stateBased ?? false };
    }
    const select = selection.select ?? DEFAULT_SELECT;
    return { flag: '--select', value: select, stateBased: /(^|[\s,+@])state:/.test(select) };
}
/** Whether the selection compares with production state, so that an unchanged project selects nothing. */
function comparesWithState(selection, project) {
    return chooseSelection(selection, project).stateBased;
}
function planSelection(selection, project, state) {
    const chosen = chooseSelection(selection, project);
    // A default YAML selector is used as-is unless the user asked for an exclude.
    const exclude = selection.exclude ?? (chosen.flag === '--selector' ? [] : DEFAULT_EXCLUDE);
    if (chosen.stateBased && !state.stateDir) {
        return {
            args: excludeArgs(exclude),
            description: `Full build: \`${chosen.value}\` needs production state, which this run does not have.`,
            stateBased: false
        };
    }
    const args = [chosen.flag, ...chosen.value.split(/\s+/), ...excludeArgs(exclude)];
    if (state.stateDir) {
        args.push('--state', state.stateDir);
        if (state.defer)
            args.push('--defer', ...(state.favorState ? ['--favor-state'] : []));
    }
    const excluded = exclude.length > 0 ? `, excluding \`${exclude.join(' ')}\`` : '';
    const deferred = state.stateDir && state.defer ? ', deferring unselected refs to production' : '';
    return {
        args,
        description: `Selected with \`${chosen.flag} ${chosen.value}\`${excluded}${deferred}.`,
        stateBased: chosen.stateBased
    };
}

;// CONCATENATED MODULE: ./src/store/shape.ts
// JSON the action reads back (S3 records, the lease, saved state) is checked against the shape
// it was written with before anything acts on it: a corrupt or foreign record gives an error
// that names it and the field, never a crash deep inside a phase.

function fits(value, kind) {
    switch (kind) {
        case 'string':
            return typeof value === 'string';
        case 'string?':
            return value === undefined || typeof value === 'string';
        case 'string|null':
            return value === null || typeof value === 'string';
        case 'string[]':
            return Array.isArray(value) && value.every((item) => typeof item === 'string');
        case 'number':
            return typeof value === 'number' && Number.isFinite(value);
        case 'number?':
            return value === undefined || (typeof value === 'number' && Number.isFinite(value));
        case 'boolean':
            return typeof value === 'boolean';
    }
}
/** The first field of `value` that does not fit `shape`, or undefined when it all fits. */
function shape_misfit(value, shape) {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
        return '(not an object)';
    const record = value;
    return Object.entries(shape).find(([field, kind]) => !fits(record[field], kind))?.[0];
}
/** Parses `text` as a `what` of this shape, or throws naming `where` and the bad field. */
function parseRecord(text, shape, what, where) {
    let value;
    try {
        value = JSON.parse(text);
    }
    catch {
        throw new errors/* ActionError */.lZ(`The ${what} at ${where} is not valid JSON.`);
    }
    const field = shape_misfit(value, shape);
    if (field !== undefined) {
        throw new errors/* ActionError */.lZ(`The ${what} at ${where} is not one this action wrote: field "${field}" is missing or has the wrong type.`);
    }
    return value;
}

;// CONCATENATED MODULE: ./src/store/records.ts
// Blue/green's records in S3 (the staged deploy, the kept previous production and the swap),
// with the shapes they are checked against when read back.


const STAGED_SHAPE = {
    sha: 'string',
    target: 'string',
    schemas: 'string[]',
    clusters: 'string[]',
    fingerprint: 'string',
    manifestEtag: 'string|null',
    previousSha: 'string?',
    stagedAt: 'string',
    runUrl: 'string?',
    deploymentId: 'number?'
};
const PREVIOUS_SHAPE = {
    sha: 'string?',
    replacedBy: 'string?',
    keptAt: 'string',
    keptBy: 'string?'
};
const SWAP_SIDES_SHAPE = {
    schemas: 'string[]',
    clusters: 'string[]',
    productionSchemaIds: 'string[]',
    greenSchemaIds: 'string[]',
    productionClusterIds: 'string[]',
    greenClusterIds: 'string[]'
};
/** `about-to-swap` until a run decides from the catalog's ids what became of the swap. */
const SWAP_OUTCOMES = ['about-to-swap', 'committed', 'not-committed', 'unclear'];
const SWAP_SHAPE = {
    ...SWAP_SIDES_SHAPE,
    sha: 'string',
    previousSha: 'string?',
    target: 'string',
    runUrl: 'string?',
    recordedAt: 'string',
    outcome: 'string',
    decidedAt: 'string?'
};
/** Whether each id list has one id per name. */
function sidesAligned(sides) {
    const { schemas, clusters } = sides;
    return (sides.productionSchemaIds.length === schemas.length &&
        sides.greenSchemaIds.length === schemas.length &&
        sides.productionClusterIds.length === clusters.length &&
        sides.greenClusterIds.length === clusters.length);
}
/** The swap record at `key`, checked like the others plus its outcome and id lists. */
async function readSwapRecord(store, key) {
    const record = await readRecord(store, key, 'swap record', SWAP_SHAPE);
    if (!record)
        return undefined;
    const problem = !SWAP_OUTCOMES.includes(record.outcome)
        ? `its outcome "${record.outcome}" is not one of ${SWAP_OUTCOMES.join(', ')}`
        : !sidesAligned(record)
            ? 'its id lists do not match its schemas and clusters'
            : undefined;
    if (problem)
        throw new errors/* ActionError */.lZ(`The swap record at ${key} is not one this action wrote: ${problem}.`);
    return record;
}
/** Writes a record the way readRecord reads it back: the one writer of blue/green's records. */
async function writeRecord(store, key, record) {
    await store.put(key, JSON.stringify(record, null, 2));
}
/** The record at `key`, checked against its shape, or undefined when there is none. */
async function readRecord(store, key, what, shape) {
    const object = await store.get(key);
    if (!object)
        return undefined;
    return parseRecord(object.body, shape, what, `${key} (run phase "cleanup" to start over)`);
}

;// CONCATENATED MODULE: ./src/state.ts
// What main created, saved for the post step so that it undoes exactly that.



const RESOURCES = 'resources';
const CLEANUP_CONTEXT = 'cleanup-context';
const CLEANUP_CONTEXT_SHAPE = {
    bucket: 'string',
    endpoint: 'string?',
    region: 'string',
    maxAttempts: 'number',
    timeoutMs: 'number',
    projectDir: 'string',
    profilesDir: 'string?',
    target: 'string?',
    materializeUrl: 'boolean'
};
function saveCleanupContext(context) {
    lib_core/* saveState */.LZ(CLEANUP_CONTEXT, JSON.stringify(context));
}
/** What main saved for the post step, or undefined when it saved nothing readable. */
function cleanupContext() {
    try {
        const saved = JSON.parse(core.getState(CLEANUP_CONTEXT) || 'null');
        return misfit(saved, CLEANUP_CONTEXT_SHAPE) === undefined
            ? saved
            : undefined;
    }
    catch {
        return undefined;
    }
}
let created = [];
function state_save() {
    lib_core/* saveState */.LZ(RESOURCES, JSON.stringify(created));
}
function recordCreated(resource) {
    created.push(resource);
    state_save();
}
/** Forgets resources that no longer need undoing (released, promoted, or kept on purpose). */
function forgetCreated(kind) {
    created = created.filter((resource) => resource.kind !== kind);
    state_save();
}
/** Resources recorded in this process (main), for cleanup on failure or cancellation. */
function recordedHere() {
    return [...created];
}
const RESOURCE_SHAPES = {
    directory: { kind: 'string', path: 'string' },
    lock: { kind: 'string', key: 'string', nonce: 'string' },
    green: { kind: 'string', schemas: 'string[]', clusters: 'string[]' },
    swap: { kind: 'string', key: 'string', previousKey: 'string', ...SWAP_SIDES_SHAPE }
};
function isResource(value) {
    const kind = value?.kind;
    return (typeof kind === 'string' &&
        Object.hasOwn(RESOURCE_SHAPES, kind) &&
        misfit(value, RESOURCE_SHAPES[kind]) === undefined);
}
/** Resources the main step recorded, read back in the post step; anything else is skipped. */
function createdResources() {
    const saved = core.getState(RESOURCES);
    if (!saved)
        return [];
    let parsed;
    try {
        parsed = JSON.parse(saved);
    }
    catch {
        parsed = undefined;
    }
    const list = Array.isArray(parsed) ? parsed : [];
    const resources = list.filter(isResource);
    if (!Array.isArray(parsed) || resources.length < list.length) {
        core.warning("Part of the main step's saved state is unreadable; only the readable part is cleaned up.");
    }
    return resources;
}

;// CONCATENATED MODULE: ./src/slim/state.ts
// Production state: the manifest of the last successful deploy, downloaded from the store.









/** The write condition that keeps an older run from replacing a newer manifest. */
function publishCondition(state) {
    if (state.kind === 'found')
        return { ifMatch: state.etag };
    if (state.kind === 'missing')
        return { ifNoneMatch: '*' };
    return state.etag ? { ifMatch: state.etag } : undefined;
}
function stateDirectory() {
    const dir = (0,external_node_fs_.mkdtempSync)(external_node_path_default().join(process.env.RUNNER_TEMP || external_node_os_default().tmpdir(), 'dbt-state-'));
    recordCreated({ kind: 'directory', path: dir });
    return dir;
}
/**
 * Looks the production manifest up without downloading it. A missing or unreadable one is
 * final here; a present one is downloaded by `fetchProductionState` only when dbt runs.
 */
async function locateProductionState(store, location, onError) {
    let head;
    try {
        head = await store.head(manifestKey(location));
    }
    catch (error) {
        return unusable(onError, (0,errors/* errorMessage */.gJ)(error));
    }
    if (!head)
        return missing(location);
    return {
        kind: 'present',
        gitSha: head.metadata[GIT_SHA] || undefined,
        dbtVersion: head.metadata[DBT_VERSION] || undefined
    };
}
function manifestUri(location) {
    return `s3://${location.bucket}/${manifestKey(location)}`;
}
function missing(location) {
    lib_core/* notice */.lm(`No production manifest at ${manifestUri(location)} yet: this run builds everything (a full build).`);
    return { kind: 'missing' };
}
async function fetchProductionState(store, location, onError) {
    const uri = manifestUri(location);
    let object;
    try {
        object = await store.get(manifestKey(location));
    }
    catch (error) {
        return unusable(onError, (0,errors/* errorMessage */.gJ)(error));
    }
    if (!object)
        return missing(location);
    let manifest;
    try {
        manifest = parseManifest(object.body, uri);
    }
    catch (error) {
        return unusable(onError, (0,errors/* errorMessage */.gJ)(error), object.etag);
    }
    const dir = stateDirectory();
    (0,external_node_fs_.writeFileSync)(external_node_path_default().join(dir, 'manifest.json'), object.body);
    const gitSha = object.metadata[GIT_SHA];
    lib_core/* info */.pq(`Production manifest ${uri} (${manifest.nodes.size} nodes, built from ${gitSha ?? 'an unknown commit'}).`);
    const { schemaVersion, dbtVersion } = manifest;
    return {
        kind: 'found',
        dir,
        etag: object.etag,
        gitSha,
        nodes: manifest.nodes,
        version: { schemaVersion, dbtVersion }
    };
}
/**
 * The state dbt is about to read, checked against the manifest versions the installed dbt
 * reads (asked only now: a run that skips dbt never pays for it). A manifest from a newer dbt
 * falls under `on-state-error`.
 */
async function readableState(state, location, onError, manifestSupport) {
    if (state.kind !== 'found')
        return state;
    const support = await manifestSupport();
    if (!support) {
        lib_core/* info */.pq('Could not tell which manifest versions dbt reads, so dbt checks the manifest itself.');
        return state;
    }
    lib_core/* info */.pq(`dbt-core ${support.dbtVersion} reads manifest versions ${readableRange(support)}.`);
    const unreadable = unreadableManifest(state.version, support, manifestUri(location));
    return unreadable ? unusable(onError, unreadable, state.etag) : state;
}
function unusable(onError, reason, etag) {
    if (onError === 'fail') {
        throw new errors/* ActionError */.lZ(`${reason}\nSet "on-state-error: full-build" to build everything instead when the state cannot be used.`);
    }
    lib_core/* warning */.$e(`Production state is unusable, so this run builds everything ("on-state-error: full-build"): ${reason}`);
    return { kind: 'unusable', etag, reason };
}

;// CONCATENATED MODULE: ./src/report/model.ts
const failed = (node) => ['error', 'fail', 'runtime error'].includes(node.status);

;// CONCATENATED MODULE: ./src/report/annotations.ts
// Error annotations on the source files of failed models and tests, within GitHub's limit.



/**
 * GitHub shows 10 error annotations per step and drops the rest. One is kept for the step's
 * own failure message, and one for the line that says how many failures were left out.
 */
const ERROR_ANNOTATIONS = 10;
const NODE_ANNOTATIONS = ERROR_ANNOTATIONS - 2;
/** What a reader fixes first: what was built before what checked it, seeds and snapshots with models. */
const TYPE_RANK = { model: 0, seed: 0, snapshot: 0, test: 2, unit_test: 2 };
/** Failures by type rank, then in the order dbt ran them (sort is stable). */
function rankFailures(nodes) {
    return nodes
        .filter(failed)
        .sort((a, b) => (TYPE_RANK[a.resourceType] ?? 1) - (TYPE_RANK[b.resourceType] ?? 1));
}
function annotateFailures(nodes = []) {
    const failures = rankFailures(nodes);
    const shown = failures.length > NODE_ANNOTATIONS + 1 ? failures.slice(0, NODE_ANNOTATIONS) : failures;
    for (const node of shown) {
        const message = redact(node.message ?? `${node.resourceType} ${node.name} ${node.status}`);
        lib_core/* error */.z3(message, { title: `dbt ${node.status}: ${node.uniqueId}`, file: node.file });
    }
    const left = failures.length - shown.length;
    if (left > 0)
        lib_core/* error */.z3(`${left} more failed node(s) are not annotated (GitHub shows ${ERROR_ANNOTATIONS} error annotations per step): the job summary lists every failure.`, { title: `dbt: ${left} more failure(s)` });
}

;// CONCATENATED MODULE: ./src/report/markdown.ts


const STATUS_ICONS = {
    success: '✅',
    pass: '✅',
    error: '❌',
    fail: '❌',
    'runtime error': '❌',
    warn: '⚠️',
    skipped: '⏭️'
};
function cell(text) {
    return redact(text).replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
}
function nodeRow(node) {
    const icon = STATUS_ICONS[node.status] ?? '•';
    return `| ${icon} ${cell(node.status)} | \`${cell(node.uniqueId)}\` | ${cell(node.reason)} | ${node.seconds.toFixed(1)} s |`;
}
/** Where the nodes a table leaves out are listed, named by the table's reader. */
const NODES_ELSEWHERE = {
    comment: 'see the job summary',
    summary: "dbt's run_results.json (the `run-results` output) lists them all"
};
function nodesTable(nodes, limit, elsewhere) {
    if (nodes.length === 0)
        return '_No nodes were run._';
    const rows = nodes.slice(0, limit).map(nodeRow);
    const more = nodes.length > limit ? `\n\n…and ${nodes.length - limit} more (${elsewhere}).` : '';
    return ['| Status | Node | Why | Time |', '| --- | --- | --- | --- |', ...rows].join('\n') + more;
}
function failuresSection(nodes, limit) {
    const failures = nodes.filter(failed);
    if (failures.length === 0)
        return '';
    const items = failures.slice(0, limit).map((node) => {
        const where = node.file ? ` (\`${cell(node.file)}\`)` : '';
        const message = redact(node.message ?? 'no message')
            .trim()
            .slice(0, 2000);
        return `<details><summary><code>${cell(node.uniqueId)}</code>${where}</summary>\n\n\`\`\`\n${message.replace(/```/g, "'''")}\n\`\`\`\n</details>`;
    });
    return `### Failures (${failures.length})\n\n${items.join('\n')}`;
}
function factsList(report) {
    return report.facts.map(([key, value]) => `- **${cell(key)}:** ${redact(value)}`).join('\n');
}

;// CONCATENATED MODULE: ./src/report/comment.ts
// One sticky PR comment per mode, found by a hidden marker and edited in place.





const COMMENT_NODE_ROWS = 50;
const COMMENT_LIMIT = 60_000;
function gitHubCommentApi(token) {
    const octokit = octokitFor(token);
    return {
        list: (issue) => octokit.paginate(octokit.rest.issues.listComments, {
            owner: issue.owner,
            repo: issue.repo,
            issue_number: issue.number,
            per_page: 100
        }),
        create: async (issue, body) => {
            await octokit.rest.issues.createComment({
                owner: issue.owner,
                repo: issue.repo,
                issue_number: issue.number,
                body
            });
        },
        update: async (issue, id, body) => {
            await octokit.rest.issues.updateComment({
                owner: issue.owner,
                repo: issue.repo,
                comment_id: id,
                body
            });
        },
        login: async () => {
            try {
                return (await octokit.rest.users.getAuthenticated()).data.login;
            }
            catch {
                return undefined;
            }
        }
    };
}
const marker = (mode) => `<!-- dbt-materialize-deploy:${mode} -->`;
function renderComment(report, mode) {
    const body = [
        marker(mode),
        `${titleLine(report)}${report.status}`,
        redact(report.headline),
        factsList(report),
        ...(report.sharedSections ?? []).map(redact),
        report.nodes ? nodesTable(report.nodes, COMMENT_NODE_ROWS, NODES_ELSEWHERE.comment) : '',
        failuresSection(report.nodes ?? [], 10)
    ]
        .filter((part) => part !== '')
        .join('\n\n');
    return body.length > COMMENT_LIMIT
        ? `${body.slice(0, COMMENT_LIMIT)}\n\n…(truncated; see the job summary)`
        : body;
}
/**
 * Our earlier comment: it starts with the marker and was written by a bot (GITHUB_TOKEN and
 * app tokens) or by the token's own user (a personal token). A person's comment that quotes
 * the marker is never taken for it.
 */
async function findOwnComment(api, issue, mode) {
    const marked = (await api.list(issue)).filter((c) => c.body?.startsWith(marker(mode)));
    const byBot = marked.find((c) => c.user?.type === 'Bot');
    if (byBot || marked.length === 0)
        return byBot;
    const login = await api.login();
    return login === undefined ? undefined : marked.find((c) => c.user?.login === login);
}
const titleLine = (report) => `### ${report.title}: `;
/** The comment's new body: the report, or the earlier report of the same title plus a line. */
function nextBody(existing, report, mode) {
    const earlier = existing?.body;
    if (report.followUp && earlier?.includes(`\n${titleLine(report)}`)) {
        return `${earlier}\n\n${redact(report.followUp)}`;
    }
    return renderComment(report, mode);
}
/** Creates or edits the comment. Returns what happened. */
async function upsertComment(api, issue, mode, report) {
    const existing = await findOwnComment(api, issue, mode);
    const body = nextBody(existing, report, mode);
    if (existing) {
        await api.update(issue, existing.id, body);
        return 'updated';
    }
    await api.create(issue, body);
    return 'created';
}
async function publishComment(settings, context, report, mode, api = gitHubCommentApi) {
    if (!settings.prComment || !context.pullRequest)
        return;
    if (!settings.githubToken) {
        lib_core/* notice */.lm('No "github-token", so the PR comment is skipped. The job summary has the full report.');
        return;
    }
    const issue = { owner: context.owner, repo: context.repo, number: context.pullRequest.number };
    try {
        const outcome = await upsertComment(api(settings.githubToken), issue, mode, report);
        lib_core/* info */.pq(`PR comment ${outcome} on #${issue.number}.`);
    }
    catch (error) {
        if (isPermissionDenied(error)) {
            lib_core/* notice */.lm(`The token may not comment on #${issue.number} (HTTP ${octokit_httpStatus(error)}; fork PRs get a read-only token), so the PR comment is skipped.`);
        }
        else {
            lib_core/* warning */.$e(`Could not post the PR comment: ${(0,errors/* errorMessage */.gJ)(error)}`);
        }
    }
}

;// CONCATENATED MODULE: ./src/report/summary.ts
// The job summary, written once at the end of a run and kept under GitHub's 1 MiB limit.



const SUMMARY_LIMIT = 1_000_000;
const NODE_ROWS = 2000;
function renderSummary(report) {
    const parts = [
        `## ${report.title}: ${report.status}`,
        redact(report.headline),
        factsList(report),
        ...report.notes.map((note) => `> ${redact(note)}`),
        ...[...(report.sections ?? []), ...(report.sharedSections ?? [])].map(redact),
        ...(report.nodes
            ? [
                `### Nodes (${report.nodes.length})`,
                nodesTable(report.nodes, NODE_ROWS, NODES_ELSEWHERE.summary)
            ]
            : []),
        failuresSection(report.nodes ?? [], 50)
    ];
    const markdown = parts.filter((part) => part !== '').join('\n\n') + '\n';
    return markdown.length > SUMMARY_LIMIT
        ? `${markdown.slice(0, SUMMARY_LIMIT - 200)}\n\n…(truncated at GitHub's summary size limit; ${NODES_ELSEWHERE.summary})\n`
        : markdown;
}
async function writeSummary(report) {
    if (!process.env.GITHUB_STEP_SUMMARY)
        return;
    await lib_core/* summary */.z.addRaw(renderSummary(report)).write();
}

;// CONCATENATED MODULE: ./src/report/index.ts
// Everything a finished run reports: annotations, the job summary and the PR comment.




async function reportRun(report, settings, context, mode) {
    await lib_core/* group */.Os('Report', async () => {
        annotateFailures(report.nodes);
        await writeSummary(report);
        await publishComment(settings, context, report, mode);
    });
}

;// CONCATENATED MODULE: ./src/github/deployments.ts
// GitHub Deployments API records of what is live: one deployment per deploy, whose statuses
// follow the run (in_progress, success, failure with the run's log, inactive once superseded).
// They are a view for people; a token without `deployments: write` gives one notice and the
// deploy carries on without them.



function gitHubDeploymentsApi(token, context) {
    const octokit = octokitFor(token);
    const repo = { owner: context.owner, repo: context.repo };
    return {
        async create(deployment) {
            const { data } = await octokit.rest.repos.createDeployment({
                ...repo,
                ref: deployment.sha,
                environment: deployment.environment,
                description: deployment.description,
                payload: deployment.payload,
                transient_environment: deployment.transient,
                production_environment: !deployment.transient,
                auto_merge: false,
                required_contexts: [] // the deploy's own checks already ran; never wait for others
            });
            if (!('id' in data))
                throw new Error(`GitHub did not create the deployment: ${data.message}`);
            return data.id;
        },
        async setStatus(id, state, details) {
            await octokit.rest.repos.createDeploymentStatus({
                ...repo,
                deployment_id: id,
                state,
                description: details.description?.slice(0, 140),
                log_url: details.logUrl,
                environment_url: details.environmentUrl,
                auto_inactive: false // superseded deployments are marked inactive explicitly
            });
        },
        async active(environment) {
            const { data } = await octokit.rest.repos.listDeployments({
                ...repo,
                environment,
                per_page: 30
            });
            const latest = await Promise.all(data.map(async (deployment) => {
                const statuses = await octokit.rest.repos.listDeploymentStatuses({
                    ...repo,
                    deployment_id: deployment.id,
                    per_page: 1
                });
                return statuses.data[0]?.state === 'success' ? [deployment.id] : [];
            }));
            return latest.flat();
        }
    };
}
/** The records of a run with a token; none without one. */
function deploymentRecord(token, context) {
    return new DeploymentRecord(token ? gitHubDeploymentsApi(token, context) : undefined, context);
}
/**
 * The deployment of one run. Every call is best effort: the first refusal (no permission)
 * becomes a notice and turns the records off; other errors are warnings. A deploy never fails
 * for its records.
 */
class DeploymentRecord {
    api;
    context;
    off = false;
    constructor(api, context) {
        this.api = api;
        this.context = context;
    }
    /** The deployment's id, once created or carried on. */
    id;
    /** Carries on a deployment an earlier job created, e.g. a staged deploy's at its promote. */
    carryOn(id) {
        this.id = id;
        if (id !== undefined)
            lib_core/* setOutput */.uH('deployment-id', String(id));
    }
    /** Creates the deployment, in progress. */
    async start(deployment) {
        this.id = await this.attempt('create the deployment', async (api) => {
            const id = await api.create(deployment);
            await api.setStatus(id, 'in_progress', { logUrl: this.context.runUrl });
            return id;
        });
        if (this.id !== undefined)
            lib_core/* setOutput */.uH('deployment-id', String(this.id));
        return this.id;
    }
    async status(state, details = {}) {
        const id = this.id;
        if (id === undefined)
            return;
        await this.attempt(`set the deployment's status to ${state}`, (api) => api.setStatus(id, state, { logUrl: this.context.runUrl, ...details }));
    }
    /** Success for this deployment, after every other active one of the environment goes inactive. */
    async succeed(environment, details) {
        const id = this.id;
        if (id === undefined)
            return;
        await this.attempt('mark the superseded deployments inactive', async (api) => {
            for (const other of (await api.active(environment)).filter((other) => other !== id))
                await api.setStatus(other, 'inactive', { description: `Superseded by deployment ${id}.` });
        });
        await this.status('success', details);
    }
    /** Every active deployment of the environment goes inactive, e.g. at a PR's teardown. */
    async retire(environment, description) {
        await this.attempt('mark the deployments inactive', async (api) => {
            for (const id of await api.active(environment))
                await api.setStatus(id, 'inactive', { description });
        });
    }
    async attempt(what, call) {
        if (!this.api || this.off)
            return undefined;
        try {
            return await call(this.api);
        }
        catch (error) {
            if (!isPermissionDenied(error)) {
                lib_core/* warning */.$e(`Could not ${what}: ${(0,errors/* errorMessage */.gJ)(error)}`);
                return undefined;
            }
            this.off = true;
            lib_core/* notice */.lm(`The token may not write deployments (give the job "deployments: write"), so this run records none; the deploy itself is not affected.`);
            return undefined;
        }
    }
}

;// CONCATENATED MODULE: ./src/slim/outputs.ts
// The selection as step outputs. GitHub keeps at most 1 MB of outputs per job, and a build of
// tens of thousands of nodes lists more than that, so the list output is capped and the full
// list goes to a file whose path is an output.



/** Half of the job's 1 MB, leaving the rest to the other outputs. */
const SELECTED_LIMIT = 500_000;
/** The longest JSON list of leading ids within `limit` characters. */
function cappedJsonList(ids, limit) {
    let length = 2; // the brackets
    let kept = 0;
    for (const id of ids) {
        const next = length + JSON.stringify(id).length + (kept > 0 ? 1 : 0);
        if (next > limit)
            break;
        length = next;
        kept++;
    }
    return { json: JSON.stringify(ids.slice(0, kept)), truncated: kept < ids.length };
}
/** `selected-count`, `selected`, `selected-truncated`, and with dbt's target dir the files. */
function setSelectionOutputs(results, targetDir) {
    const ids = results.map((result) => result.uniqueId);
    const { json, truncated } = cappedJsonList(ids, SELECTED_LIMIT);
    lib_core/* setOutput */.uH('selected-count', String(ids.length));
    lib_core/* setOutput */.uH('selected', json);
    lib_core/* setOutput */.uH('selected-truncated', String(truncated));
    if (truncated)
        lib_core/* info */.pq(`The "selected" output lists the first ${JSON.parse(json).length} of ${ids.length} nodes (GitHub's output limit); "selected-file" has them all.`);
    if (!targetDir)
        return;
    (0,external_node_fs_.mkdirSync)(targetDir, { recursive: true });
    const file = external_node_path_default().join(targetDir, 'selected.json');
    (0,external_node_fs_.writeFileSync)(file, JSON.stringify(ids));
    lib_core/* setOutput */.uH('selected-file', file);
    lib_core/* setOutput */.uH('run-results', external_node_path_default().join(targetDir, 'run_results.json'));
}

;// CONCATENATED MODULE: ./src/cancel.ts
// Cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the process
// tree 2.5 s after that. On the first signal we stop dbt (SIGINT first, so that it cancels
// its warehouse queries, and wait for it to exit), undo what this run created, report the
// step as cancelled and exit, within a budget that ends before the runner's SIGTERM.



/** From the signal to our exit; stopping dbt takes at most 5 s of it (STOP_SCHEDULE). */
const CANCEL_BUDGET_MS = 6500;
const controller = new AbortController();
/** Aborted when the job is cancelled; long waits pass it on so they stop at once. */
const cancelled = controller.signal;
let undo;
/** Throws once the job is cancelled: nothing after this point may run then (e.g. a publish). */
function throwIfCancelled() {
    cancelled.throwIfAborted();
}
async function undoWithin(ms) {
    let timer;
    const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(0, ms));
    });
    try {
        if ((await Promise.race([undo?.(), timeout])) === 'late')
            lib_core/* warning */.$e('Cleanup after cancellation ran out of time; the post step finishes it.');
    }
    catch (error) {
        lib_core/* warning */.$e(`Cleanup after cancellation failed: ${(0,errors/* errorMessage */.gJ)(error)}`);
    }
    finally {
        clearTimeout(timer);
    }
}
/**
 * Stops the step: its children first, then what it created; reports why and exits. Later
 * calls are ignored: the first reason wins.
 */
async function stopRun(reason, announce, failure, status) {
    if (cancelled.aborted)
        return;
    const deadline = Date.now() + CANCEL_BUDGET_MS;
    controller.abort(reason);
    const removing = undo ? ' and removing what this run created' : '';
    lib_core/* warning */.$e(`${announce}: stopping dbt${removing}.`);
    await stopRunningProcesses();
    await undoWithin(deadline - Date.now());
    lib_core/* setOutput */.uH('status', status);
    lib_core/* setFailed */.C1(failure);
    process.exit(1);
}
/** The runner cancelled the job. */
function cancelRun(signal) {
    const failure = `The run was cancelled (${signal}).`;
    return stopRun(new Error(`cancelled by ${signal}`), `Received ${signal}`, failure, 'cancelled');
}
/** The run may not go on (e.g. it lost its deploy lock): stops it as a cancellation does. */
function abortRun(reason, announce) {
    return stopRun(reason, announce, reason.message, 'failed');
}
/** Handles the runner's SIGINT and SIGTERM for the rest of the step; a repeat is ignored. */
function cancelOnSignals() {
    process.on('SIGINT', (signal) => void cancelRun(signal));
    process.on('SIGTERM', (signal) => void cancelRun(signal));
}
/** Registers what to undo if the job is cancelled while this step runs. */
function undoOnCancel(action) {
    undo = action;
}
/** Why the wait stopped, as an Error. */
function abortReason(signal) {
    const reason = signal.reason;
    return reason instanceof Error ? reason : new Error(String(reason));
}
/** Resolves after ms, or rejects as soon as the job is cancelled. */
function sleep(ms, signal = cancelled) {
    return new Promise((resolve, reject) => {
        if (signal.aborted)
            return reject(abortReason(signal));
        const timer = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
    });
}

// EXTERNAL MODULE: ./node_modules/pg/esm/index.mjs
var esm = __webpack_require__(3849);
// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(1692);
var external_node_tls_default = /*#__PURE__*/__webpack_require__.n(external_node_tls_);
;// CONCATENATED MODULE: ./src/warehouse/tls.ts
// TLS for the action's own connection, following libpq's `sslmode` as dbt's connection does:
// `prefer` (libpq's default) tries TLS first and falls back to plaintext only when the server
// refuses TLS; `require` encrypts without verifying (or verifies the CA when `sslrootcert` is
// set, as libpq does); `verify-ca` checks the chain; `verify-full` also the host name.



const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
/**
 * Node's CAs and the operating system's trust store, which libpq reads for `sslrootcert=system`
 * and the action also uses when `sslrootcert` is unset. Node 24 reads the system store; an
 * older runtime (the unit tests') has Node's only.
 */
function systemStore() {
    if (typeof (external_node_tls_default()).getCACertificates !== 'function')
        return undefined;
    return [...external_node_tls_default().getCACertificates('default'), ...external_node_tls_default().getCACertificates('system')];
}
function readPem(target, field) {
    const file = target[field];
    if (!file)
        return undefined;
    try {
        return (0,external_node_fs_.readFileSync)(file, 'utf8');
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`Profile field "${field}" of target "${target.target}": cannot read ${file}: ${(0,errors/* errorMessage */.gJ)(error)}.`);
    }
}
function tlsOptions(target, mode) {
    const system = target.sslrootcert === 'system';
    const ca = system ? undefined : readPem(target, 'sslrootcert');
    const client = { cert: readPem(target, 'sslcert'), key: readPem(target, 'sslkey') };
    const verify = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && (ca || system));
    if (!verify)
        return { ...client, rejectUnauthorized: false };
    return {
        ...client,
        ca: ca ?? systemStore(),
        rejectUnauthorized: true,
        // verify-ca (and require with a root certificate) checks the chain, not the host name.
        ...(mode !== 'verify-full' && { checkServerIdentity: () => undefined })
    };
}
/** The connections to try, in order, for the target's `sslmode`. */
function tlsAttempts(target) {
    const mode = target.sslmode ?? 'prefer';
    if (!SSL_MODES.includes(mode))
        throw new errors/* ActionError */.lZ(`Profile field "sslmode" of target "${target.target}" is "${mode}"; accepted: ${SSL_MODES.join(', ')}.`);
    if (mode === 'disable')
        return [false];
    const tls = tlsOptions(target, mode);
    if (mode === 'allow')
        return [false, tls];
    if (mode === 'prefer')
        return [tls, false];
    return [tls];
}
/** Whether a failed attempt means the next one in `tlsAttempts` should be tried. */
function refusedTransport(error, attempt) {
    const message = (0,errors/* errorMessage */.gJ)(error);
    return attempt === false
        ? // Materialize and PostgreSQL refuse plaintext at startup, before authentication.
            /TLS|SSL|encryption/i.test(message)
        : /does not support SSL/i.test(message);
}
/** Node's codes for a server certificate that did not verify. */
const UNVERIFIED_CERTIFICATE = new Set([
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED'
]);
/** What to change in the profile when a connection failed for TLS reasons; '' otherwise. */
function tlsHint(error, attempt) {
    if (attempt === false)
        return refusedTransport(error, attempt)
            ? ' The server requires TLS (as Materialize Cloud does): set sslmode to require, verify-ca or verify-full.'
            : '';
    const code = error?.code;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
        return " The server's certificate does not name this host: connect by a name it holds, or use sslmode verify-ca.";
    if (typeof code !== 'string' || !UNVERIFIED_CERTIFICATE.has(code))
        return '';
    // A CA read from sslrootcert is one PEM text; the system's store is a list of them.
    return typeof attempt.ca === 'string'
        ? " The server's certificate did not verify against the CA bundle in sslrootcert: point it at the CA that signed the server's certificate."
        : " The server's certificate did not verify against the system's trust store: set sslrootcert to the CA bundle that signed it.";
}
/** Why a connection attempt failed, with what to change when TLS is the cause. */
function connectFailure(error, attempt) {
    // Node suggests --use-system-ca, which the action's own store already covers.
    const reason = (0,errors/* errorMessage */.gJ)(error)
        .replace(/; if the root CA is installed locally.*$/s, '')
        .replace(/\.$/, '');
    return `${reason}.${tlsHint(error, attempt)}`;
}

;// CONCATENATED MODULE: ./src/warehouse/pg.ts
// The action's own connection to the warehouse (PostgreSQL or Materialize), over `pg`.
// Queries use the simple protocol with quoted literals, which Materialize and its
// emulator both accept.




const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (value) => `'${value.replace(/'/g, "''")}'`;
const literalList = (values) => values.map(quoteLiteral).join(', ');
/**
 * A statement outlived "statement-timeout". Not an ActionError: a readiness poll retries it on
 * the new connection; any other step fails with this message.
 */
class StatementTimeoutError extends Error {
    constructor(statement) {
        const first = statement.trim().split('\n')[0].slice(0, 120);
        super(`A statement took longer than "statement-timeout" allows, so its connection was closed and the next step opens a new one: ${first}`);
        this.name = 'StatementTimeoutError';
    }
}
async function pg_open(target, ssl, { statementTimeoutMs }) {
    const client = new esm/* default.Client */.Ay.Client({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password,
        database: target.database,
        ssl,
        application_name: 'dbt-materialize-deploy',
        // As dbt-materialize does: catalog reads go to mz_catalog_server, whatever the role's
        // default cluster (which may not exist), so the action needs no cluster of its own.
        options: target.type === 'materialize' ? '--auto_route_catalog_queries=on' : undefined,
        connectionTimeoutMillis: 30_000,
        // The connection idles for minutes while dbt runs: keep NATs and load balancers from
        // dropping it silently.
        keepAlive: true,
        keepAliveInitialDelayMillis: 30_000,
        query_timeout: statementTimeoutMs
    });
    // Errors before the warehouse takes the client over (a failed connect) are thrown by
    // connect(); this keeps a late one from crashing the process.
    client.on('error', () => undefined);
    try {
        await client.connect();
        // As dbt-postgres does: the profile's role owns what dbt builds, so it drops it too.
        if (target.role)
            await client.query(`set role ${quoteIdent(target.role)}`);
        return client;
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw error;
    }
}
class PgWarehouse {
    client;
    isMaterialize;
    lost = false;
    constructor(client, isMaterialize) {
        this.client = client;
        this.isMaterialize = isMaterialize;
        // An idle connection dropped by the server (while dbt runs) must not crash the process:
        // the run opens a new one before its next step.
        const markLost = (error) => {
            if (this.lost)
                return;
            this.lost = true;
            lib_core/* warning */.$e(`The Materialize connection was lost${error ? `: ${(0,errors/* errorMessage */.gJ)(error)}` : ''}; the next step reconnects.`);
        };
        client.on('error', markLost);
        client.on('end', () => markLost());
    }
    static async connect(target, options = {}) {
        const attempts = tlsAttempts(target);
        for (const [i, attempt] of attempts.entries()) {
            try {
                return new PgWarehouse(await pg_open(target, attempt, options), target.type === 'materialize');
            }
            catch (error) {
                if (i + 1 < attempts.length && refusedTransport(error, attempt))
                    continue;
                const via = attempt === false ? 'without TLS' : 'over TLS';
                throw new errors/* ActionError */.lZ(`Could not connect to ${target.type} at ${target.host}:${target.port} as ${target.user} ${via} (profile target "${target.target}", sslmode ${target.sslmode ?? 'prefer'}): ${connectFailure(error, attempt)}`);
            }
        }
        throw new errors/* ActionError */.lZ(`No connection to try for profile target "${target.target}".`);
    }
    async query(text) {
        try {
            return (await this.client.query(text)).rows;
        }
        catch (error) {
            // node-pg gives up on the reply but the server may still run the statement, and the
            // connection would queue every later one behind it: drop it, so the next step reconnects.
            if ((0,errors/* errorMessage */.gJ)(error) === 'Query read timeout') {
                this.lost = true;
                this.client.end().catch(() => undefined);
                throw new StatementTimeoutError(text);
            }
            throw error;
        }
    }
    async schemaNames() {
        const result = await this.client.query('select nspname as name from pg_catalog.pg_namespace');
        return result.rows.map((row) => row.name);
    }
    async clusterNames() {
        if (!this.isMaterialize)
            return [];
        const result = await this.client.query('select name from mz_catalog.mz_clusters');
        return result.rows.map((row) => row.name);
    }
    async dropSchema(name) {
        await this.client.query(`drop schema if exists ${quoteIdent(name)} cascade`);
    }
    async dropCluster(name) {
        await this.client.query(`drop cluster if exists ${quoteIdent(name)} cascade`);
    }
    async close() {
        this.lost = true; // closing on purpose: no warning
        await this.client.end();
    }
}

;// CONCATENATED MODULE: ./src/diff/compare.ts

const SAMPLE_ROWS = 5;
const SAMPLE_COLUMNS = 6;
const SAMPLE_VALUE_CHARS = 60;
/** Values of columns so named never leave the warehouse. */
const SECRET_LIKE = /pass|secret|token|credential|api_?key|private|ssn|email|phone/i;
const PRESENT = 'dbt_deploy_diff_present';
const qualified = (r) => [r.database, r.schema, r.name]
    .filter((part) => part !== '')
    .map(quoteIdent)
    .join('.');
const relationKey = (r) => `${r.schema}.${r.name}`;
/** Columns of `relations` by `relationKey`, in column order. */
async function readColumns(warehouse, relations) {
    const schemas = literalList([...new Set(relations.map((r) => r.schema))]);
    const names = literalList([...new Set(relations.map((r) => r.name))]);
    const rows = await warehouse.query(warehouse.isMaterialize
        ? `select s.name as schema, o.name as relation, c.name, c.type
         from mz_catalog.mz_columns c
         join mz_catalog.mz_objects o on o.id = c.id
         join mz_catalog.mz_schemas s on s.id = o.schema_id
         where s.name in (${schemas}) and o.name in (${names})
         order by s.name, o.name, c.position`
        : `select n.nspname as schema, c.relname as relation, a.attname as name,
                format_type(a.atttypid, a.atttypmod) as type
         from pg_catalog.pg_attribute a
         join pg_catalog.pg_class c on c.oid = a.attrelid
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'p', 'f')
           and n.nspname in (${schemas}) and c.relname in (${names})
         order by n.nspname, c.relname, a.attnum`);
    const columns = new Map();
    for (const row of rows) {
        const key = `${row.schema}.${row.relation}`;
        columns.set(key, [...(columns.get(key) ?? []), { name: row.name, type: row.type }]);
    }
    return columns;
}
function schemaChange(blue, green) {
    const blueByName = new Map(blue.map((c) => [c.name, c]));
    const greenByName = new Map(green.map((c) => [c.name, c]));
    const common = (list, other) => list.filter((c) => other.has(c.name)).map((c) => c.name);
    return {
        added: green.filter((c) => !blueByName.has(c.name)),
        removed: blue.filter((c) => !greenByName.has(c.name)),
        retyped: green
            .filter((c) => blueByName.has(c.name) && blueByName.get(c.name).type !== c.type)
            .map((c) => ({ name: c.name, from: blueByName.get(c.name).type, to: c.type })),
        reordered: common(blue, greenByName).join('\u0000') !== common(green, blueByName).join('\u0000')
    };
}
const schemaChanged = (s) => s.added.length + s.removed.length + s.retyped.length > 0 || s.reordered;
/** The key's columns as each side names them (case-insensitively), or why there is no key. */
function resolveKey(key, blue, green) {
    const find = (list, name) => list.find((c) => c.name === name) ??
        list.find((c) => c.name.toLowerCase() === name.toLowerCase());
    const resolved = [];
    for (const name of key.columns) {
        const b = find(blue, name);
        const g = find(green, name);
        if (!b || !g || b.name !== g.name)
            return `key column "${name}" (${key.source}) is not on both sides`;
        resolved.push(b.name);
    }
    return resolved;
}
function sharedColumns(blue, green) {
    const greenTypes = new Map(green.map((c) => [c.name, c.type]));
    return blue
        .filter((c) => greenTypes.has(c.name))
        .map((c) => ({ name: c.name, retyped: greenTypes.get(c.name) !== c.type }));
}
/** A column as compared: retyped ones as text, so the comparison is defined on both sides. */
const compared = (alias, column) => `${alias}.${quoteIdent(column.name)}${column.retyped ? '::text' : ''}`;
const differs = (column) => `${compared('b', column)} is distinct from ${compared('g', column)}`;
const count = (value) => Number(value ?? 0);
function fullJoin(blue, green, key) {
    const side = (r) => `(select true as ${PRESENT}, * from ${qualified(r)})`;
    const on = key.map((k) => `${compared('b', k)} = ${compared('g', k)}`).join(' and ');
    return `${side(blue)} as b full outer join ${side(green)} as g on ${on}`;
}
const both = `b.${PRESENT} and g.${PRESENT}`;
async function keyDiff(sql, pair, key, keyColumns, others) {
    const anyDiffers = others.length > 0 ? others.map(differs).join(' or ') : 'false';
    const perColumn = others.map((c, i) => `count(*) filter (where ${both} and ${differs(c)}) as c${i}`);
    const [row] = await sql.query(`select count(*) filter (where g.${PRESENT} is null) as only_blue,
            count(*) filter (where b.${PRESENT} is null) as only_green,
            count(*) filter (where ${both} and (${anyDiffers})) as changed
            ${perColumn.map((c) => `, ${c}`).join('')}
     from ${fullJoin(pair.blue, pair.green, keyColumns)}`);
    const changedColumns = {};
    others.forEach((c, i) => {
        if (count(row?.[`c${i}`]) > 0)
            changedColumns[c.name] = count(row?.[`c${i}`]);
    });
    return {
        columns: keyColumns.map((k) => k.name),
        source: key.source,
        onlyBlue: count(row?.only_blue),
        onlyGreen: count(row?.only_green),
        changed: count(row?.changed),
        changedColumns
    };
}
async function rowSetDiff(sql, pair, columns) {
    const list = (r) => `select ${columns.map((c) => `${quoteIdent(c.name)}${c.retyped ? '::text' : ''}`).join(', ')} from ${qualified(r)}`;
    const [row] = await sql.query(`select (select count(*) from (${list(pair.blue)} except all ${list(pair.green)}) as x) as only_blue,
            (select count(*) from (${list(pair.green)} except all ${list(pair.blue)}) as y) as only_green`);
    return { onlyBlue: count(row?.only_blue), onlyGreen: count(row?.only_green) };
}
function sampleValue(column, text) {
    if (text === null || text === undefined)
        return null;
    if (SECRET_LIKE.test(column))
        return '[redacted]';
    return text.length > SAMPLE_VALUE_CHARS ? `${text.slice(0, SAMPLE_VALUE_CHARS - 1)}…` : text;
}
function cleanSample(rows) {
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [
        name,
        sampleValue(name.replace(/ \((blue|green)\)$/, ''), value)
    ])));
}
/** A few differing rows on the key: the key, and each differing column on both sides. */
async function keySample(sql, pair, keyColumns, diff, others) {
    const shown = others.filter((c) => diff.changedColumns[c.name]).slice(0, SAMPLE_COLUMNS);
    const keys = keyColumns.map((k) => `coalesce(${compared('b', k)}, ${compared('g', k)})::text as ${quoteIdent(k.name)}`);
    const values = shown.flatMap((c) => [
        `b.${quoteIdent(c.name)}::text as ${quoteIdent(`${c.name} (blue)`)}`,
        `g.${quoteIdent(c.name)}::text as ${quoteIdent(`${c.name} (green)`)}`
    ]);
    const anyShownDiffers = shown.length > 0 ? shown.map(differs).join(' or ') : 'false';
    const rows = await sql.query(`select case when g.${PRESENT} is null then ${quoteLiteral('only in blue')}
                 when b.${PRESENT} is null then ${quoteLiteral('only in green')}
                 else ${quoteLiteral('changed')} end as diff,
            ${[...keys, ...values].join(', ')}
     from ${fullJoin(pair.blue, pair.green, keyColumns)}
     where g.${PRESENT} is null or b.${PRESENT} is null or (${anyShownDiffers})
     order by ${keyColumns.map((k) => `coalesce(${compared('b', k)}, ${compared('g', k)})`).join(', ')}
     limit ${SAMPLE_ROWS}`);
    return cleanSample(rows);
}
async function rowSetSample(sql, pair, columns) {
    const shown = columns.slice(0, SAMPLE_COLUMNS * 2);
    const list = shown.map((c) => `${quoteIdent(c.name)}::text as ${quoteIdent(c.name)}`).join(', ');
    const all = columns.map((c) => `${quoteIdent(c.name)}${c.retyped ? '::text' : ''}`).join(', ');
    const only = (from, other, label) => `select ${quoteLiteral(label)} as diff, ${list} from (select ${all} from ${qualified(from)} except all select ${all} from ${qualified(other)}) as d`;
    const rows = await sql.query(`select * from (${only(pair.blue, pair.green, 'only in blue')} union all ${only(pair.green, pair.blue, 'only in green')}) as s limit ${SAMPLE_ROWS}`);
    return cleanSample(rows);
}
async function rowCount(sql, relation) {
    const [row] = await sql.query(`select count(*) as rows from ${qualified(relation)}`);
    return count(row?.rows);
}
/**
 * Compares one pair whose two relations exist. The first query reads both sides: Materialize
 * fixes a read transaction's objects (those schemas) and its timestamp at its first query. The
 * row counts then read each side alone, at that same timestamp.
 */
async function compareObject(sql, pair, sides) {
    const schema = schemaChange(sides.blue, sides.green);
    const columns = sharedColumns(sides.blue, sides.green);
    const resolved = pair.key ? resolveKey(pair.key, sides.blue, sides.green) : undefined;
    const reason = typeof resolved === 'string' ? resolved : undefined;
    const counts = async () => ({
        blue: await rowCount(sql, pair.blue),
        green: await rowCount(sql, pair.green)
    });
    if (pair.key && Array.isArray(resolved)) {
        const keyColumns = columns.filter((c) => resolved.includes(c.name));
        const others = columns.filter((c) => !resolved.includes(c.name));
        const key = await keyDiff(sql, pair, pair.key, keyColumns, others);
        const rows = await counts();
        const differing = key.onlyBlue + key.onlyGreen + key.changed;
        const sample = differing > 0 ? await keySample(sql, pair, keyColumns, key, others) : [];
        return { schema, rows, key, sample };
    }
    if (columns.length === 0) {
        const [both] = await sql.query(`select (select count(*) from ${qualified(pair.blue)}) as blue,
              (select count(*) from ${qualified(pair.green)}) as green`);
        const rows = { blue: count(both?.blue), green: count(both?.green) };
        return { schema, rows, reason: 'no column on both sides' };
    }
    const rowSet = await rowSetDiff(sql, pair, columns);
    const rows = await counts();
    const sample = rowSet.onlyBlue + rowSet.onlyGreen > 0 ? await rowSetSample(sql, pair, columns) : [];
    return { schema, rows, rowSet, sample, reason };
}

;// CONCATENATED MODULE: ./src/diff/gate.ts
// The gate: what makes a diff block the promote ("diff: gate") or warn ("diff: report").



/** Differing rows in percent of the production side's (of the new side's when production is empty). */
function rowChangePercent(diff) {
    if (!diff.rows)
        return undefined;
    const differing = diff.key
        ? diff.key.onlyBlue + diff.key.onlyGreen + diff.key.changed
        : diff.rowSet
            ? diff.rowSet.onlyBlue + diff.rowSet.onlyGreen
            : Math.abs(diff.rows.green - diff.rows.blue);
    const base = diff.rows.blue || diff.rows.green;
    return base === 0 ? 0 : (100 * differing) / base;
}
function breaches(diff, settings) {
    const found = [];
    if (diff.schema && schemaChanged(diff.schema) && !settings.allowSchemaChange)
        found.push('its columns changed ("diff-allow-schema-change: false")');
    const percent = rowChangePercent(diff);
    if (percent !== undefined && percent > settings.maxRowChangePercent)
        found.push(`${percent.toFixed(1)}% of its rows differ, more than "diff-max-row-change" (${settings.maxRowChangePercent}%)`);
    if (diff.status === 'error')
        found.push(`it could not be compared: ${diff.reason}`);
    return found;
}
/** Why the diff fails the run in gate mode; in report mode the same problems are warnings. */
function gateError(report, settings) {
    const problems = report.objects
        .filter((o) => o.breaches.length > 0)
        .map((o) => `${o.model} (${o.green}): ${o.breaches.join('; ')}`);
    if (report.timedOut) {
        const done = report.objects.filter((o) => o.status === 'compared').map((o) => o.model);
        problems.push(`"diff-timeout" (${settings.timeoutMs / 1000} s) ran out; compared: ${done.join(', ') || 'none'}`);
    }
    if (problems.length === 0)
        return undefined;
    if (settings.mode === 'gate')
        return new errors/* ActionError */.lZ(`The data diff stopped the run ("diff: gate"): ${problems.join('. ')}.`);
    for (const problem of problems)
        lib_core/* warning */.$e(`Data diff: ${problem}.`);
    return undefined;
}

;// CONCATENATED MODULE: ./src/diff/render.ts
// The diff as Markdown (summary and PR comment) and as the `diff-result` output.


const render_STATUS_ICONS = {
    compared: '🔍',
    new: '🆕',
    'not-compared': '⏭️',
    error: '❌'
};
function describeSchema(schema) {
    if (!schema)
        return '–';
    const parts = [
        ...schema.added.map((c) => `+${c.name}`),
        ...schema.removed.map((c) => `−${c.name}`),
        ...schema.retyped.map((c) => `${c.name}: ${c.from} → ${c.to}`),
        ...(schema.reordered ? ['reordered'] : [])
    ];
    return parts.length > 0 ? parts.join(', ') : 'same';
}
const signed = (value) => `${value > 0 ? '+' : ''}${value.toFixed(1)}%`;
function rowsCells(diff) {
    if (!diff.rows)
        return ['–', '–'];
    const { blue, green } = diff.rows;
    const delta = blue === 0 ? (green === 0 ? '0.0%' : 'new rows') : signed((100 * (green - blue)) / blue);
    return [`${blue} → ${green}`, delta];
}
function differenceCells(diff) {
    const found = diff.key ?? diff.rowSet;
    if (!found)
        return ['–', '–', '–'];
    return [
        String(found.onlyBlue),
        String(found.onlyGreen),
        diff.key ? String(diff.key.changed) : 'no key'
    ];
}
/** A breach blocks in gate mode and only warns in report mode. */
const breachIcon = (mode) => (mode === 'gate' ? '⛔' : '⚠️');
function row(diff, mode) {
    const status = diff.breaches.length > 0 ? breachIcon(mode) : render_STATUS_ICONS[diff.status];
    const cells = [
        `${status} \`${cell(diff.green)}\``,
        diff.status === 'compared'
            ? cell(describeSchema(diff.schema))
            : cell(diff.reason ?? diff.status),
        ...rowsCells(diff),
        ...differenceCells(diff)
    ];
    return `| ${cells.join(' | ')} |`;
}
function sampleTable(rows) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const value = (v) => (v === null || v === undefined ? '∅' : cell(v));
    return [
        `| ${columns.map(cell).join(' | ')} |`,
        `| ${columns.map(() => '---').join(' | ')} |`,
        ...rows.map((r) => `| ${columns.map((c) => value(r[c])).join(' | ')} |`)
    ];
}
function details(diff, { labels, mode }) {
    const lines = [];
    if (diff.key) {
        const columns = Object.entries(diff.key.changedColumns).map(([c, n]) => `\`${cell(c)}\` (${n})`);
        lines.push(`**\`${cell(diff.model)}\`** on key ${diff.key.columns.map((c) => `\`${cell(c)}\``).join(', ')} (${diff.key.source})` +
            (columns.length > 0 ? `: changed columns ${columns.join(', ')}` : ''));
    }
    else if (diff.rowSet) {
        lines.push(`**\`${cell(diff.model)}\`**: no key, compared as whole rows of the columns on both sides${diff.reason ? ` (${cell(diff.reason)})` : ''}`);
    }
    if (diff.breaches.length > 0)
        lines.push(`${breachIcon(mode)} ${diff.breaches.map(cell).join('; ')}`);
    if (diff.sample && diff.sample.length > 0) {
        lines.push('', ...sampleTable(diff.sample.map((r) => relabel(r, labels))));
    }
    return lines.length > 0 ? [...lines, ''] : [];
}
/** Sample columns name the sides as the report does ("production", "green"). */
function relabel(row, labels) {
    return Object.fromEntries(Object.entries(row).map(([name, value]) => [
        name.replace(/ \(blue\)$/, ` (${labels.blue})`).replace(/ \(green\)$/, ` (${labels.green})`),
        typeof value === 'string'
            ? value
                .replace(/^only in blue$/, `only in ${labels.blue}`)
                .replace(/^only in green$/, `only in ${labels.green}`)
            : value
    ]));
}
function renderDiff(report) {
    if (report.objects.length === 0)
        return '';
    const { blue, green } = report.labels;
    const compared = report.objects.filter((o) => o.status === 'compared').length;
    return [
        `### Data diff: ${cell(blue)} → ${cell(green)}`,
        '',
        `${compared} of ${report.objects.length} object(s) compared in ${report.seconds.toFixed(1)} s ("diff: ${report.mode}")${report.timedOut ? ', cut short by "diff-timeout"' : ''}.`,
        '',
        `| Object | Schema Δ | Rows ${cell(blue)} → ${cell(green)} | Δ% | Only ${cell(blue)} | Only ${cell(green)} | Changed |`,
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...report.objects.map((o) => row(o, report.mode)),
        '',
        ...report.objects.flatMap((o) => details(o, report))
    ]
        .join('\n')
        .trimEnd();
}
/** The `diff-result` output: the report with each object's row change in percent. */
function diffResult(report) {
    return JSON.stringify({
        ...report,
        objects: report.objects.map((o) => ({ ...o, rowChangePercent: rowChangePercent(o) }))
    });
}

;// CONCATENATED MODULE: ./src/diff/manifest.ts
// What the diff needs from a dbt manifest: the models that have a relation, what a deploy
// changes, and each model's key (declared, never guessed from the data).

/** Materializations that leave a relation both sides can be read from. */
const READABLE = new Set([
    'view',
    'materialized_view',
    'materializedview',
    'table',
    'incremental',
    'seed'
]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
/** `unique_key` as columns: a list, or a string of comma-separated names; expressions are not keys. */
function keyColumns(value) {
    const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
    const columns = list?.map((c) => (typeof c === 'string' ? c.trim() : ''));
    return columns && columns.length > 0 && columns.every((c) => IDENTIFIER.test(c))
        ? columns
        : undefined;
}
function modelFacts(id, node) {
    const config = node.config ?? {};
    if (node.resource_type !== 'model' && node.resource_type !== 'seed')
        return undefined;
    const materialized = typeof config.materialized === 'string' ? config.materialized : 'view';
    if (config.enabled === false || !READABLE.has(materialized))
        return undefined;
    if (!node.schema || !node.name)
        return undefined;
    return {
        id,
        name: node.name,
        relation: { database: node.database ?? '', schema: node.schema, name: node.alias || node.name },
        fingerprint: JSON.stringify([node.checksum?.checksum ?? null, materialized]),
        uniqueKey: keyColumns(config.unique_key)
    };
}
/** The model a generic `unique` test on one plain column checks, and that column. */
function uniqueTest(node) {
    if (node.resource_type !== 'test' || node.test_metadata?.name !== 'unique')
        return undefined;
    const config = node.config ?? {};
    if (config.enabled === false || config.where)
        return undefined;
    const column = node.column_name ?? node.test_metadata.kwargs?.column_name;
    const model = node.attached_node ?? node.depends_on?.nodes?.find((n) => n.startsWith('model.'));
    return typeof column === 'string' && IDENTIFIER.test(column) && model
        ? [model, column]
        : undefined;
}
function readDiffManifest(text, source) {
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`${source} is not valid JSON (${(0,errors/* errorMessage */.gJ)(error)}).`);
    }
    const models = new Map();
    const uniqueColumns = new Map();
    for (const [id, node] of Object.entries(parsed.nodes ?? {})) {
        const facts = modelFacts(id, node);
        if (facts)
            models.set(id, facts);
        const unique = uniqueTest(node);
        if (unique)
            uniqueColumns.set(unique[0], [...(uniqueColumns.get(unique[0]) ?? []), unique[1]]);
    }
    return { models, uniqueColumns, children: new Map(Object.entries(parsed.child_map ?? {})) };
}
/** Models new in `current` or changed since `previous`, sorted by id. */
function changedModels(current, previous) {
    return [...current.models.values()]
        .filter((m) => previous?.models.get(m.id)?.fingerprint !== m.fingerprint)
        .map((m) => m.id)
        .sort();
}
/** `ids` and every model downstream of them, sorted by id. */
function withDownstream(manifest, ids) {
    const seen = new Set(ids);
    const queue = [...ids];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        for (const child of manifest.children.get(id) ?? []) {
            if (manifest.models.has(child) && !seen.has(child)) {
                seen.add(child);
                queue.push(child);
            }
        }
    }
    return [...seen].sort();
}
/**
 * The columns that identify a model's rows: the `diff-keys` input, else its `unique_key`
 * config, else a single-column `unique` test (the first by name when it has several).
 */
function inferKey(manifest, model, overrides) {
    const override = overrides[model.name];
    if (override)
        return { columns: override, source: 'diff-keys' };
    if (model.uniqueKey)
        return { columns: model.uniqueKey, source: 'unique_key' };
    const tested = [...(manifest.uniqueColumns.get(model.id) ?? [])].sort();
    return tested.length > 0 ? { columns: [tested[0]], source: 'unique test' } : undefined;
}

;// CONCATENATED MODULE: ./src/diff/index.ts
// The data diff step: compares each pair within `diff-timeout` and `diff-max-objects`, on a
// connection of its own, and judges the result against the gate.




class DiffTimeout extends Error {
}
/** `work`, or a DiffTimeout once `deadline` (epoch ms) passes. */
async function before(deadline, work) {
    let timer;
    const expired = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new DiffTimeout()), Math.max(0, deadline - Date.now()));
    });
    try {
        return await Promise.race([work, expired]);
    }
    finally {
        clearTimeout(timer);
    }
}
const notCompared = (pair, reason) => ({
    model: pair.model,
    blue: qualified(pair.blue),
    green: qualified(pair.green),
    status: 'not-compared',
    reason,
    breaches: []
});
async function openSession(open, cluster) {
    const warehouse = await open();
    if (warehouse.isMaterialize && cluster)
        await warehouse.query(`set cluster = ${quoteLiteral(cluster)}`);
    // Materialize reads a transaction at one timestamp; PostgreSQL needs a snapshot for that.
    const begin = warehouse.isMaterialize
        ? 'begin read only'
        : 'begin isolation level repeatable read read only';
    return { warehouse, begin };
}
async function comparePair(session, pair, columns) {
    const base = { model: pair.model, blue: qualified(pair.blue), green: qualified(pair.green) };
    const blue = columns.get(relationKey(pair.blue));
    const green = columns.get(relationKey(pair.green));
    if (!blue)
        return { ...base, status: 'new', reason: 'no production counterpart', breaches: [] };
    if (!green)
        return { ...base, status: 'not-compared', reason: 'not built', breaches: [] };
    const { warehouse } = session;
    await warehouse.query(session.begin);
    try {
        const found = await compareObject(warehouse, pair, { blue, green });
        return { ...base, status: 'compared', ...found, breaches: [] };
    }
    catch (error) {
        if (error instanceof DiffTimeout)
            throw error;
        return { ...base, status: 'error', reason: (0,errors/* errorMessage */.gJ)(error), breaches: [] };
    }
    finally {
        if (!warehouse.lost)
            await warehouse.query('rollback').catch(() => undefined);
    }
}
/**
 * Compares `pairs` (at most `maxObjects` of them, in order) within `timeoutMs`. A comparison
 * cut by the timeout ends the step: its connection is closed, which cancels the query.
 */
async function runDiff(settings, pairs, open, labels, cluster) {
    const mode = settings.mode === 'gate' ? 'gate' : 'report';
    const started = Date.now();
    const deadline = started + settings.timeoutMs;
    const compared = pairs.slice(0, settings.maxObjects);
    const objects = pairs
        .slice(settings.maxObjects)
        .map((p) => notCompared(p, `beyond "diff-max-objects" (${settings.maxObjects})`));
    const results = [];
    let timedOut = false;
    let failure;
    let session;
    try {
        session = await before(deadline, openSession(open, cluster));
        const relations = compared.flatMap((p) => [p.blue, p.green]);
        const columns = await before(deadline, readColumns(session.warehouse, relations));
        for (const pair of compared) {
            results.push(await before(deadline, comparePair(session, pair, columns)));
        }
    }
    catch (error) {
        if (error instanceof DiffTimeout)
            timedOut = true;
        else
            failure = (0,errors/* errorMessage */.gJ)(error);
    }
    finally {
        await session?.warehouse.close().catch(() => undefined);
    }
    const rest = compared
        .slice(results.length)
        .map((p) => failure
        ? { ...notCompared(p, failure), status: 'error' }
        : notCompared(p, `"diff-timeout" (${settings.timeoutMs / 1000} s) ran out`));
    const all = [...results, ...rest, ...objects].map((o) => ({
        ...o,
        breaches: breaches(o, settings)
    }));
    return { mode, labels, objects: all, timedOut, seconds: (Date.now() - started) / 1000 };
}

;// CONCATENATED MODULE: ./src/slim/diff.ts
// The pull request's environment against production: the models the PR modifies (and, when
// asked, those downstream), each read where the PR built it and where production has it.







function prPairs(inputs, nodes, productionManifest, prManifest) {
    const production = readDiffManifest((0,external_node_fs_.readFileSync)(productionManifest, 'utf8'), 'the production manifest');
    const pr = readDiffManifest((0,external_node_fs_.readFileSync)(prManifest, 'utf8'), "the pull request's manifest");
    const wanted = new Set([
        'modified',
        ...(inputs.diff.downstream ? ['downstream of a change'] : [])
    ]);
    return nodes
        .filter((node) => wanted.has(node.reason))
        .flatMap((node) => {
        const blue = production.models.get(node.uniqueId);
        const green = pr.models.get(node.uniqueId);
        if (!blue || !green)
            return [];
        const key = inferKey(pr, green, inputs.diff.keys);
        return [{ model: green.name, blue: blue.relation, green: green.relation, key }];
    });
}
/** Diffs the models the PR changed; the `diff-result` output is set, the gate is the caller's. */
async function diffPullRequest(inputs, project, environment, files, nodes, connect) {
    const pairs = prPairs(inputs, nodes, files.production, files.pr);
    const target = maskedProfileTarget(inputs.dbt, project, dbtEnvironment(environment), 'Data diff');
    const report = await runDiff(inputs.diff, pairs, () => connect(target), { blue: 'production', green: environment }, inputs.diff.cluster);
    lib_core/* setOutput */.uH('diff-result', diffResult(report));
    return report;
}

;// CONCATENATED MODULE: ./src/slim/build.ts
// Slim mode, phase build: state:modified+ against the production manifest.





























const realDependencies = {
    store: (inputs) => S3ObjectStore.create(inputs.s3, inputs.state.bucket),
    dbt: (inputs, environment) => DbtCli.create({ ...inputs.dbt, vars: withEnvironmentVar(inputs.dbt.vars, environment) }, dbtEnvironment(environment)),
    connect: (target) => PgWarehouse.connect(target)
};
async function build_slimBuild(inputs, context, deps = realDependencies) {
    const environment = environment_prEnvironment(inputs, context);
    if (environment)
        lib_core/* setOutput */.uH('pr-environment', environment);
    const project = readProject(inputs.dbt.projectDir);
    maskProfileSecrets(inputs.dbt, project, dbtEnvironment(environment));
    // Every setting is checked before S3 or the warehouse, even when dbt will be skipped.
    checkTarget(inputs.dbt, project);
    checkSelector(inputs.selection, project);
    const dbt = await deps.dbt(inputs, environment);
    const store = deps.store(inputs);
    try {
        await buildWithState(inputs, context, { dbt, store, connect: deps.connect }, project, environment);
    }
    finally {
        store.close();
    }
}
/**
 * Runs `build` as a transient GitHub deployment of the pull request's environment, which
 * teardown retires. A run that skips dbt deploys nothing, so it records none (and spends none
 * of the write quota GitHub spaces a second apart).
 */
async function asPrDeployment(inputs, context, environment, build) {
    if (!environment || !context.pullRequest)
        return build();
    const deployment = deploymentRecord(inputs.report.githubToken, context);
    await deployment.start({
        sha: context.pullRequest.headSha || context.sha,
        environment,
        transient: true,
        description: `dbt slim build of pull request #${context.pullRequest.number}`,
        payload: { environment }
    });
    try {
        await build();
        await deployment.succeed(environment, { environmentUrl: inputs.report.environmentUrl });
    }
    catch (error) {
        await deployment.status('failure', { description: redact((0,errors/* errorMessage */.gJ)(error)) });
        throw error;
    }
}
/** On a PR's successful build against production's state, with "diff" on: the data diff. */
async function diffIfWanted(inputs, project, environment, state, build, connect) {
    if (inputs.diff.mode === 'off' || build.error || !environment || state.kind !== 'found')
        return undefined;
    const files = { production: external_node_path_default().join(state.dir, 'manifest.json'), pr: build.manifest };
    return lib_core/* group */.Os('Data diff', () => diffPullRequest(inputs, project, environment, files, build.nodes, connect));
}
async function buildWithState(inputs, context, { dbt, store, connect }, project, environment) {
    const started = Date.now();
    const located = await lib_core/* group */.Os('Production state', () => locateProductionState(store, inputs.state, inputs.onStateError));
    if (located.kind === 'present' && (await unchangedSinceState(inputs, project, located))) {
        lib_core/* setOutput */.uH('state-available', 'true');
        await reportSkipped(inputs, context, skippedFacts(context, environment, located));
        return;
    }
    await asPrDeployment(inputs, context, environment, () => buildAndReport(inputs, context, { dbt, store, connect }, project, environment, located, started));
}
async function buildAndReport(inputs, context, { dbt, store, connect }, project, environment, located, started) {
    const fetched = located.kind === 'present'
        ? await lib_core/* group */.Os('Production manifest', () => fetchProductionState(store, inputs.state, inputs.onStateError))
        : located;
    const state = await lib_core/* group */.Os('Manifest version', () => readableState(fetched, inputs.state, inputs.onStateError, () => dbt.manifestSupport()));
    lib_core/* setOutput */.uH('state-available', String(state.kind === 'found'));
    const plan = planFor(inputs, project, state);
    const facts = baseFacts(context, environment, state, plan);
    const build = await runBuild(dbt, inputs, project, state, plan, environment);
    // A cancelled build is neither published nor reported; cancel.ts reports the cancellation.
    throwIfCancelled();
    const diff = await diffIfWanted(inputs, project, environment, state, build, connect);
    const diffError = diff ? gateError(diff, inputs.diff) : undefined;
    facts.push(['Duration', `${((Date.now() - started) / 1000).toFixed(1)} s`]);
    const published = build.error
        ? { uploaded: false, notes: [] }
        : await publishIfWanted(store, inputs, context, state, build.manifest);
    throwIfCancelled();
    const failed = build.error ?? diffError ?? published.error;
    const status = failed
        ? 'failed'
        : build.nodes.length === 0
            ? 'nothing-selected'
            : 'success';
    lib_core/* setOutput */.uH('manifest-uploaded', String(published.uploaded));
    await build_finish(inputs, context, {
        ...report(status, headline(status, build.nodes), facts, build.nodes, published.notes),
        sharedSections: diff ? [renderDiff(diff)] : []
    });
    if (failed)
        throw failed;
}
function planFor(inputs, project, state) {
    return planSelection(inputs.selection, project, {
        stateDir: state.kind === 'found' ? state.dir : undefined,
        defer: inputs.defer,
        favorState: inputs.favorState
    });
}
async function reportSkipped(inputs, context, facts) {
    setSelectionOutputs([]);
    lib_core/* setOutput */.uH('manifest-uploaded', 'false');
    const headlineText = 'No dbt file changed since the production manifest was built, so dbt was not run.';
    await build_finish(inputs, context, report('skipped-unchanged', headlineText, facts, []));
}
async function runBuild(dbt, inputs, project, state, plan, environment) {
    await installPackages(dbt, project, inputs.cachePackages);
    const parseState = await restoreParseState(parseScope(dbt, inputs.dbt, [project.targetPath], environment));
    const targetDir = external_node_path_default().join(project.dir, project.targetPath);
    const manifest = external_node_path_default().join(targetDir, 'manifest.json');
    // Files of an earlier step or job (self-hosted runners) must never pass for this build's.
    for (const file of [manifest, external_node_path_default().join(targetDir, 'run_results.json')])
        (0,external_node_fs_.rmSync)(file, { force: true });
    const invocation = await lib_core/* group */.Os('dbt build', () => dbt.run('build', [...plan.args, ...inputs.dbt.extraArgs]));
    throwIfCancelled();
    await saveParseState(parseState);
    const results = readRunResults(external_node_path_default().join(targetDir, 'run_results.json'));
    setSelectionOutputs(results, targetDir);
    const nodes = describeNodes(results, readManifestIndex(manifest), state, plan, project);
    return { nodes, manifest, error: dbtFailure(invocation, nodes) };
}
async function publishIfWanted(store, inputs, context, state, manifest) {
    if (!wantsUpload(inputs.uploadManifest, isDefaultBranchPush(context)))
        return { uploaded: false, notes: [] };
    try {
        const note = await lib_core/* group */.Os('Publish manifest', () => publish(store, inputs, state, manifest, context));
        return { uploaded: true, notes: [note] };
    }
    catch (error) {
        const failure = error instanceof Error ? error : new errors/* ActionError */.lZ((0,errors/* errorMessage */.gJ)(error));
        return {
            uploaded: false,
            notes: [`Manifest not published: ${failure.message}`],
            error: failure
        };
    }
}
async function publish(store, inputs, state, manifest, context) {
    const sha = (await headSha(inputs.dbt.projectDir)) ?? context.sha;
    throwIfCancelled();
    return publishManifest(store, inputs.state, (0,external_node_fs_.readFileSync)(manifest, 'utf8'), publishCondition(state), sha, {
        history: commitHistory(inputs.dbt.projectDir, inputs.report.githubToken, context),
        changedProduction: environment_prEnvironment(inputs, context) === undefined
    });
}
/** Whether no dbt file changed since the commit production was built from, by one HEAD request and git. */
async function unchangedSinceState(inputs, project, state) {
    if (!inputs.skipUnchanged || !state.gitSha || !comparesWithState(inputs.selection, project))
        return false;
    const changed = await changedFilesSince(project.dir, state.gitSha);
    if (changed === undefined) {
        lib_core/* info */.pq(`git cannot compare with ${state.gitSha} (a shallow clone? use fetch-depth: 0), so dbt decides what changed.`);
        return false;
    }
    const relevant = changed.filter((file) => isDbtFile(project, file));
    lib_core/* info */.pq(`${changed.length} file(s) changed since ${state.gitSha.slice(0, 12)}, ${relevant.length} of them dbt files.`);
    return relevant.length === 0;
}
function reasonFor(uniqueId, current, state, plan) {
    if (state.kind !== 'found')
        return 'full build';
    if (!plan.stateBased)
        return 'selected';
    const before = state.nodes.get(uniqueId);
    if (!before)
        return 'new';
    return before.checksum !== current.get(uniqueId)?.checksum ? 'modified' : 'downstream of a change';
}
function describeNodes(results, current, state, plan, project) {
    return results.map((result) => {
        const info = current.get(result.uniqueId);
        const file = info?.originalFilePath
            ? external_node_path_default().relative(process.env.GITHUB_WORKSPACE || process.cwd(), external_node_path_default().join(project.dir, info.originalFilePath))
            : undefined;
        return {
            uniqueId: result.uniqueId,
            name: info?.name ?? result.uniqueId,
            resourceType: info?.resourceType ?? result.uniqueId.split('.')[0] ?? '',
            status: result.status,
            seconds: result.seconds,
            reason: reasonFor(result.uniqueId, current, state, plan),
            message: result.message,
            file
        };
    });
}
function dbtFailure(invocation, nodes) {
    if (invocation.exitCode === 0)
        return undefined;
    const failures = nodes.filter(failed);
    if (invocation.exitCode === 1 && failures.length > 0) {
        const names = failures
            .slice(0, 10)
            .map((node) => node.uniqueId)
            .join(', ');
        return new errors/* ActionError */.lZ(`dbt build failed: ${failures.length} node(s) failed (${names}). See the annotations and the job summary.`);
    }
    return new errors/* ActionError */.lZ(`dbt could not complete the build (exit ${invocation.exitCode}). dbt said:\n${invocation.tail}`);
}
function headline(status, nodes) {
    const failures = nodes.filter(failed).length;
    if (status === 'nothing-selected')
        return 'The selection matched no nodes, so nothing was built.';
    if (failures > 0)
        return `${nodes.length} node(s) ran, ${failures} failed.`;
    return `${nodes.length} node(s) ran${status === 'failed' ? '' : ' successfully'}.`;
}
function eventFacts(context, environment) {
    const facts = [
        [
            'Event',
            `${context.eventName} at \`${(context.pullRequest?.headSha || context.sha).slice(0, 7)}\``
        ]
    ];
    if (environment)
        facts.push(['PR environment', `\`${environment}\``]);
    return facts;
}
function baseFacts(context, environment, state, plan) {
    const stateText = {
        found: 'production manifest found',
        missing: 'no production manifest yet (first run)',
        unusable: 'production manifest unusable'
    }[state.kind];
    return [
        ...eventFacts(context, environment),
        ['State', stateText],
        ['Selection', plan.description]
    ];
}
function skippedFacts(context, environment, state) {
    const dbt = state.dbtVersion ? ` with dbt ${state.dbtVersion}` : '';
    return [
        ...eventFacts(context, environment),
        ['State', `production manifest of \`${state.gitSha?.slice(0, 7)}\`${dbt}`]
    ];
}
function report(status, headlineText, facts, nodes, notes = []) {
    return { title: 'dbt slim build', status, headline: headlineText, facts, nodes, notes };
}
async function build_finish(inputs, context, runReport) {
    lib_core/* setOutput */.uH('status', runReport.status);
    await reportRun(runReport, inputs.report, context, 'slim');
}

;// CONCATENATED MODULE: ./src/warehouse/environment.ts
function matches(names, match) {
    return (candidate) => names.some((name) => candidate === name || (match === 'with-suffixes' && candidate.startsWith(`${name}_`)));
}
/** Drops what exists of the environment; returns what it dropped, e.g. `schema pr_7`. */
async function dropEnvironment(warehouse, names, match) {
    const dropped = [];
    for (const schema of (await warehouse.schemaNames()).filter(matches(names.schemas, match))) {
        await warehouse.dropSchema(schema);
        dropped.push(`schema ${schema}`);
    }
    if (names.clusters.length === 0)
        return dropped;
    for (const cluster of (await warehouse.clusterNames()).filter(matches(names.clusters, match))) {
        await warehouse.dropCluster(cluster);
        dropped.push(`cluster ${cluster}`);
    }
    return dropped;
}

;// CONCATENATED MODULE: ./src/slim/teardown.ts
// Slim mode, phase teardown: drop a closed pull request's environment. Idempotent, and it
// refuses to drop anything whose name does not carry the PR environment's name.










function environmentTarget(inputs, project, environment) {
    const target = maskedProfileTarget(inputs.dbt, project, dbtEnvironment(environment), 'Teardown');
    if (!target.schema?.includes(environment)) {
        throw new errors/* ActionError */.lZ(`Teardown refused: the target schema "${target.schema ?? ''}" does not contain the PR environment name "${environment}", so it is not a PR environment. ` +
            `Route PR builds in profiles.yml, e.g. schema: "{{ env_var('${PR_ENVIRONMENT_ENV}', 'analytics') }}".`);
    }
    return target;
}
/** The PR's schemas and, on Materialize when the profile routes it, its clusters. */
function prNames(target, environment, warehouse) {
    const ownCluster = warehouse.isMaterialize && target.cluster?.includes(environment);
    return { schemas: [target.schema], clusters: ownCluster ? [target.cluster] : [] };
}
async function slimTeardown(inputs, context, connect = (target) => PgWarehouse.connect(target)) {
    const environment = environment_prEnvironment(inputs, context);
    if (!environment) {
        throw new errors/* ActionError */.lZ('Input "phase" is "teardown", which needs a pull request environment: run it on pull_request events or set "pr-environment".');
    }
    lib_core/* setOutput */.uH('pr-environment', environment);
    const project = readProject(inputs.dbt.projectDir);
    checkTarget(inputs.dbt, project);
    const target = await reportRefusal(inputs, context, environment, () => environmentTarget(inputs, project, environment));
    const warehouse = await connect(target);
    let dropped;
    try {
        dropped = await lib_core/* group */.Os(`Drop PR environment ${environment}`, () => dropEnvironment(warehouse, prNames(target, environment, warehouse), 'with-suffixes'));
    }
    finally {
        await warehouse.close();
    }
    for (const item of dropped)
        lib_core/* info */.pq(`Dropped ${item}.`);
    await deploymentRecord(inputs.report.githubToken, context).retire(environment, 'Pull request environment dropped.');
    const gone = `Nothing to drop: ${environment} was already gone.`;
    lib_core/* setOutput */.uH('status', 'torn-down');
    await reportRun({
        ...teardownReport(environment, 'torn-down'),
        headline: dropped.length > 0 ? `Dropped ${dropped.join(', ')}.` : gone,
        // A repeated teardown keeps the comment's report of what was dropped.
        followUp: dropped.length > 0 ? undefined : `Teardown ran again (${new Date().toISOString()}): ${gone}`
    }, inputs.report, context, 'slim');
}
function teardownReport(environment, status) {
    return {
        title: 'dbt PR environment teardown',
        status,
        headline: '',
        facts: [['PR environment', `\`${environment}\``]],
        notes: []
    };
}
/** A refused teardown still writes its report (summary and comment) before it fails. */
async function reportRefusal(inputs, context, environment, check) {
    try {
        return check();
    }
    catch (error) {
        const headline = (0,errors/* errorMessage */.gJ)(error);
        await reportRun({ ...teardownReport(environment, 'refused'), headline }, inputs.report, context, 'slim');
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/store/lock.ts
// A deploy lease in S3 beside the manifest. Created with If-None-Match, renewed and released
// with If-Match on our own ETag, and taken over only once expired (with If-Match on the
// expired lease's ETag, so two runs cannot both take it). Expiry keeps a crashed run from
// blocking deploys forever: correctness never depends on the post step running.





class LockTimeout extends errors/* ActionError */.lZ {
}
/** The lease expired and another run took it over (or it was deleted): this run must stop. */
class LeaseLost extends errors/* ActionError */.lZ {
}
function describe(lease) {
    const run = lease.runUrl ? ` (${lease.runUrl})` : '';
    return `${lease.owner}${run}, acquired ${lease.acquiredAt}, expires ${lease.expiresAt}`;
}
const LEASE_SHAPE = {
    owner: 'string',
    runUrl: 'string?',
    nonce: 'string',
    acquiredAt: 'string',
    expiresAt: 'string'
};
/** The lease, or undefined for a body no run of this action wrote (taken over once expired). */
function parseLease(body) {
    try {
        const lease = JSON.parse(body);
        return shape_misfit(lease, LEASE_SHAPE) === undefined ? lease : undefined;
    }
    catch {
        return undefined;
    }
}
class S3Lease {
    store;
    key;
    body;
    etag;
    options;
    constructor(store, key, body, etag, options) {
        this.store = store;
        this.key = key;
        this.body = body;
        this.etag = etag;
        this.options = options;
    }
    get holder() {
        return this.body;
    }
    static async acquire(store, key, options) {
        const now = options.now ?? Date.now;
        const deadline = now() + options.timeoutMs;
        const nonce = (0,external_node_crypto_.randomUUID)();
        let waitingFor;
        for (;;) {
            const body = S3Lease.newBody(options, nonce, now());
            const existing = await store.get(key);
            const current = existing && parseLease(existing.body);
            const condition = !existing
                ? { ifNoneMatch: '*' }
                : !current || Date.parse(current.expiresAt) <= now()
                    ? { ifMatch: existing.etag }
                    : undefined;
            if (current?.nonce === nonce)
                return new S3Lease(store, key, current, existing.etag, options);
            if (condition) {
                if (existing)
                    lib_core/* warning */.$e(`Taking over an expired or unreadable deploy lock: ${current ? describe(current) : 'unreadable'}.`);
                try {
                    const etag = await store.put(key, JSON.stringify(body), condition);
                    return new S3Lease(store, key, body, etag, options);
                }
                catch (error) {
                    // Someone else won the race, or S3 retried our own write: the next read tells which.
                    if (!(error instanceof ConditionalWriteRefused))
                        throw error;
                    continue;
                }
            }
            if (now() >= deadline) {
                throw new LockTimeout(`Another deploy holds the lock ${key}: ${describe(current)}. Waited ${Math.round(options.timeoutMs / 1000)} s ("lock-timeout"). ` +
                    'If that run is gone, the lock expires by itself; delete the object to release it sooner.');
            }
            if (waitingFor?.nonce !== current.nonce)
                lib_core/* info */.pq(`Waiting for the deploy lock held by ${describe(current)}.`);
            waitingFor = current;
            await options.sleep(Math.min(options.pollMs, Math.max(0, deadline - now())));
        }
    }
    static newBody(options, nonce, at) {
        return {
            owner: options.owner,
            runUrl: options.runUrl,
            nonce,
            acquiredAt: new Date(at).toISOString(),
            expiresAt: new Date(at + options.ttlMs).toISOString()
        };
    }
    /** Extends the lease; throws LeaseLost if it is no longer ours. */
    async renew() {
        const now = (this.options.now ?? Date.now)();
        const body = { ...this.body, expiresAt: new Date(now + this.options.ttlMs).toISOString() };
        try {
            this.etag = await this.store.put(this.key, JSON.stringify(body), { ifMatch: this.etag });
            this.body = body;
        }
        catch (error) {
            if (!(error instanceof ConditionalWriteRefused))
                throw error;
            // S3 may have retried our own renewal: the lease is still ours if it carries our nonce.
            const existing = await this.store.get(this.key);
            const current = existing && parseLease(existing.body);
            if (current?.nonce !== this.body.nonce)
                throw this.lost(current);
            this.body = current;
            this.etag = existing.etag;
        }
    }
    lost(current) {
        const now = current ? `another run holds it now: ${describe(current)}` : 'it was deleted';
        return new LeaseLost(`The deploy lock ${this.key} was lost (${now}). This run stops so that it touches nothing the new holder owns.`);
    }
    /** Deletes the lease if it is still ours; false when it is not (any more). */
    async release() {
        return S3Lease.releaseRecorded(this.store, this.key, this.body.nonce);
    }
    /** Renews every third of the TTL until stopped; `onLost` hears once if the lease is gone. */
    keepAlive(onLost) {
        const timer = setInterval(() => {
            this.renew().catch((error) => {
                if (!(error instanceof LeaseLost))
                    return lib_core/* warning */.$e(`Renewing the deploy lock failed: ${(0,errors/* errorMessage */.gJ)(error)}`);
                clearInterval(timer);
                onLost(error);
            });
        }, Math.max(1000, this.options.ttlMs / 3));
        timer.unref();
        return () => clearInterval(timer);
    }
    /** Whether a lease at `key` carries another nonce than `nonce` (another run holds it). */
    static async heldByAnother(store, key, nonce) {
        const existing = await store.get(key);
        return existing !== undefined && parseLease(existing.body)?.nonce !== nonce;
    }
    /** Releases a lease recorded by an earlier step, if it still carries that nonce. */
    static async releaseRecorded(store, key, nonce) {
        const existing = await store.get(key);
        if (!existing || parseLease(existing.body)?.nonce !== nonce)
            return false;
        await store.delete(key, existing.etag);
        return true;
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/config.ts
// The deployment configuration dbt-materialize's deploy macros read:
// `vars.deployment.<target>.{clusters, schemas}` in dbt_project.yml.

const GREEN_SUFFIX = '_dbt_deploy';
const green = (name) => `${name}${GREEN_SUFFIX}`;
function names(value, field, target) {
    if (!Array.isArray(value) ||
        value.length === 0 ||
        !value.every((v) => typeof v === 'string' && v !== '')) {
        throw new errors/* ActionError */.lZ(`vars.deployment.${target}.${field} in dbt_project.yml must be a non-empty list of ${field} names; it is ${JSON.stringify(value ?? null)}.`);
    }
    return value;
}
function readDeploymentConfig(projectVars, target) {
    const deployment = projectVars.deployment;
    if (!deployment || typeof deployment !== 'object') {
        throw new errors/* ActionError */.lZ('Blue/green needs vars.deployment in dbt_project.yml, e.g. vars: {deployment: {prod: {clusters: [analytics], schemas: [analytics]}}}.');
    }
    const config = deployment[target];
    if (!config) {
        throw new errors/* ActionError */.lZ(`vars.deployment in dbt_project.yml has no entry for target "${target}"; it has: ${Object.keys(deployment).join(', ') || 'none'}.`);
    }
    return {
        target,
        clusters: names(config.clusters, 'clusters', target),
        schemas: names(config.schemas, 'schemas', target)
    };
}

;// CONCATENATED MODULE: ./src/bluegreen/cutover.ts
// The cutover as the catalog sees it. Materialize keeps ids through a swap (a schema swap
// renames, a cluster swap exchanges names), so the ids recorded before deploy_promote tell,
// after any failure, whether the swap committed: production's names then carry green's former
// ids, and green's names hold the previous production.




async function catalogIds(sql, sides) {
    const schemas = [...sides.schemas, ...sides.schemas.map(green)];
    const clusters = [...sides.clusters, ...sides.clusters.map(green)];
    const rows = await sql.query(`select 'schema' as kind, s.name, s.id from mz_catalog.mz_schemas s
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(schemas)})
     union all
     select 'cluster' as kind, name, id from mz_catalog.mz_clusters where name in (${literalList(clusters)})`);
    const ids = { schemas: {}, clusters: {} };
    for (const row of rows)
        ids[row.kind === 'schema' ? 'schemas' : 'clusters'][row.name] = row.id;
    return ids;
}
/** Both sides of the swap about to run; every production and green name must exist. */
async function swapSides(sql, names) {
    const ids = await catalogIds(sql, names);
    const idOf = (kind, name) => {
        const id = ids[kind][name];
        if (id === undefined)
            throw new errors/* ActionError */.lZ(`The ${kind.slice(0, -1)} "${name}" does not exist: nothing to swap.`);
        return id;
    };
    return {
        schemas: names.schemas,
        clusters: names.clusters,
        productionSchemaIds: names.schemas.map((s) => idOf('schemas', s)),
        greenSchemaIds: names.schemas.map((s) => idOf('schemas', green(s))),
        productionClusterIds: names.clusters.map((c) => idOf('clusters', c)),
        greenClusterIds: names.clusters.map((c) => idOf('clusters', green(c)))
    };
}
function sides(recorded, now) {
    const side = (what, ids, name, p, g) => ({
        what,
        name,
        productionId: p,
        greenId: g,
        productionNow: ids[name],
        greenNow: ids[green(name)]
    });
    return [
        ...recorded.schemas.map((s, i) => side('schema', now.schemas, s, recorded.productionSchemaIds[i], recorded.greenSchemaIds[i])),
        ...recorded.clusters.map((c, i) => side('cluster', now.clusters, c, recorded.productionClusterIds[i], recorded.greenClusterIds[i]))
    ];
}
/**
 * Committed once every production name carries green's former id; not committed while every
 * one still carries its own. Anything else (someone else's DDL) is unclear, and treated as
 * committed: green's names may hold production's objects.
 */
function decideSwap(recorded, now) {
    const all = sides(recorded, now);
    if (all.every((s) => s.productionNow === s.greenId))
        return 'committed';
    if (all.every((s) => s.productionNow === s.productionId))
        return 'not-committed';
    return 'unclear';
}
/** Whether any green name holds a former production schema or cluster. */
function holdsPrevious(recorded, now) {
    return sides(recorded, now).some((s) => s.greenNow === s.productionId);
}
/** What does not match a verified cutover, one line each; empty when it is verified. */
function cutoverMismatches(recorded, now) {
    return sides(recorded, now).flatMap((s) => [
        ...(s.productionNow === s.greenId
            ? []
            : [`${s.what} "${s.name}" is ${s.productionNow ?? 'missing'}, not green's ${s.greenId}`]),
        ...(s.greenNow === s.productionId
            ? []
            : [
                `${s.what} "${green(s.name)}" is ${s.greenNow ?? 'missing'}, not the previous production's ${s.productionId}`
            ])
    ]);
}
/** The previous production's names, as they are after a committed swap. */
function previousNames(recorded) {
    return [...recorded.schemas, ...recorded.clusters].map(green).join(', ');
}
/** What to run next while green's names hold the previous production after a failed run. */
function nextSteps(recorded) {
    const drops = [
        ...recorded.schemas.map((s) => `DROP SCHEMA ${quoteIdent(green(s))} CASCADE`),
        ...recorded.clusters.map((c) => `DROP CLUSTER ${quoteIdent(green(c))} CASCADE`)
    ];
    return ('To go back, run "phase: rollback" (it swaps the previous production back in). ' +
        'To keep the new production, check what still reads the previous one, drop it by hand ' +
        `(${drops.join('; ')}) and run "phase: cleanup".`);
}
/** The state after a committed (or unclear) swap, for errors and warnings. */
function describeSwapped(recorded, outcome) {
    const production = [...recorded.schemas, ...recorded.clusters].join(', ');
    const state = outcome === 'committed'
        ? `The swap committed: the new production is live under ${production}, and the previous production is intact under ${previousNames(recorded)}`
        : `Whether the swap committed is unclear (the catalog matches neither side): ${previousNames(recorded)} may hold the previous production`;
    return `${state}. It was not dropped.`;
}
const idsOf = (sides) => JSON.stringify([
    sides.productionSchemaIds,
    sides.greenSchemaIds,
    sides.productionClusterIds,
    sides.greenClusterIds
]);
/** Writes what became of the swap into its S3 record, if it is still this swap's. */
async function markSwap(store, key, sides, outcome) {
    const record = await readSwapRecord(store, key);
    if (!record || idsOf(record) !== idsOf(sides))
        return undefined;
    const decided = { ...record, outcome, decidedAt: new Date().toISOString() };
    await writeRecord(store, key, decided);
    return decided;
}
/**
 * After a failure: decides from the catalog whether the swap committed and records it. Once it
 * has, the previous production is recorded as kept, where "phase: rollback" finds it.
 */
async function settleSwap(store, sql, keys, recorded) {
    const outcome = decideSwap(recorded, await catalogIds(sql, recorded));
    const record = await markSwap(store, keys.swap, recorded, outcome);
    if (outcome !== 'not-committed' && record) {
        const previous = {
            sha: record.previousSha,
            replacedBy: record.sha,
            keptAt: record.decidedAt
        };
        await writeRecord(store, keys.previous, previous);
    }
    return outcome;
}
/** `"db"."schema"."name"` (as quoteIdent writes each part) → its parts. */
function nameParts(quoted) {
    return [...quoted.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'));
}
/** The user object `"db"."schema"."name"` denotes now, if any. */
async function resolveObject(sql, quoted) {
    const [database, schema, name] = nameParts(quoted);
    const [row] = await sql.query(`select o.id, d.name || '.' || s.name || '.' || o.name as name
  from mz_catalog.mz_objects o
  join mz_catalog.mz_schemas s on s.id = o.schema_id
  join mz_catalog.mz_databases d on d.id = s.database_id
  where d.name = ${quoteLiteral(database ?? '')} and s.name = ${quoteLiteral(schema ?? '')}
    and o.name = ${quoteLiteral(name ?? '')}`);
    return row;
}
/** What a sink reads now (its connections aside), from mz_object_dependencies. */
async function sinkInputs(sql, sinkId) {
    return sql.query(`select r.id, d.name || '.' || s.name || '.' || r.name as name
  from mz_internal.mz_object_dependencies dep
  join mz_catalog.mz_objects r on r.id = dep.referenced_object_id
  join mz_catalog.mz_schemas s on s.id = r.schema_id
  left join mz_catalog.mz_databases d on d.id = s.database_id
  where dep.object_id = ${quoteLiteral(sinkId)} and r.type <> 'connection'`);
}
/** Why a planned sink does not read its planned `from` object now; undefined when it does. */
async function sinkProblem(sql, { sink, from }) {
    const [target, input] = [await resolveObject(sql, sink), await resolveObject(sql, from)];
    if (!target)
        return `sink ${sink} does not exist`;
    if (!input)
        return `${from}, which sink ${sink} should read, does not exist`;
    const reads = await sinkInputs(sql, target.id);
    if (reads.some((r) => r.id === input.id))
        return undefined;
    const now = reads.map((r) => `${r.name ?? '?'} (${r.id})`).join(', ') || 'nothing';
    return `sink ${target.name} reads ${now}, not ${input.name} (${input.id})`;
}
/**
 * After the swap and deploy_promote's `ALTER SINK … SET FROM`: each planned sink must read the
 * object its `from` names now (the new production, by id). One entry per sink that does not.
 */
async function sinkMismatches(sql, sinks) {
    const mismatches = [];
    for (const repoint of sinks) {
        const problem = await sinkProblem(sql, repoint);
        if (problem)
            mismatches.push({ repoint, problem });
    }
    return mismatches;
}

;// CONCATENATED MODULE: ./src/undo.ts
// Undoing what a run created, newest first: used by the main step on failure and
// cancellation, and by the post step for whatever main could not finish. A failing removal
// warns and is handed back, so that main leaves it for the post step to retry and the post
// step reports it. Green is never dropped once a swap committed (its names then hold the
// previous production), nor once another run holds the deploy lock (green is then that run's).






const removers = {
    directory: ({ path }) => {
        (0,external_node_fs_.rmSync)(path, { recursive: true, force: true });
        return Promise.resolve(`Removed ${path}.`);
    },
    lock: async ({ key, nonce }, clients) => {
        const released = await S3Lease.releaseRecorded(await clients.store(), key, nonce);
        return released
            ? `Released the deploy lock ${key}.`
            : `The deploy lock ${key} was no longer ours.`;
    },
    green: async ({ schemas, clusters }, clients) => {
        const dropped = await dropEnvironment(await clients.warehouse(), { schemas, clusters }, 'exact');
        return dropped.length > 0
            ? `Dropped green ${dropped.join(', ')}.`
            : 'No green environment was left.';
    }
};
function remove(resource, clients) {
    const removeThis = removers[resource.kind];
    return removeThis(resource, clients);
}
/** Why green must stay, or undefined when this run may drop it. */
async function keepGreenBecause(resources, clients) {
    const lock = resources.find((r) => r.kind === 'lock');
    if (lock) {
        try {
            // A lease that is gone (released by an earlier post step, say) leaves green to us.
            if (await S3Lease.heldByAnother(await clients.store(), lock.key, lock.nonce))
                return `Another run holds the deploy lock ${lock.key} now, so green belongs to it: it was left as it is.`;
        }
        catch (error) {
            return `Could not check the deploy lock ${lock.key} (${(0,errors/* errorMessage */.gJ)(error)}), so green was left as it is.`;
        }
    }
    const swap = resources.find((r) => r.kind === 'swap');
    if (!swap)
        return undefined;
    try {
        const keys = { swap: swap.key, previous: swap.previousKey };
        const outcome = await settleSwap(await clients.store(), await clients.warehouse(), keys, swap);
        if (outcome === 'not-committed')
            return undefined;
        return `${describeSwapped(swap, outcome)} ${nextSteps(swap)}`;
    }
    catch (error) {
        return `Could not settle the swap (${(0,errors/* errorMessage */.gJ)(error)}), so green was left as it is: it may hold the previous production.`;
    }
}
/**
 * Undoes resources newest first (green before the lock that protects it). Returns what could
 * not be removed, with the swap record when green is among them (it decides green's fate).
 */
async function undoResources(resources, clients) {
    const keepGreen = resources.some((r) => r.kind === 'green')
        ? await keepGreenBecause(resources, clients)
        : undefined;
    const left = [];
    for (const resource of [...resources].reverse()) {
        if (resource.kind === 'swap')
            continue;
        if (resource.kind === 'green' && keepGreen) {
            lib_core/* warning */.$e(keepGreen);
            continue;
        }
        try {
            lib_core/* info */.pq(await remove(resource, clients));
        }
        catch (error) {
            lib_core/* warning */.$e(`Could not undo ${describeResource(resource)}: ${(0,errors/* errorMessage */.gJ)(error)}`);
            left.unshift(resource);
        }
    }
    const swap = resources.filter((r) => r.kind === 'swap');
    return left.some((r) => r.kind === 'green') ? [...swap, ...left] : left;
}
/** A resource as the summary names it, with what to do about it by hand. */
function describeResource(resource) {
    switch (resource.kind) {
        case 'directory':
            return `the directory ${resource.path}`;
        case 'lock':
            return `the deploy lock ${resource.key} (it expires after "lock-ttl")`;
        case 'green':
            return `green ${[...resource.schemas, ...resource.clusters].join(', ')} (drop them by hand, or run "phase: cleanup")`;
        case 'swap':
            return `the swap record ${resource.key}`;
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/connection.ts




function fromUrl(url, target) {
    const parsed = new URL(url);
    const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    registerSecret(password);
    return {
        profile: 'materialize-url',
        target,
        type: 'materialize',
        host: parsed.hostname,
        port: parsed.port ? Number(parsed.port) : 6875,
        user: decodeURIComponent(parsed.username),
        password,
        database: parsed.pathname.replace(/^\//, '') || 'materialize',
        sslmode: parsed.searchParams.get('sslmode') ?? undefined,
        sslrootcert: parsed.searchParams.get('sslrootcert') ?? undefined,
        sslcert: parsed.searchParams.get('sslcert') ?? undefined,
        sslkey: parsed.searchParams.get('sslkey') ?? undefined
    };
}
/**
 * The profile target (its name is the deployment config key) and how to connect. The profile
 * is read with dbt's environment, so it resolves to what dbt connects to.
 */
function materializeTarget(location, materializeUrl, project) {
    const env = dbtEnvironment(undefined);
    if (materializeUrl)
        return fromUrl(materializeUrl, maskedProfile(location, project, env, 'Blue/green').target);
    const profile = maskedProfileTarget(location, project, env, 'Blue/green');
    if (profile.type !== 'materialize') {
        throw new errors/* ActionError */.lZ(`Blue/green deploys need a Materialize target, but profile target "${profile.target}" has type "${profile.type}".`);
    }
    return profile;
}

;// CONCATENATED MODULE: ./src/bluegreen/catalog.ts
// What the action asks Materialize's catalog: existence of production and green objects, and
// a fingerprint of production to detect drift between a staged deploy and its promotion.



async function existingNames(sql, names) {
    const schemas = await sql.query(`select s.name from mz_catalog.mz_schemas s join mz_catalog.mz_databases d on d.id = s.database_id
     where d.name = current_database() and s.name in (${literalList(names.schemas)})`);
    const clusters = await sql.query(`select name from mz_catalog.mz_clusters where name in (${literalList(names.clusters)})`);
    return {
        schemas: schemas.map((r) => r.name).sort(),
        clusters: clusters.map((r) => r.name).sort()
    };
}
const productionNames = (config) => ({
    schemas: config.schemas,
    clusters: config.clusters
});
const greenNames = (config) => ({
    schemas: config.schemas.map(green),
    clusters: config.clusters.map(green)
});
/** A hash of production's schemas, clusters and objects, by id; it changes when anything is replaced. */
async function productionFingerprint(sql, config) {
    const rows = await sql.query(`select 'schema' as kind, s.id, s.name from mz_catalog.mz_schemas s
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(config.schemas)})
     union all
     select 'object' as kind, o.id, s.name || '.' || o.name as name from mz_catalog.mz_objects o
       join mz_catalog.mz_schemas s on s.id = o.schema_id
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(config.schemas)})
     union all
     select 'cluster' as kind, c.id, c.name from mz_catalog.mz_clusters c where c.name in (${literalList(config.clusters)})`);
    const lines = rows.map((r) => `${r.kind} ${r.id} ${r.name}`).sort();
    return (0,external_node_crypto_.createHash)('sha256').update(lines.join('\n')).digest('hex');
}

;// CONCATENATED MODULE: ./src/github/checks.ts
// The live hydration check on the deployed commit: a check run named HYDRATION_CHECK whose text
// follows green's hydration (at most every 10 s) and which concludes with the wait. Without
// `checks: write` it is a commit status of the same name; without either, one notice.



const HYDRATION_CHECK = 'dbt-materialize / hydration';
const UPDATE_EVERY_MS = 10_000;
function gitHubChecksApi(token, context) {
    const octokit = octokitFor(token);
    const repo = { owner: context.owner, repo: context.repo };
    const output = (summary) => ({ title: 'Green hydration', summary });
    return {
        async createCheck(sha, summary) {
            const { data } = await octokit.rest.checks.create({
                ...repo,
                name: HYDRATION_CHECK,
                head_sha: sha,
                status: 'in_progress',
                details_url: context.runUrl,
                output: output(summary)
            });
            return data.id;
        },
        async updateCheck(id, summary, conclusion) {
            await octokit.rest.checks.update({
                ...repo,
                check_run_id: id,
                output: output(summary),
                ...(conclusion && { status: 'completed', conclusion })
            });
        },
        async setStatus(sha, state, description) {
            await octokit.rest.repos.createCommitStatus({
                ...repo,
                sha,
                state,
                context: HYDRATION_CHECK,
                description: description.slice(0, 140),
                target_url: context.runUrl
            });
        },
        async conclusionOf(sha) {
            const runs = await octokit.rest.checks.listForRef({
                ...repo,
                ref: sha,
                check_name: HYDRATION_CHECK
            });
            const run = runs.data.check_runs[0];
            if (run)
                return run.conclusion ?? run.status;
            const statuses = await octokit.rest.repos.listCommitStatusesForRef({ ...repo, ref: sha });
            return statuses.data.find((s) => s.context === HYDRATION_CHECK)?.state;
        }
    };
}
/** The hydration check of one run; best effort, like the deployment records. */
class HydrationCheck {
    api;
    sha;
    now;
    id;
    viaStatus = false;
    off = false;
    lastUpdate = -Infinity;
    constructor(api, sha, now = Date.now) {
        this.api = api;
        this.sha = sha;
        this.now = now;
    }
    async start() {
        const summary = 'Waiting for green to hydrate.';
        await this.attempt(async (api) => {
            try {
                this.id = await api.createCheck(this.sha, summary);
                lib_core/* setOutput */.uH('check-run-id', String(this.id));
            }
            catch (error) {
                if (!isPermissionDenied(error))
                    throw error;
                this.viaStatus = true; // no checks: write; a commit status needs only statuses: write
                await api.setStatus(this.sha, 'pending', summary);
            }
        });
        this.lastUpdate = this.now();
    }
    /** The progress text, sent at most every 10 s. */
    async progress(summary) {
        if (this.now() - this.lastUpdate < UPDATE_EVERY_MS)
            return;
        this.lastUpdate = this.now();
        await this.attempt((api) => this.viaStatus ? api.setStatus(this.sha, 'pending', summary) : this.update(api, summary));
    }
    async conclude(conclusion, summary) {
        const state = conclusion === 'success' ? 'success' : conclusion === 'failure' ? 'failure' : 'error';
        await this.attempt((api) => this.viaStatus
            ? api.setStatus(this.sha, state, summary)
            : this.update(api, summary, conclusion));
    }
    async update(api, summary, conclusion) {
        if (this.id !== undefined)
            await api.updateCheck(this.id, summary, conclusion);
    }
    async attempt(call) {
        if (!this.api || this.off)
            return;
        try {
            await call(this.api);
        }
        catch (error) {
            this.off = true;
            if (isPermissionDenied(error))
                lib_core/* notice */.lm(`The token may not write checks or commit statuses (give the job "checks: write" or "statuses: write"), so the "${HYDRATION_CHECK}" check is not shown; the deploy itself is not affected.`);
            else
                lib_core/* warning */.$e(`Could not update the "${HYDRATION_CHECK}" check: ${(0,errors/* errorMessage */.gJ)(error)}`);
        }
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/diff.ts
// Green against production, before the promote: the models this deploy changes, each read in
// the green schemas and in production's, on a green cluster (never production's).









/** The diff reads on a green cluster or one the user names, never on production's. */
function checkDiffCluster(settings, config) {
    if (settings.mode === 'off' || !settings.cluster || !config.clusters.includes(settings.cluster))
        return;
    throw new errors/* InputError */.dz('diff-cluster', `is "${settings.cluster}", a production cluster of vars.deployment.${config.target}; accepted: another cluster, such as the default, green's "${greenNames(config).clusters[0]}".`);
}
function greenPairs(run, productionManifest, published) {
    const settings = run.inputs.diff;
    const current = readDiffManifest(productionManifest, "production's manifest");
    const previous = published ? readDiffManifest(published, 'the published manifest') : undefined;
    const changed = changedModels(current, previous);
    const ids = settings.downstream ? withDownstream(current, changed) : changed;
    return ids
        .map((id) => current.models.get(id))
        .filter((model) => run.config.schemas.includes(model.relation.schema))
        .map((model) => ({
        model: model.name,
        blue: model.relation,
        green: { ...model.relation, schema: green(model.relation.schema) },
        key: inferKey(current, model, settings.keys)
    }));
}
/**
 * Diffs green against production and records the report on the run; in gate mode a breach
 * then fails the run before the promote, as a failed test does.
 */
async function diffGreen(run, productionManifest, published) {
    const settings = run.inputs.diff;
    const pairs = greenPairs(run, productionManifest, published);
    const cluster = settings.cluster ?? greenNames(run.config).clusters[0];
    run.diff = await runDiff(settings, pairs, run.clients.connect, { blue: 'production', green: 'green' }, cluster);
    lib_core/* setOutput */.uH('diff-result', diffResult(run.diff));
    const blocked = gateError(run.diff, settings);
    if (blocked)
        throw blocked;
}
/** Row counts by model from the deploy phase's `diff-result`; what is not such a count is left out. */
function stagedRows(text, where) {
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch {
        lib_core/* warning */.$e(`The staged data diff at ${where} is not valid JSON; the changes since "phase: deploy" are not shown.`);
        return new Map();
    }
    const objects = parsed?.objects;
    const rows = new Map();
    for (const o of Array.isArray(objects) ? objects : []) {
        const r = o?.rows;
        if (typeof o?.model === 'string' && typeof r?.blue === 'number' && typeof r.green === 'number')
            rows.set(o.model, { blue: r.blue, green: r.green });
    }
    return rows;
}
/**
 * `phase: promote`: diffs the staged green again, as production is now, and notes the row
 * counts that moved since `phase: deploy` diffed it.
 */
async function diffStagedGreen(run, stagedManifest) {
    const { store } = run.clients;
    const published = await store.get(manifestKey(run.inputs.state));
    const staged = await store.get(run.keys.stagedDiff);
    try {
        await diffGreen(run, stagedManifest, published?.body);
    }
    finally {
        const before = staged ? stagedRows(staged.body, run.keys.stagedDiff) : new Map();
        for (const o of run.diff?.objects ?? []) {
            const then = before.get(o.model);
            if (then && o.rows && (then.blue !== o.rows.blue || then.green !== o.rows.green))
                run.notes.push(`Data diff of ${o.model} since "phase: deploy": production ${then.blue} → ${o.rows.blue} rows, green ${then.green} → ${o.rows.green}.`);
        }
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/run.ts
// One blue/green run: its inputs, clients, lock and timeline, shared by the phase files.






















const run_realDependencies = {
    async open(inputs, target, context) {
        const store = S3ObjectStore.create(inputs.s3, inputs.state.bucket);
        const dbt = await DbtCli.create(inputs.dbt, blueGreenDbtEnvironment(), { persistent: true });
        const { statementTimeoutMs } = inputs.blueGreen;
        const token = inputs.report.githubToken;
        return {
            store,
            connect: () => PgWarehouse.connect(target, { statementTimeoutMs }),
            dbt,
            deployments: token ? gitHubDeploymentsApi(token, context) : undefined,
            checks: token ? gitHubChecksApi(token, context) : undefined
        };
    }
};
class BlueGreenRun {
    inputs;
    context;
    project;
    config;
    clients;
    timeline = [];
    notes = [];
    hydration;
    plan = [];
    cutover;
    /** Green against production, when "diff" is on. */
    diff;
    /** A drop the impact guard refused, or one that failed: the phase finishes its bookkeeping, then the run fails with it. */
    blockedDrop;
    /** Markdown sections a phase adds to the summary, e.g. the state `phase: status` reports. */
    sections = [];
    /** The GitHub deployment this run records its progress on. */
    deployment;
    /** The hydration check of the wait in progress, concluded when the run is cancelled. */
    hydrationCheck;
    lease;
    stopRenewing;
    connection;
    green;
    constructor(inputs, context, project, config, clients) {
        this.inputs = inputs;
        this.context = context;
        this.project = project;
        this.config = config;
        this.clients = clients;
        this.deployment = new DeploymentRecord(clients.deployments, context);
    }
    static async open(inputs, context, deps) {
        const project = readProject(inputs.dbt.projectDir);
        checkTarget(inputs.dbt, project);
        const target = materializeTarget(inputs.dbt, inputs.blueGreen.materializeUrl, project);
        tlsAttempts(target); // a bad sslmode or an unreadable certificate fails here, touching nothing
        // Validated before any client opens: nothing is touched on a bad configuration.
        const config = readDeploymentConfig(project.vars, target.target);
        checkDiffCluster(inputs.diff, config);
        saveCleanupContext({
            bucket: inputs.state.bucket,
            ...inputs.s3,
            projectDir: inputs.dbt.projectDir,
            profilesDir: inputs.dbt.profilesDir,
            target: inputs.dbt.target,
            materializeUrl: inputs.blueGreen.materializeUrl !== undefined
        });
        const clients = await deps.open(inputs, target, context);
        const run = new BlueGreenRun(inputs, context, project, config, clients);
        lib_core/* setOutput */.uH('green-schemas', JSON.stringify(greenNames(config).schemas));
        lib_core/* setOutput */.uH('green-clusters', JSON.stringify(greenNames(config).clusters));
        undoOnCancel(() => run.undoCancelled());
        return run;
    }
    /** The run's connection, opened on first use and opened again when it was lost. */
    async warehouse() {
        const current = await this.connection?.catch(() => undefined);
        if (current?.lost) {
            lib_core/* info */.pq('Reconnecting to Materialize.');
            await current.close().catch(() => undefined);
            this.connection = undefined;
        }
        this.connection ??= this.clients.connect();
        return this.connection;
    }
    /** Queries through `warehouse()`, so a long wait survives a reconnect between polls. */
    sql = { query: async (text) => (await this.warehouse()).query(text) };
    /** The GitHub environment of the deployment records. */
    get environment() {
        return this.inputs.blueGreen.environment ?? this.config.target;
    }
    get keys() {
        return blueGreenKeys(this.inputs.state);
    }
    /**
     * dbt with `deploy: true`, so models build into the green schemas and clusters. The macro
     * operations (deploy_init, deploy_promote) keep production's vars: under `deploy: true`,
     * dbt-materialize resolves the production cluster to the green one.
     */
    get greenDbt() {
        const vars = { ...this.inputs.dbt.vars, deploy: true };
        this.green ??= this.clients.dbt.withVars?.(vars, this.greenTargetPath) ?? this.clients.dbt;
        return this.green;
    }
    /** Where green's invocations keep their artifacts and partial parse state, inside the project's target path. */
    get greenTargetPath() {
        return external_node_path_default().join(this.project.targetPath, 'dbt_deploy');
    }
    async step(name, action) {
        const started = Date.now();
        try {
            const result = await lib_core/* group */.Os(name, action);
            this.timeline.push({ step: name, seconds: (Date.now() - started) / 1000, outcome: 'ok' });
            return result;
        }
        catch (error) {
            this.timeline.push({ step: name, seconds: (Date.now() - started) / 1000, outcome: 'failed' });
            throw error;
        }
    }
    async dbtOk(dbt, command, args, what, options = {}) {
        const { timeoutMs } = options;
        const result = await dbt.run(command, args, options);
        if (result.timedOut)
            throw new errors/* ActionError */.lZ(`${what} did not finish within ${(timeoutMs ?? 0) / 1000} s.`);
        if (result.exitCode !== 0)
            throw new errors/* ActionError */.lZ(`${what} failed (dbt exit ${result.exitCode}). dbt said:\n${result.tail}`);
    }
    /** Success on this run's deployment; the ones it supersedes go inactive. */
    async recordPromoted(what = 'Promoted.') {
        const environmentUrl = this.inputs.report.environmentUrl;
        const hydrated = this.hydration
            ? ` Green hydrated in ${this.hydration.seconds.toFixed(0)} s.`
            : '';
        await this.deployment.succeed(this.environment, {
            description: `${what}${hydrated}`,
            environmentUrl
        });
        if (environmentUrl)
            lib_core/* setOutput */.uH('environment-url', environmentUrl);
    }
    async lock() {
        const { blueGreen } = this.inputs;
        this.lease = await S3Lease.acquire(this.clients.store, this.keys.lock, {
            owner: `${this.context.owner}/${this.context.repo} run ${process.env.GITHUB_RUN_ID ?? 'local'} (${this.inputs.phase})`,
            runUrl: this.context.runUrl,
            ttlMs: blueGreen.lockTtlMs,
            timeoutMs: blueGreen.lockTimeoutMs,
            pollMs: Math.min(5000, Math.max(500, blueGreen.lockTimeoutMs / 10)),
            sleep: (ms) => sleep(ms, cancelled)
        });
        recordCreated({ kind: 'lock', key: this.lease.key, nonce: this.lease.holder.nonce });
        // Another run owns what it locks once it took the lease over: stop at once, as a cancel does.
        this.stopRenewing = this.lease.keepAlive((lost) => void abortRun(lost, 'Lost the deploy lock'));
    }
    /** Renews the lease now: a run that lost it fails here, before it touches anything more. */
    async verifyLease() {
        if (!this.lease)
            throw new Error('the deploy lock is not held');
        await this.lease.renew();
    }
    async unlock() {
        this.stopRenewing?.();
        const lease = this.lease;
        if (lease && !(await lease.release())) {
            lib_core/* warning */.$e(`The deploy lock ${lease.key} was no longer ours when this run released it: it expired, and another run may have taken it over. Check that run before deploying again.`);
        }
        this.lease = undefined;
        forgetCreated('lock');
    }
    /** Fails unless every production schema and cluster exists. */
    async requireProduction() {
        const wanted = productionNames(this.config);
        const found = await existingNames(await this.warehouse(), wanted);
        const missing = [
            ...wanted.schemas.filter((s) => !found.schemas.includes(s)).map((s) => `schema "${s}"`),
            ...wanted.clusters.filter((c) => !found.clusters.includes(c)).map((c) => `cluster "${c}"`)
        ];
        if (missing.length > 0) {
            throw new errors/* ActionError */.lZ(`Production ${missing.join(', ')} from vars.deployment.${this.config.target} does not exist. Create production first (a normal dbt run), then deploy blue/green.`);
        }
    }
    /** Green names that exist right now. */
    async existingGreen() {
        return existingNames(await this.warehouse(), greenNames(this.config));
    }
    async dropGreen() {
        await dropEnvironment(await this.warehouse(), greenNames(this.config), 'exact');
    }
    /** A cancelled run exits after its undo: the check and the deployment say so first. */
    async undoCancelled() {
        await this.undo();
        await this.hydrationCheck?.conclude('cancelled', 'The run was cancelled.');
        await this.deployment.status('failure', { description: 'The run was cancelled.' });
    }
    undoing;
    /** Undo what this run created (failure or cancellation, possibly both at once), then forget it. */
    undo() {
        this.undoing ??= this.undoOnce();
        return this.undoing;
    }
    async undoOnce() {
        this.stopRenewing?.();
        const resources = recordedHere().filter((r) => r.kind !== 'green' || this.inputs.blueGreen.cleanupOnFailure);
        const left = await undoResources(resources, {
            store: () => Promise.resolve(this.clients.store),
            warehouse: () => this.warehouse()
        });
        forgetCreated('green');
        forgetCreated('swap');
        forgetCreated('lock');
        // What could not be undone stays recorded: the post step retries it.
        const retried = left.filter((r) => r.kind !== 'directory');
        retried.forEach(recordCreated);
        if (retried.some((r) => r.kind !== 'swap'))
            this.notes.push(`Could not undo ${retried
                .filter((r) => r.kind !== 'swap')
                .map(describeResource)
                .join('; ')}: the post step retries.`);
    }
    async close() {
        this.stopRenewing?.();
        this.clients.store.close();
        await Promise.all([this.green?.close?.(), this.clients.dbt.close?.()]);
        // A connection that failed to open has nothing to close.
        const warehouse = await this.connection?.catch(() => undefined);
        await warehouse?.close();
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/readiness.ts
// Waiting for green to hydrate. The rule counts what must hydrate, not the hydration rows that
// happen to exist: Materialize's introspection rows arrive late (an object may have no row yet,
// or one whose replica_id is NULL), so a cluster is hydrated only when one healthy replica
// reports every materialized view, index, source and sink on it as hydrated. Lag is judged
// against production's own lag for the same objects, since wallclock lag is minute-binned. A
// REFRESH materialized view is as fresh as its schedule makes it, so it is judged by its first
// completed refresh, never by lag: before that refresh it is empty. Unlike deploy_await the
// wait is bounded, reports which objects are pending, and stops at once on a failing cluster.




/** Replicas with this many OOM kills in 24 hours count as failing (deploy_await's rule). */
const OOM_KILLS = 3;
const MAX_BACKOFF_MS = 30_000;
const NAMED_PENDING = 5;
const HYDRATING_TYPES = ['materialized-view', 'index', 'source', 'sink'];
/** Sources that never report hydration: webhooks, and subsources that their source hydrates. */
const NON_HYDRATING_SOURCES = ['webhook', 'subsource', 'progress'];
const none = (ids) => ids.length === 0;
async function clusterRows(sql, names) {
    return sql.query(`select c.id, c.name, s.type as schedule from mz_catalog.mz_clusters c
     left join mz_internal.mz_cluster_schedules s on s.cluster_id = c.id
     where c.name in (${literalList(names)})`);
}
async function replicaRows(sql, clusterIds) {
    if (none(clusterIds))
        return [];
    return sql.query(`select r.id, r.name, r.cluster_id, coalesce(o.ooms, 0) as ooms
     from mz_catalog.mz_cluster_replicas r
     left join (select replica_id, count(*) as ooms from mz_internal.mz_cluster_replica_status_history
                where reason = 'oom-killed' and occurred_at > now() - interval '24 hours'
                  and replica_id in (select id from mz_catalog.mz_cluster_replicas
                                     where cluster_id in (${literalList(clusterIds)}))
                group by replica_id) o on o.replica_id = r.id
     where r.cluster_id in (${literalList(clusterIds)})`);
}
/** User objects on the clusters that hydrate, and every object in the given schemas. */
async function objectRows(sql, clusterIds, schemas) {
    const onClusters = none(clusterIds) ? 'false' : `o.cluster_id in (${literalList(clusterIds)})`;
    const inSchemas = none(schemas) ? 'false' : `s.name in (${literalList(schemas)})`;
    return sql.query(`select o.id, s.name as schema, o.name, o.type, o.cluster_id
     from mz_catalog.mz_objects o
     join mz_catalog.mz_schemas s on s.id = o.schema_id
     where o.id like 'u%' and o.type in (${literalList(HYDRATING_TYPES)})
       and (o.type <> 'source' or not exists (
         select 1 from mz_catalog.mz_sources src
         where src.id = o.id and src.type in (${literalList(NON_HYDRATING_SOURCES)})))
       and (${onClusters} or ${inSchemas})`);
}
async function hydrationRows(sql, ids) {
    if (none(ids))
        return [];
    return sql.query(`select object_id, replica_id, hydrated from mz_internal.mz_hydration_statuses
     where object_id in (${literalList(ids)})`);
}
async function lagRows(sql, ids) {
    if (none(ids))
        return new Map();
    const rows = await sql.query(`select object_id, extract(epoch from lag) as lag from mz_internal.mz_wallclock_global_lag
     where object_id in (${literalList(ids)})`);
    return new Map(rows.filter((r) => r.lag !== null).map((r) => [r.object_id, Number(r.lag)]));
}
/** Materialized views with REFRESH options, and whether each has completed a refresh. */
async function refreshStates(sql, ids) {
    if (none(ids))
        return new Map();
    const rows = await sql.query(`select s.materialized_view_id as id, bool_or(r.last_completed_refresh is not null) as completed
     from mz_internal.mz_materialized_view_refresh_strategies s
     left join mz_internal.mz_materialized_view_refreshes r
       on r.materialized_view_id = s.materialized_view_id
     where s.type <> 'on-commit' and s.materialized_view_id in (${literalList(ids)})
     group by s.materialized_view_id`);
    return new Map(rows.map((r) => [r.id, r.completed]));
}
const productionSchema = (schema) => schema.endsWith(GREEN_SUFFIX) ? schema.slice(0, -GREEN_SUFFIX.length) : schema;
/**
 * Reads each green cluster's replicas, the objects on it and their hydration and lag, scoped to
 * those clusters' objects and their production counterparts: never the whole region.
 */
async function readClusters(sql, clusters, productionSchemas) {
    const found = await clusterRows(sql, clusters);
    const clusterIds = found.map((c) => c.id);
    const replicas = await replicaRows(sql, clusterIds);
    const objects = await objectRows(sql, clusterIds, productionSchemas);
    const onGreen = objects.filter((o) => o.cluster_id !== null && clusterIds.includes(o.cluster_id));
    const counterpart = new Map(objects
        .filter((o) => productionSchemas.includes(o.schema))
        .map((o) => [`${o.schema}.${o.name}.${o.type}`, o.id]));
    const productionOf = (o) => counterpart.get(`${productionSchema(o.schema)}.${o.name}.${o.type}`);
    const greenIds = onGreen.map((o) => o.id);
    const hydration = await hydrationRows(sql, greenIds);
    const lags = await lagRows(sql, [...greenIds, ...onGreen.flatMap((o) => productionOf(o) ?? [])]);
    const refreshes = await refreshStates(sql, onGreen.filter((o) => o.type === 'materialized-view').map((o) => o.id));
    return clusters.map((name) => {
        const cluster = found.find((c) => c.name === name);
        const mine = (id) => cluster !== undefined && id === cluster.id;
        return {
            cluster: name,
            exists: cluster !== undefined,
            schedule: cluster?.schedule ?? 'manual',
            replicas: replicas
                .filter((r) => mine(r.cluster_id))
                .map((r) => ({
                id: r.id,
                name: r.name,
                ooms: Number(r.ooms),
                hydrated: new Set(hydration.filter((h) => h.replica_id === r.id && h.hydrated).map((h) => h.object_id))
            })),
            objects: onGreen
                .filter((o) => mine(o.cluster_id))
                .map((o) => {
                const production = productionOf(o);
                const refreshed = refreshes.get(o.id);
                return {
                    id: o.id,
                    name: `${o.schema}.${o.name}`,
                    type: o.type,
                    lagSeconds: lags.get(o.id),
                    productionLagSeconds: production === undefined ? undefined : lags.get(production),
                    ...(refreshed !== undefined && { refresh: refreshed ? 'completed' : 'pending' })
                };
            })
        };
    });
}
const named = (objects) => objects.map((o) => o.name);
/** The lag bound of an object: the threshold, over production's own lag when it has one. */
const lagBound = (o, threshold) => threshold + (o.productionLagSeconds ?? 0);
function judgeLag(base, objects, threshold) {
    const onCommit = objects.filter((o) => o.refresh === undefined);
    const sampled = onCommit.filter((o) => o.lagSeconds !== undefined);
    const lagging = sampled.filter((o) => o.lagSeconds > lagBound(o, threshold));
    const unsampled = onCommit.length - sampled.length;
    const scheduled = objects.length - onCommit.length;
    const lagNote = `wallclock lag within ${threshold} s of production's` +
        (unsampled > 0 ? `; ${unsampled} object(s) not sampled yet` : '') +
        (scheduled > 0 ? `; ${scheduled} REFRESH view(s) judged by their first refresh` : '');
    const maxLagSeconds = sampled.length > 0 ? Math.max(...sampled.map((o) => o.lagSeconds)) : undefined;
    const judged = { ...base, maxLagSeconds, lagNote };
    return lagging.length > 0
        ? { ...judged, status: 'lagging', pending: named(lagging) }
        : { ...judged, status: 'ready' };
}
/**
 * A scheduled cluster is ready once each REFRESH materialized view on it has completed a
 * refresh. Its replicas run only during refreshes, so nothing else on it can be seen hydrating
 * (production's cluster, with the same schedule, is no different).
 */
function judgeScheduled(snapshot, base) {
    const waiting = snapshot.objects.filter((o) => o.refresh === 'pending');
    if (waiting.length === 0)
        return {
            ...base,
            hydrated: base.total,
            status: 'ready',
            reason: 'ON REFRESH: every view refreshed'
        };
    return {
        ...base,
        hydrated: base.total - waiting.length,
        status: 'hydrating',
        reason: 'ON REFRESH: waiting for the first refresh',
        pending: named(waiting)
    };
}
/**
 * `withoutReplicaSeconds`: how long the waiter has seen the cluster without any replica (0 on
 * the first sight), measured from then so that a replica lost late still gets its grace.
 */
function evaluate(snapshot, rule, withoutReplicaSeconds = 0) {
    const { objects, replicas } = snapshot;
    const base = {
        cluster: snapshot.cluster,
        status: 'hydrating',
        hydrated: 0,
        total: objects.length,
        replicas: replicas.length
    };
    if (!snapshot.exists)
        return { ...base, status: 'failing', reason: 'cluster not found' };
    if (snapshot.schedule === 'on-refresh')
        return judgeScheduled(snapshot, base);
    if (replicas.length === 0) {
        const grace = rule.replicaGraceSeconds;
        return withoutReplicaSeconds < grace
            ? { ...base, reason: `no replica yet; fails after ${grace} s ("replica-grace")` }
            : { ...base, status: 'failing', reason: `no replica for ${grace} s ("replica-grace")` };
    }
    const healthy = replicas.filter((r) => r.ooms < OOM_KILLS);
    if (healthy.length === 0)
        return {
            ...base,
            status: 'failing',
            reason: `every replica was OOM-killed ${OOM_KILLS}+ times in 24 h`
        };
    // A REFRESH view that hydrated but has not refreshed yet holds no data: it is pending too.
    const done = (r, o) => r.hydrated.has(o.id) && o.refresh !== 'pending';
    const count = (r) => objects.filter((o) => done(r, o)).length;
    const best = healthy.reduce((a, b) => (count(b) > count(a) ? b : a));
    const pending = objects.filter((o) => !done(best, o));
    const progress = { ...base, hydrated: objects.length - pending.length, replica: best.name };
    if (pending.length > 0)
        return { ...progress, status: 'hydrating', pending: named(pending) };
    return judgeLag(progress, objects, rule.lagThresholdSeconds);
}
async function checkReadiness(sql, clusters, productionSchemas, rule, withoutReplicaSeconds = () => 0) {
    const snapshots = await readClusters(sql, clusters, productionSchemas);
    return snapshots.map((s) => evaluate(s, rule, withoutReplicaSeconds(s)));
}
function pendingList(names) {
    const shown = names.slice(0, NAMED_PENDING).join(', ');
    return names.length > NAMED_PENDING ? `${shown} and ${names.length - NAMED_PENDING} more` : shown;
}
function describeReadiness(r) {
    const lag = r.maxLagSeconds === undefined ? 'no lag sampled' : `max lag ${r.maxLagSeconds.toFixed(1)} s`;
    const parts = [
        `${r.cluster}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
        `hydrated ${r.hydrated}/${r.total}${r.replica ? ` on replica ${r.replica}` : ''}`,
        r.pending?.length
            ? `${r.status === 'lagging' ? 'lagging' : 'pending'}: ${pendingList(r.pending)}`
            : '',
        r.lagNote ? `${lag} (${r.lagNote})` : lag,
        `${r.replicas} replica(s)`
    ];
    return parts.filter((p) => p !== '').join(', ');
}
const PROGRESS_EVERY_S = 10;
/** One line for every green cluster: "37/50 objects hydrated, max lag 3 s, 2m10s". */
function progressSummary(clusters, elapsedSeconds) {
    const hydrated = clusters.reduce((sum, c) => sum + c.hydrated, 0);
    const total = clusters.reduce((sum, c) => sum + c.total, 0);
    const lags = clusters.flatMap((c) => (c.maxLagSeconds === undefined ? [] : [c.maxLagSeconds]));
    const lag = lags.length > 0 ? `, max lag ${Math.round(Math.max(...lags))} s` : '';
    const minutes = Math.floor(elapsedSeconds / 60);
    const seconds = Math.round(elapsedSeconds % 60);
    return `${hydrated}/${total} objects hydrated${lag}, ${minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}
/** Prints a line per cluster when progress changes, and at least every 10 s. */
function printProgress(clusters, elapsed, last) {
    const key = clusters.map((c) => `${c.cluster} ${c.status} ${c.hydrated}/${c.total}`).join(',');
    if (key === last.key && elapsed - last.at < PROGRESS_EVERY_S)
        return last;
    for (const cluster of clusters)
        lib_core/* info */.pq(`[${elapsed.toFixed(1)} s] ${describeReadiness(cluster)}`);
    return { key, at: elapsed };
}
async function waitForHydration(sql, clusters, options) {
    const now = options.now ?? Date.now;
    const started = now();
    const samples = [];
    let delay = options.pollIntervalMs;
    let last = [];
    let lastPrinted = { key: '', at: -Infinity };
    const noReplicaSince = new Map();
    const withoutReplica = (s, elapsed) => {
        if (s.replicas.length > 0)
            noReplicaSince.delete(s.cluster);
        else if (!noReplicaSince.has(s.cluster))
            noReplicaSince.set(s.cluster, elapsed);
        return elapsed - (noReplicaSince.get(s.cluster) ?? elapsed);
    };
    const rule = {
        lagThresholdSeconds: options.lagThreshold,
        replicaGraceSeconds: options.replicaGraceSeconds
    };
    for (;;) {
        const elapsed = (now() - started) / 1000;
        try {
            last = await checkReadiness(sql, clusters, options.productionSchemas, rule, (s) => withoutReplica(s, elapsed));
            delay = options.pollIntervalMs;
            samples.push({ at: elapsed, clusters: last });
            lastPrinted = printProgress(last, elapsed, lastPrinted);
            await options.onProgress?.(last, elapsed);
            const failing = last.filter((r) => r.status === 'failing');
            if (failing.length > 0) {
                throw new errors/* ActionError */.lZ(`Green cannot become ready: ${failing.map(describeReadiness).join('; ')}.`);
            }
            if (last.every((r) => r.status === 'ready'))
                return { seconds: elapsed, final: last, samples };
        }
        catch (error) {
            if (error instanceof errors/* ActionError */.lZ)
                throw error;
            delay = Math.min(delay * 2, MAX_BACKOFF_MS);
            lib_core/* warning */.$e(`Readiness check failed (retrying in ${delay / 1000} s): ${(0,errors/* errorMessage */.gJ)(error)}`);
        }
        const remaining = started + options.timeoutMs - now();
        if (remaining <= 0) {
            const unready = last.filter((r) => r.status !== 'ready');
            throw new errors/* ActionError */.lZ(`Hydration did not finish within ${options.timeoutMs / 1000} s ("await-timeout"): ${(unready.length > 0 ? unready : last).map(describeReadiness).join('; ') || 'no readiness data'}.`);
        }
        await options.sleep(Math.min(delay, remaining));
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/impact.ts
// What a cutover touches beyond the deployment. Materialize binds objects by id: after a swap,
// a view in another schema, an index on another cluster or a sink that read a production object
// still reads it under its `*_dbt_deploy` name, and `DROP … CASCADE` of that name takes them too.
// Catalog relations as upstream defines them (MaterializeInc/materialize
// src/catalog/src/builtin/{mz_catalog,mz_internal,mz_object_dependencies}.rs).



const qualifiedName = (o) => [o.database, o.schema, o.name].filter((part) => part !== null).join('.');
const sideNames = (config, side) => side === 'production' ? productionNames(config) : greenNames(config);
function deploymentNames(config) {
    return {
        schemas: [...config.schemas, ...greenNames(config).schemas],
        clusters: [...config.clusters, ...greenNames(config).clusters]
    };
}
const inSchemas = (o, names) => o.here && names.schemas.includes(o.schema);
const onClusters = (o, names) => o.cluster !== null && names.clusters.includes(o.cluster);
/** Outside: in a schema that is not a deployment schema, or on a cluster that is not one. */
function isOutside(config) {
    const names = deploymentNames(config);
    return (o) => !inSchemas(o, names) || (o.cluster !== null && !onClusters(o, names));
}
const OBJECT_COLUMNS = `o.id, d.name as database, s.name as schema, o.name, o.type, c.name as cluster,
       coalesce(d.name = current_database(), false) as here`;
const OBJECT_JOINS = `join mz_catalog.mz_schemas s on s.id = o.schema_id
  left join mz_catalog.mz_databases d on d.id = s.database_id
  left join mz_catalog.mz_clusters c on c.id = o.cluster_id`;
/** User objects in the deployment's schemas (current database) or on its clusters, both sides. */
async function deploymentObjects(sql, config) {
    const names = deploymentNames(config);
    return sql.query(`select ${OBJECT_COLUMNS}
  from mz_catalog.mz_objects o
  ${OBJECT_JOINS}
  where o.id like 'u%'
    and ((d.name = current_database() and s.name in (${literalList(names.schemas)}))
         or c.name in (${literalList(names.clusters)}))`);
}
/**
 * Every object that depends on `roots`, recursively, with the first object it was found to read.
 * mz_object_dependencies lists direct references only; one query per level of the graph.
 */
async function dependentsOf(sql, roots) {
    const known = new Map(roots.map((r) => [r.id, r]));
    const found = [];
    let frontier = roots.map((r) => r.id);
    while (frontier.length > 0) {
        const rows = await sql.query(`select dep.referenced_object_id as referenced_id, ${OBJECT_COLUMNS}
  from mz_internal.mz_object_dependencies dep
  join mz_catalog.mz_objects o on o.id = dep.object_id
  ${OBJECT_JOINS}
  where dep.referenced_object_id in (${literalList(frontier)})`);
        frontier = [];
        for (const { referenced_id: referencedId, ...object } of rows) {
            if (known.has(object.id))
                continue;
            known.set(object.id, object);
            found.push({ ...object, reads: known.get(referencedId) });
            frontier.push(object.id);
        }
    }
    return found;
}
async function activeSubscriptions(sql, config) {
    const [row] = await sql.query(`select count(*) as n from mz_internal.mz_subscriptions sub
  join mz_catalog.mz_clusters c on c.id = sub.cluster_id
  where c.name in (${literalList(deploymentNames(config).clusters)})`);
    return Number(row?.n ?? 0);
}
const placeOf = (o) => [`in schema ${o.schema}`, o.cluster === null ? '' : `on cluster ${o.cluster}`]
    .filter(Boolean)
    .join(', ');
/**
 * The impact of dropping one side's schemas and clusters (`DROP … CASCADE`): the objects outside
 * the deployment it takes, i.e. those on the side's clusters and those reading the side's objects,
 * recursively. For production, these are what a swap leaves reading the previous production.
 */
async function surveyImpact(sql, config, side) {
    const objects = await deploymentObjects(sql, config);
    const names = sideNames(config, side);
    const roots = objects.filter((o) => inSchemas(o, names) || onClusters(o, names));
    const outside = isOutside(config);
    const dependents = [
        ...roots.filter(outside).map((o) => ({ ...o, reason: placeOf(o) })),
        ...(await dependentsOf(sql, roots))
            .filter(outside)
            .map(({ reads, ...o }) => ({ ...o, reason: `reads ${qualifiedName(reads)}` }))
    ];
    return {
        objects,
        dependents,
        sourcesAndTables: objects.filter((o) => o.type === 'source' || o.type === 'table'),
        subscriptions: await activeSubscriptions(sql, config)
    };
}
/** A PR environment's schema as slim mode names it by default (`pr_<number>[_<suffix>]`). */
const PR_SCHEMA = /^pr_\d+(_|$)/;
const impact_describe = (o) => `${qualifiedName(o)} (${o.type})`;
/**
 * The production-side reasons a swap is unsafe; empty when it is safe. `seeds` are the tables
 * the deployment rebuilds in green (dbt seeds), which the swap replaces as it should.
 */
function productionSideProblems(config, objects, seeds = []) {
    const production = productionNames(config);
    const deployment = deploymentNames(config);
    const rebuilt = (o) => o.type === 'table' && seeds.includes(o.name);
    const stored = objects.filter((o) => inSchemas(o, production) && (o.type === 'source' || o.type === 'table') && !rebuilt(o));
    const foreign = objects.filter((o) => onClusters(o, production) && !inSchemas(o, deployment));
    const pr = foreign.filter((o) => PR_SCHEMA.test(o.schema));
    const other = foreign.filter((o) => !PR_SCHEMA.test(o.schema));
    const problems = [];
    if (stored.length > 0)
        problems.push(`sources or tables in a production schema, which the swap would replace by green's (empty or missing) ones: ${stored.map(impact_describe).join(', ')}`);
    if (other.length > 0)
        problems.push(`objects of schemas outside the deployment on a production cluster, which the swap would move to *_dbt_deploy and its drop would take: ${other.map(impact_describe).join(', ')}`);
    if (pr.length > 0)
        problems.push(`objects of pull request environments on a production cluster (a PR profile that builds on it): ${pr.map(impact_describe).join(', ')}`);
    return problems;
}
/**
 * Refuses, touching nothing, what makes a swap unsafe on the production side: sources or tables
 * in a production schema, and objects of other schemas (PR environments among them) on a
 * production cluster.
 */
async function checkProductionSide(sql, config, seeds = []) {
    refuseUnsafeProduction(config, await deploymentObjects(sql, config), seeds);
}
/** checkProductionSide on objects already read (see Impact.objects). */
function refuseUnsafeProduction(config, objects, seeds = []) {
    const problems = productionSideProblems(config, objects, seeds);
    if (problems.length === 0)
        return;
    throw new errors/* ActionError */.lZ(`Blue/green cannot safely swap vars.deployment.${config.target}: ${problems.join('; ')}. ` +
        'Keep sources, tables and seeds in schemas outside vars.deployment, move other objects to a cluster outside it, ' +
        'and build pull requests on their own cluster (see "A PR profile that never builds on a production cluster" in the README).');
}

;// CONCATENATED MODULE: ./src/bluegreen/plan.ts
// The cutover plan: the SWAP statements, each `ALTER SINK … SET FROM` as dbt-materialize's
// deploy_promote runs it, what happens to the previous production, and what lies outside the
// deployment. Shown in the summary, the log and the `plan` output (JSON).




function swapStatements(config) {
    return [
        'BEGIN',
        ...config.schemas.map((s) => `ALTER SCHEMA ${quoteIdent(s)} SWAP WITH ${quoteIdent(green(s))}`),
        ...config.clusters.map((c) => `ALTER CLUSTER ${quoteIdent(c)} SWAP WITH ${quoteIdent(green(c))}`),
        'COMMIT'
    ];
}
/** What dropping the green names runs (dropEnvironment: schemas first, then clusters). */
function dropStatements(config) {
    return [
        ...config.schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(green(s))} CASCADE`),
        ...config.clusters.map((c) => `DROP CLUSTER IF EXISTS ${quoteIdent(green(c))} CASCADE`)
    ];
}
/**
 * The sinks deploy_promote repoints, from the production manifest as its `discover_sinks` reads
 * dbt's graph: sink models whose first upstream node is in a deployment schema, each set to read
 * that node under its production name.
 */
function sinkRepoints(manifestBody, config) {
    const nodes = JSON.parse(manifestBody).nodes ?? {};
    // process_sinks skips a sink unless every part of both names is set.
    const name = (n) => n.database && n.schema && n.name
        ? [n.database, n.schema, n.name].map(quoteIdent).join('.')
        : undefined;
    return Object.values(nodes).flatMap((node) => {
        if (node.resource_type !== 'model' || node.config?.materialized !== 'sink')
            return [];
        const upstream = nodes[node.depends_on?.nodes?.[0] ?? ''];
        if (!upstream?.schema || !config.schemas.includes(upstream.schema))
            return [];
        const [sink, from] = [name(node), name(upstream)];
        return sink && from ? [{ sink, from, statement: `ALTER SINK ${sink} SET FROM ${from}` }] : [];
    });
}
/** The seed tables the deployment builds (in a deployment schema), from the production manifest. */
function seedTables(manifestBody, config) {
    const nodes = JSON.parse(manifestBody).nodes ?? {};
    return Object.values(nodes).flatMap((n) => {
        const table = n.alias ?? n.name;
        const deployed = n.resource_type === 'seed' && config.schemas.includes(n.schema ?? '');
        return deployed && table ? [table] : [];
    });
}
const planned = (o, reason) => ({
    name: qualifiedName(o),
    type: o.type,
    cluster: o.cluster,
    reason
});
const unquoted = (name) => name.replace(/"/g, '');
function buildPlan(config, impact, sinks, options) {
    const repointed = new Set(sinks.map((s) => unquoted(s.sink)));
    const dependent = (d) => planned(d, repointed.has(qualifiedName(d)) ? `${d.reason}; deploy_promote repoints it` : d.reason);
    return {
        dryRun: options.dryRun,
        swap: swapStatements(config),
        sinks,
        previous: {
            action: options.keepPrevious ? 'keep' : 'drop',
            statements: dropStatements(config),
            blockedBy: [],
            accepted: []
        },
        dependents: impact.dependents.map(dependent),
        sourcesAndTables: impact.sourcesAndTables.map((o) => planned(o, o.cluster ? `on cluster ${o.cluster}` : `in schema ${o.schema}`)),
        subscriptions: impact.subscriptions
    };
}
function previousLines(plan) {
    const { previous } = plan;
    if (previous.blockedBy.length > 0)
        return [`-- previous production kept: dropping it would take ${previous.blockedBy.join(', ')}`];
    if (previous.action === 'keep')
        return ['-- previous production kept under the *_dbt_deploy names ("keep-previous")'];
    return [
        '-- then the previous production, now under the *_dbt_deploy names, is dropped:',
        ...previous.statements.map((s) => `${s};`)
    ];
}
/** The statements in the order they run, with comments; for the log and the summary. */
function planStatements(plan) {
    return [
        ...plan.swap.map((s) => `${s};`),
        ...(plan.sinks.length === 0
            ? ['-- no sink model reads a deployment schema: no ALTER SINK']
            : [
                '-- then deploy_promote repoints each sink:',
                ...plan.sinks.map((s) => `${s.statement};`)
            ]),
        ...previousLines(plan)
    ];
}
function objectTable(objects) {
    return [
        '| Object | Type | Cluster | Why |',
        '| --- | --- | --- | --- |',
        ...objects.map((o) => `| ${cell(o.name)} | ${cell(o.type)} | ${cell(o.cluster ?? '–')} | ${cell(o.reason)} |`)
    ];
}
function renderPlan(plan) {
    const lines = ['### Cutover plan', ''];
    if (plan.dryRun)
        lines.push('**Dry run**: nothing below was run.', '');
    lines.push('```sql', ...planStatements(plan), '```', '');
    if (plan.dependents.length === 0) {
        lines.push('No object outside the deployment reads production.', '');
    }
    else {
        lines.push('**Outside the deployment**: after the swap these keep reading the previous production, and dropping it takes them.', '', ...objectTable(plan.dependents), '');
    }
    if (plan.previous.accepted.length > 0)
        lines.push(`Dropped with it ("allow-dependents"): ${plan.previous.accepted.join(', ')}.`, '');
    if (plan.sourcesAndTables.length > 0)
        lines.push('**Sources and tables** in the deployment schemas or on its clusters:', '', ...objectTable(plan.sourcesAndTables), '');
    lines.push(`Active SUBSCRIBEs on the swapped clusters: ${plan.subscriptions}${plan.subscriptions > 0 ? ' (the swap breaks them)' : ''}.`);
    return lines.join('\n');
}

;// CONCATENATED MODULE: ./src/bluegreen/index.ts
// Blue/green mode: opens the run, runs one phase, reports, and undoes what a failed or
// cancelled run created.









function timelineSection(run) {
    if (run.timeline.length === 0)
        return '';
    const rows = run.timeline.map((t) => `| ${t.outcome === 'ok' ? '✅' : '❌'} ${cell(t.step)} | ${t.seconds.toFixed(1)} s |`);
    return ['### Timeline', '', '| Step | Duration |', '| --- | --- |', ...rows].join('\n');
}
function hydrationSection(run) {
    const samples = run.hydration?.samples ?? [];
    if (samples.length === 0)
        return '';
    // Keep the table short: the first sample, every change, and the last.
    const shown = samples.filter((s, i) => i === 0 ||
        i === samples.length - 1 ||
        JSON.stringify(s.clusters) !== JSON.stringify(samples[i - 1]?.clusters));
    const rows = shown.flatMap((s) => s.clusters.map((c) => `| ${s.at.toFixed(1)} s | ${cell(c.cluster)} | ${c.status} | ${c.hydrated}/${c.total} | ${c.maxLagSeconds?.toFixed(1) ?? '–'} s |`));
    return [
        '### Hydration',
        '',
        '| At | Cluster | Status | Hydrated | Max lag |',
        '| --- | --- | --- | --- | --- |',
        ...rows.slice(0, 400)
    ].join('\n');
}
/** The cutover plan of a promote; a rollback has only its swap. */
function planSection(run) {
    if (run.cutover)
        return renderPlan(run.cutover);
    return run.plan.length === 0
        ? ''
        : ['### Swap plan', '', '```sql', ...run.plan.map((s) => `${s};`), '```'].join('\n');
}
function facts(run) {
    const list = [
        ['Phase', `\`${run.inputs.phase}\``],
        ['Target', `\`${run.config.target}\``],
        ['Schemas', run.config.schemas.map((s) => `\`${s}\``).join(', ')],
        ['Clusters', run.config.clusters.map((c) => `\`${c}\``).join(', ')]
    ];
    if (run.hydration)
        list.push(['Hydration', `${run.hydration.seconds.toFixed(1)} s`]);
    const final = run.hydration?.final ?? [];
    if (final.length > 0)
        list.push(['Readiness', final.map(describeReadiness).join('; ')]);
    return list;
}
async function bluegreen_report(run, status, error) {
    lib_core/* setOutput */.uH('status', status);
    if (run.cutover)
        lib_core/* setOutput */.uH('plan', JSON.stringify(run.cutover));
    const headline = error
        ? `Failed: ${(0,errors/* errorMessage */.gJ)(error)}`
        : ({
            promoted: 'Green was promoted to production.',
            staged: 'Green is deployed, hydrated and validated; promote it with "phase: promote".',
            'cleaned-up': 'The green environment was dropped.',
            'rolled-back': 'The previous production is back.',
            planned: 'Dry run: the cutover plan below was not applied.',
            reported: 'What exists now, read without taking the deploy lock; nothing was changed.'
        }[status] ?? status);
    await reportRun({
        title: 'dbt blue/green deploy',
        status,
        headline,
        facts: facts(run),
        notes: run.notes,
        sections: [...run.sections, timelineSection(run), hydrationSection(run)],
        sharedSections: [run.diff ? renderDiff(run.diff) : '', planSection(run)]
    }, run.inputs.report, run.context, 'blue-green');
}
async function runBlueGreen(inputs, context, phase, deps = run_realDependencies) {
    lib_core/* setOutput */.uH('deployed', 'false');
    lib_core/* setOutput */.uH('promoted', 'false');
    const run = await BlueGreenRun.open(inputs, context, deps);
    try {
        const status = await phase(run);
        if (run.blockedDrop)
            throw run.blockedDrop;
        await bluegreen_report(run, status, undefined);
    }
    catch (error) {
        await lib_core/* group */.Os('Undo this run', () => run.undo());
        await run.deployment.status('failure', { description: redact((0,errors/* errorMessage */.gJ)(error)) });
        await bluegreen_report(run, 'failed', error);
        throw error;
    }
    finally {
        await run.close();
    }
}

;// CONCATENATED MODULE: ./src/bluegreen/guard.ts
// The impact guard on a run: the cutover plan before a promote (refusing an unsafe production
// side), and the check before any drop of the `*_dbt_deploy` names, which refuses to take
// objects outside the deployment with it unless "allow-dependents" names them.





const describeDependent = (d) => `${qualifiedName(d)} (${d.type}, ${d.reason})`;
/**
 * Plans the cutover of the staged green (`manifestBody`: the production manifest it publishes)
 * into `run.cutover` and the log, then refuses an unsafe production side. Reads only.
 */
async function planCutover(run, manifestBody) {
    const { blueGreen } = run.inputs;
    const impact = await surveyImpact(await run.warehouse(), run.config, 'production');
    run.cutover = buildPlan(run.config, impact, sinkRepoints(manifestBody, run.config), {
        keepPrevious: blueGreen.keepPrevious,
        dryRun: blueGreen.dryRun
    });
    planStatements(run.cutover).forEach((line) => lib_core/* info */.pq(line));
    for (const d of impact.dependents)
        lib_core/* warning */.$e(`Outside the deployment, reads production: ${describeDependent(d)}.`);
    if (impact.subscriptions > 0)
        lib_core/* warning */.$e(`${impact.subscriptions} active SUBSCRIBE(s) on the swapped clusters break at the swap.`);
    refuseUnsafeProduction(run.config, impact.objects, seedTables(manifestBody, run.config));
}
/**
 * The objects outside the deployment that dropping the `*_dbt_deploy` schemas and clusters would
 * take, less those "allow-dependents" accepts (noted, and recorded in the plan).
 */
async function blockingDependents(run) {
    const impact = await surveyImpact(await run.warehouse(), run.config, 'green');
    const allowed = new Set(run.inputs.blueGreen.allowDependents);
    const accepted = impact.dependents.filter((d) => allowed.has(qualifiedName(d)));
    const blocking = impact.dependents.filter((d) => !allowed.has(qualifiedName(d)));
    if (accepted.length > 0)
        run.notes.push(`Dropped with the *_dbt_deploy names, as "allow-dependents" accepts: ${accepted.map(describeDependent).join(', ')}.`);
    if (run.cutover) {
        run.cutover.previous.accepted = accepted.map(qualifiedName);
        run.cutover.previous.blockedBy = blocking.map(qualifiedName);
        if (blocking.length > 0)
            run.cutover.previous.action = 'keep';
    }
    return blocking;
}
/** The error for a drop that `blocking` refused; `outcome` says what was left as it was. */
function dependentsError(run, blocking, what, outcome) {
    const names = greenNames(run.config);
    return new errors/* ActionError */.lZ(`Dropping ${what} (${[...names.schemas, ...names.clusters].join(', ')}) would also drop ${blocking.length} object(s) outside the deployment: ` +
        `${blocking.map(describeDependent).join('; ')}. ${outcome} ` +
        'To finish by hand: drop these objects or rebuild them on production, then run "phase: cleanup"; ' +
        `or accept that they are dropped with it: "allow-dependents: ${blocking.map(qualifiedName).join(' ')}".`);
}
/** Throws, dropping nothing, when dropping the `*_dbt_deploy` names would take outside objects. */
async function guardGreenDrop(run, what) {
    const blocking = await blockingDependents(run);
    if (blocking.length > 0)
        throw dependentsError(run, blocking, what, 'Nothing was dropped.');
}
/** `dry-run: true` on phase promote: the plan of the staged deploy, and nothing else. */
async function planOnly(run, manifestBody) {
    await run.step('Cutover plan (dry run)', () => planCutover(run, manifestBody));
    run.notes.push('Dry run: no lock taken, nothing swapped, dropped, published or written.');
    return 'planned';
}

;// CONCATENATED MODULE: ./src/bluegreen/lifecycle.ts
// What the `*_dbt_deploy` names hold between runs, and what each phase does about it. The names
// hold at most one thing: a staged deploy (staged/deployment.json), the previous production kept
// for rollback (previous.json), or something no record explains. A kept previous lives until
// the next deploy starts, which drops it: the rollback window never blocks the pipeline.





const listed = (names) => [...names.schemas, ...names.clusters];
/** What the green names hold, from the records in S3 and the names that exist. */
function greenOccupant(records, existing) {
    const names = listed(existing);
    if (names.length === 0) {
        const staleRecords = ['staged', 'previous'].filter((r) => records[r] !== undefined);
        return { kind: 'nothing', staleRecords };
    }
    // A staged deploy is written after the kept previous was dropped, so it is the newer truth.
    if (records.staged)
        return { kind: 'staged', staged: records.staged, names };
    if (records.previous)
        return { kind: 'kept-previous', previous: records.previous, names };
    return { kind: 'unrecorded', names };
}
const commit = (sha) => sha ? `commit ${sha.slice(0, 12)}` : 'commit unknown';
function describeStaged(staged) {
    const run = staged.runUrl ? `, run ${staged.runUrl}` : '';
    return `the staged deploy of ${commit(staged.sha)} (staged ${staged.stagedAt}${run})`;
}
function describePrevious(previous) {
    const [what, how] = previous.keptBy === 'rollback'
        ? ['the rolled-back release', 'rolled back to']
        : ['the previous production', 'replaced by'];
    return `${what} kept for rollback (${commit(previous.sha)}, ${how} ${commit(previous.replacedBy)}, kept ${previous.keptAt})`;
}
/** Why a new deploy cannot start, with only the actions that work in that state. */
function deployRefusal(occupant) {
    switch (occupant.kind) {
        case 'staged':
            return (`The green names (${occupant.names.join(', ')}) hold ${describeStaged(occupant.staged)}. ` +
                'Promote it with "phase: promote", or drop it with "phase: cleanup"; then deploy again.');
        case 'unrecorded':
            return (`${occupant.names.join(', ')} exist, but no staged deploy or kept previous production is recorded for them ` +
                '(a run that stopped with "cleanup-on-failure: false", or objects made by hand). ' +
                'Check what they hold, then drop them with "phase: cleanup".');
        default:
            return undefined;
    }
}
/**
 * What `phase: rollback` swaps back, or a refusal with the actions that work instead; decided
 * on the records alone, before any SQL.
 */
function previousToRollBack(records, uri) {
    if (records.staged) {
        throw new errors/* ActionError */.lZ(`Input "phase" is "rollback", but the green names hold ${describeStaged(records.staged)}, not a previous production: ` +
            'the deploy that staged it dropped the one kept for rollback. Promote it with "phase: promote", or drop it with "phase: cleanup".');
    }
    if (!records.previous) {
        throw new errors/* ActionError */.lZ(`Input "phase" is "rollback", but no previous production was kept (nothing at ${uri}/previous.json). ` +
            'Deploy and promote with "keep-previous: true" to keep one for the next rollback.');
    }
    return records.previous;
}
/** Why `phase: promote` found nothing to promote, with the actions that work instead. */
function nothingToPromote(previous, uri) {
    const none = `No staged deploy at ${uri}/staged/`;
    if (!previous)
        return `${none}: run "phase: deploy" first.`;
    return (`${none}: the green names hold ${describePrevious(previous)}. ` +
        'Run "phase: deploy" to stage a new release (it drops that previous production first), or "phase: rollback" to swap it back.');
}
/**
 * previous.json after a rollback that keeps the release it rolled back: a second rollback
 * swaps that release back in, the next deploy drops it.
 */
function keptAfterRollback(restored, at) {
    return {
        sha: restored.replacedBy,
        replacedBy: restored.sha,
        keptAt: at.toISOString(),
        keptBy: 'rollback'
    };
}
async function readGreenRecords(run) {
    const { store } = run.clients;
    return {
        staged: await readRecord(store, run.keys.staged, 'staged deploy', STAGED_SHAPE),
        previous: await readRecord(store, run.keys.previous, 'kept previous production', PREVIOUS_SHAPE)
    };
}
/**
 * The one way a kept previous production is dropped: the release under the green names and
 * then its record, so a drop that stops half-way is still recorded and retried by the next
 * deploy. The lock must be held.
 */
async function dropKeptPrevious(run, previous) {
    const existing = await run.existingGreen();
    await guardGreenDrop(run, describePrevious(previous));
    await run.verifyLease();
    await run.dropGreen();
    await run.clients.store.delete(run.keys.previous);
    const message = `Dropped ${describePrevious(previous)}: ${listed(existing).join(', ') || 'nothing was left of it'}.`;
    lib_core/* notice */.lm(message);
    run.notes.push(message);
}
async function forgetStaleRecords(run, stale) {
    if (stale.length === 0)
        return;
    const keys = stale.flatMap((r) => (r === 'staged' ? stagedKeys(run.keys) : [run.keys.previous]));
    for (const key of keys)
        await run.clients.store.delete(key);
    const message = `No *_dbt_deploy names exist, so the records ${keys.join(', ')} described nothing and were removed.`;
    lib_core/* notice */.lm(message);
    run.notes.push(message);
}
/**
 * Before a new deploy builds green: drops a kept previous production (the rollback window
 * closes when the next deploy starts), forgets records of names that are gone, and refuses
 * when the names hold a staged deploy or something unrecorded. The lock must be held.
 */
async function makeRoomForGreen(run) {
    const occupant = greenOccupant(await readGreenRecords(run), await run.existingGreen());
    const refusal = deployRefusal(occupant);
    if (refusal)
        throw new errors/* ActionError */.lZ(refusal);
    if (occupant.kind === 'kept-previous')
        await dropKeptPrevious(run, occupant.previous);
    if (occupant.kind === 'nothing')
        await forgetStaleRecords(run, occupant.staleRecords);
}

;// CONCATENATED MODULE: ./src/bluegreen/preflight.ts
// Checks before deploy_init that make a blue/green deploy safe, each failing with the cause
// before anything is created: the installed dbt releases against the known-versions table,
// CI_TAG, and the names green will really build into, resolved by dbt with the deploy vars.








/**
 * Whether `node` reads `input` by ref: a `-- depends_on: {{ ref(…) }}` comment, dbt's way to
 * only order a build, reads nothing.
 */
function readsByRef(node, input) {
    if (node.raw_code === undefined)
        return true;
    const code = node.raw_code.replace(/--\s*depends_on:[^\n]*/g, '');
    // ref('name') or ref('package', 'name')
    return new RegExp(`ref\\(\\s*(['"][^'"]*['"]\\s*,\\s*)?['"]${input.name}['"]\\s*\\)`).test(code);
}
const DBT_TIMEOUT_MS = 600_000;
/** Materializations that place nothing on a cluster (an index on them still does). */
const CLUSTERLESS = new Set(['view', 'ephemeral', 'seed']);
/** The macros whose override decides the schema and cluster names green builds into. */
const NAME_MACROS = [
    'generate_schema_name',
    'generate_cluster_name',
    'generate_deploy_cluster_name'
];
/** dbt itself and the adapters: their macros are the defaults, not overrides. */
const BUILT_IN_PACKAGES = new Set(['dbt', 'dbt_postgres', 'dbt_materialize']);
const SHOWN = 10;
async function dbtAnswer(dbt, command, args, what, options = {}) {
    const result = await dbt.run(command, args, { timeoutMs: DBT_TIMEOUT_MS, ...options });
    if (result.timedOut)
        throw new errors/* ActionError */.lZ(`${what} did not finish within ${DBT_TIMEOUT_MS / 1000} s.`);
    if (result.exitCode !== 0)
        throw new errors/* ActionError */.lZ(`${what} failed (dbt exit ${result.exitCode}). dbt said:\n${result.tail}`);
    return result;
}
// --- versions ---------------------------------------------------------------------------------
async function checkVersions(run) {
    const { dbt } = run.clients;
    if (!dbt.installedVersions)
        return undefined;
    const installed = await dbt.installedVersions();
    if (!installed) {
        throw new errors/* ActionError */.lZ(`Could not read the installed dbt-core and dbt-materialize releases from "${run.inputs.dbt.executable}" (input "dbt-path"); ` +
            'blue/green checks them against its table of known floors before deploy_init. Nothing was created.');
    }
    lib_core/* info */.pq(`dbt-core ${installed['dbt-core'] ?? 'not installed'}, dbt-materialize ${installed['dbt-materialize'] ?? 'not installed'}`);
    const problems = versionProblems(installed);
    if (problems.length > 0) {
        throw new errors/* ActionError */.lZ(`The installed dbt cannot run a blue/green deploy: ${problems.join(' ')} ` +
            'Upgrade it (for example "pip install \'dbt-materialize>=1.9.8\'"). Nothing was created.');
    }
    return installed;
}
// --- CI_TAG -----------------------------------------------------------------------------------
/** dbt runs without CI_TAG in blue/green (environment.ts); say so when the job sets it. */
function noticeCiTag(run, installed) {
    if (!process.env[CI_TAG_ENV])
        return;
    const version = installed?.['dbt-materialize'];
    const broken = version !== undefined && isIn(version, CI_TAG_BREAKS_DEPLOY_INIT)
        ? ` (and in dbt-materialize ${version} ${CI_TAG_BREAKS_DEPLOY_INIT.problem}: ${CI_TAG_BREAKS_DEPLOY_INIT.link})`
        : '';
    const message = `${CI_TAG_ENV} is set in the job's environment; blue/green runs dbt without it. ` +
        `dbt-materialize's CI tag lets a pull request's CI re-use its own *_dbt_deploy environment; this action keeps one green per target and refuses an existing one itself${broken}.`;
    lib_core/* notice */.lm(message);
    run.notes.push(message);
}
// --- the names green builds into --------------------------------------------------------------
/** The models the green `dbt run` selects, as dbt lists them with the deploy vars. */
async function selectedModels(run, exclude) {
    const args = ['--resource-type', 'model', '--output', 'json', '--output-keys', 'unique_id'];
    if (exclude.length > 0)
        args.push('--exclude', ...exclude);
    const listed = await dbtAnswer(run.greenDbt, 'ls', ['--quiet', ...args], 'dbt ls (green)', {
        keepStdout: true
    });
    const ids = (listed.stdout ?? '').split('\n').flatMap((line) => {
        try {
            const id = JSON.parse(line).unique_id;
            return typeof id === 'string' ? [id] : [];
        }
        catch {
            return [];
        }
    });
    return new Set(ids);
}
function readManifest(run) {
    const file = external_node_path_default().join(run.project.dir, run.greenTargetPath, 'manifest.json');
    return JSON.parse((0,external_node_fs_.readFileSync)(file, 'utf8'));
}
/** The cluster each object of a node lands on, unresolved: null is the profile's cluster. */
function rawClusters(node) {
    const own = node.config.cluster ?? null;
    const indexes = (node.config.indexes ?? []).map((index) => index.cluster ?? own);
    return CLUSTERLESS.has(node.config.materialized ?? '') ? indexes : [own, ...indexes];
}
/**
 * Resolves cluster names as dbt-materialize does when it creates an object
 * (`adapter.generate_final_cluster_name`: the project's `generate_cluster_name`, then the
 * `_dbt_deploy` suffix of `generate_deploy_cluster_name` under the deploy vars), in one
 * `dbt compile --inline`, so that overrides of either macro count.
 */
async function resolveClusters(run, names) {
    const inline = `{%- set out = {} -%}{%- for name in ${JSON.stringify(names)} -%}` +
        '{%- do out.update({name: adapter.generate_final_cluster_name(name)}) -%}{%- endfor -%}' +
        '{{ tojson({"clusters": out, "target": (adapter.generate_final_cluster_name(target.cluster) if target.cluster else none)}) }}';
    const result = await dbtAnswer(run.greenDbt, 'compile', ['--quiet', '--output', 'json', '--inline', inline], 'dbt compile (green cluster names)');
    const line = result.tail.split('\n').find((l) => /^\s*"compiled":/.test(l));
    try {
        const compiled = JSON.parse(`{${line ?? ''}}`).compiled;
        return JSON.parse(compiled);
    }
    catch {
        throw new errors/* ActionError */.lZ(`dbt compile (green cluster names) gave no answer. dbt said:\n${result.tail}`);
    }
}
function overriddenNameMacros(manifest) {
    return Object.values(manifest.macros)
        .filter((m) => NAME_MACROS.includes(m.name) && !BUILT_IN_PACKAGES.has(m.package_name))
        .map((m) => `${m.package_name}.${m.name}`);
}
function preflight_listed(problems) {
    const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
    return problems.slice(0, SHOWN).join('; ') + more;
}
/** Selected models (and seeds built into green) whose schema or cluster is not green. */
function misplaced(run, placement, seeds) {
    const green = greenNames(run.config);
    const problems = [];
    for (const node of [...placement.selected, ...seeds]) {
        if (node.config.materialized === 'ephemeral')
            continue;
        if (!green.schemas.includes(node.schema))
            problems.push(`${node.unique_id} builds into schema "${node.schema}"`);
        for (const cluster of new Set(rawClusters(node).map(placement.resolve)))
            if (cluster === null || !green.clusters.includes(cluster))
                problems.push(`${node.unique_id} builds on cluster "${cluster ?? '(none)'}"`);
    }
    return problems;
}
function refuseMisplaced(run, problems, manifest) {
    if (problems.length === 0)
        return;
    const green = greenNames(run.config);
    const overrides = overriddenNameMacros(manifest);
    const hint = overrides.length > 0
        ? ` The project overrides ${overrides.join(', ')}: with --vars 'deploy: true' they must return the production name with the "_dbt_deploy" suffix, as dbt-materialize's own macros do.`
        : ` Set the model's schema and cluster to ones listed in vars.deployment.${run.config.target}, or exclude the model (input "exclude").`;
    throw new errors/* ActionError */.lZ(`With the deploy vars, green would build outside its schemas (${green.schemas.join(', ')}) and clusters (${green.clusters.join(', ')}), ` +
        `into production or names nothing swaps: ${preflight_listed(problems)}.${hint} Nothing was created.`);
}
/**
 * What selected models read that green does not build: sources in a production schema (the
 * swap moves them away and dropping the previous production deletes them), seeds outside the
 * deployment schemas and excluded models (green would read them from a `*_dbt_deploy` name).
 */
function unbuiltInputs(run, placement, seeds) {
    const { manifest } = placement;
    const selected = new Set(placement.selected.map((n) => n.unique_id));
    const production = run.config.schemas;
    // A green or production name that green does not build: missing, or gone after the swap.
    const unreadable = (schema) => schema.endsWith(GREEN_SUFFIX) || production.includes(schema);
    const problems = new Set();
    for (const node of placement.selected) {
        for (const parent of node.depends_on?.nodes ?? []) {
            const source = manifest.sources[parent];
            if (source && production.includes(source.schema))
                problems.add(`source ${source.source_name}.${source.name} is in production schema "${source.schema}": the swap moves it to "${source.schema}_dbt_deploy" and dropping the previous production deletes it; keep sources and tables in a schema outside vars.deployment`);
            const input = manifest.nodes[parent];
            if (!input || !unreadable(input.schema))
                continue;
            if (input.resource_type === 'seed' && !seeds.has(parent) && readsByRef(node, input))
                problems.add(`seed ${input.name} would be read from "${input.schema}", which is not a deployment schema; put the seed in a schema listed in vars.deployment (it is then built into green), or load it outside dbt and read it as a source`);
            if (input.resource_type === 'model' && !selected.has(parent))
                problems.add(`${node.unique_id} reads excluded model ${input.name}, which green does not build, from "${input.schema}"; read it through a source() outside the deployment schemas`);
        }
    }
    return [...problems];
}
async function checkGreenNames(run) {
    const selectedIds = await selectedModels(run, run.inputs.blueGreen.exclude);
    const manifest = readManifest(run);
    const selected = [...selectedIds].flatMap((id) => manifest.nodes[id] ?? []);
    const green = greenNames(run.config);
    const seeds = Object.values(manifest.nodes).filter((n) => n.resource_type === 'seed' && green.schemas.includes(n.schema));
    const raw = [...new Set([...selected, ...seeds].flatMap(rawClusters))];
    const named = raw.filter((c) => c !== null);
    const resolved = await resolveClusters(run, named);
    const resolve = (name) => name === null ? resolved.target : (resolved.clusters[name] ?? null);
    const placement = { manifest, selected, resolve };
    refuseMisplaced(run, misplaced(run, placement, seeds), manifest);
    const inputs = unbuiltInputs(run, placement, new Set(seeds.map((s) => s.unique_id)));
    if (inputs.length > 0)
        throw new errors/* ActionError */.lZ(`Green's models read what green does not build: ${preflight_listed(inputs)}. Nothing was created.`);
    lib_core/* info */.pq(`${selected.length} models build into ${green.schemas.join(', ')} on ${green.clusters.join(', ')}` +
        (seeds.length > 0
            ? `; seeds built into green first: ${seeds.map((s) => s.name).join(', ')}`
            : ''));
    return { seeds: seeds.map((s) => s.name) };
}
/** Every check before deploy_init; the plan says what green builds besides `dbt run`. */
async function preflight(run) {
    const installed = await checkVersions(run);
    noticeCiTag(run, installed);
    return checkGreenNames(run);
}

;// CONCATENATED MODULE: ./src/bluegreen/stage.ts
// Building green: deploy_init, dbt run into the green schemas and clusters, the hydration
// wait, and validation with dbt test. Production is not touched.

















async function awaitWithDbt(run) {
    const { blueGreen } = run.inputs;
    const started = Date.now();
    const args = {
        poll_interval: Math.max(1, Math.round(blueGreen.pollIntervalMs / 1000)),
        lag_threshold: `${blueGreen.lagThresholdSeconds}s`
    };
    await run.dbtOk(run.clients.dbt, 'run-operation', ['deploy_await', '--args', JSON.stringify(args)], 'deploy_await', { timeoutMs: blueGreen.awaitTimeoutMs });
    return { seconds: (Date.now() - started) / 1000, final: [], samples: [] };
}
/** Waits for green to hydrate; with a check, shows the progress on the deployed commit. */
async function awaitHydration(run, check) {
    const { blueGreen } = run.inputs;
    await check?.start();
    try {
        const result = blueGreen.awaitWith === 'dbt'
            ? await awaitWithDbt(run)
            : await waitForHydration(run.sql, greenNames(run.config).clusters, {
                productionSchemas: run.config.schemas,
                lagThreshold: blueGreen.lagThresholdSeconds,
                replicaGraceSeconds: blueGreen.replicaGraceSeconds,
                pollIntervalMs: blueGreen.pollIntervalMs,
                timeoutMs: blueGreen.awaitTimeoutMs,
                sleep: (ms) => sleep(ms, cancelled),
                onProgress: async (clusters, elapsed) => check?.progress(progressSummary(clusters, elapsed))
            });
        const summary = result.final.length > 0
            ? progressSummary(result.final, result.seconds)
            : `deploy_await returned after ${result.seconds.toFixed(0)}s`;
        await check?.conclude('success', `Hydrated: ${summary}`);
        return result;
    }
    catch (error) {
        await check?.conclude(cancelled.aborted ? 'cancelled' : 'failure', redact((0,errors/* errorMessage */.gJ)(error)));
        throw error;
    }
}
function stage_excludeArgs(exclude) {
    return exclude.length > 0 ? ['--exclude', ...exclude] : [];
}
/**
 * The manifest to publish once green is promoted: parsed with production's vars, so its
 * relations name production as it is after the swap, not the `*_dbt_deploy` names green was
 * built under (a slim PR deferring to it would read those).
 */
async function productionManifest(run, quiet) {
    await run.dbtOk(run.clients.dbt, 'parse', [], 'dbt parse (production manifest)', { quiet });
    return (0,external_node_fs_.readFileSync)(external_node_path_default().join(run.project.dir, run.project.targetPath, 'manifest.json'), 'utf8');
}
/**
 * Awaits hydration while dbt parses production's manifest, which does not depend on green: the
 * parse leaves the path from "hydrated" to the swap. `await: dbt` runs deploy_await in
 * production's target path, where a parallel parse would write the same files, so it waits first.
 */
async function hydrateAndParse(run, sha) {
    const check = new HydrationCheck(run.clients.checks, sha);
    run.hydrationCheck = check;
    const wait = () => run.step('Await hydration', () => awaitHydration(run, check));
    if (run.inputs.blueGreen.awaitWith === 'dbt')
        return { hydration: await wait(), productionManifest: () => productionManifest(run, false) };
    // Settled at once, so a parse that fails during the wait is never an unhandled rejection.
    const parsing = productionManifest(run, true).then((body) => {
        lib_core/* info */.pq("dbt parsed production's manifest while green hydrates.");
        return { body };
    }, (error) => ({ error }));
    const manifest = async () => {
        const parsed = await parsing;
        if ('error' in parsed)
            throw parsed.error;
        return parsed.body;
    };
    try {
        return { hydration: await wait(), productionManifest: manifest };
    }
    catch (error) {
        await parsing; // the parse process ends before the run does
        throw error;
    }
}
/** Seeds of the deployment schemas, into green, so that the swap moves them along. */
async function seedGreen(run, plan) {
    if (plan.seeds.length === 0)
        return;
    await run.step('dbt seed (green)', () => run.dbtOk(run.greenDbt, 'seed', ['--select', ...plan.seeds], 'dbt seed into green'));
}
/** The deployment record of this staging, in progress until the promote. */
async function startDeployment(run, sha) {
    await run.deployment.start({
        sha,
        environment: run.environment,
        transient: false,
        description: `dbt blue/green deploy of target ${run.config.target}`,
        payload: { green: greenNames(run.config), manifestKey: manifestKey(run.inputs.state) }
    });
}
/** Stages a validated green environment; the lock must be held. */
async function stageGreen(run) {
    const { blueGreen } = run.inputs;
    const sha = (await headSha(run.inputs.dbt.projectDir)) ?? run.context.sha;
    await startDeployment(run, sha);
    const parseState = await restoreParseState(parseScope(run.clients.dbt, run.inputs.dbt, [run.project.targetPath, run.greenTargetPath]));
    // Production's dbt parses while preflight checks green's names: deploy_init starts parsed.
    run.clients.dbt.prepare?.();
    const plan = await run.step('Preflight', () => preflight(run));
    await run.step('Check production side', async () => checkProductionSide(await run.warehouse(), run.config, plan.seeds));
    await run.step('Check green', () => makeRoomForGreen(run));
    const manifest = await run.clients.store.get(manifestKey(run.inputs.state));
    const fingerprint = await productionFingerprint(await run.warehouse(), run.config);
    const green = greenNames(run.config);
    if (blueGreen.cleanupOnFailure)
        recordCreated({ kind: 'green', ...green });
    await run.step('deploy_init', () => run.dbtOk(run.clients.dbt, 'run-operation', ['deploy_init'], 'deploy_init'));
    await seedGreen(run, plan);
    await run.step('dbt run (green)', () => run.dbtOk(run.greenDbt, 'run', [...stage_excludeArgs(blueGreen.exclude), ...run.inputs.dbt.extraArgs], 'dbt run into green'));
    const { hydration, productionManifest: parsed } = await hydrateAndParse(run, sha);
    run.hydration = hydration;
    lib_core/* setOutput */.uH('hydration-seconds', hydration.seconds.toFixed(1));
    if (blueGreen.runTests) {
        await run.step('dbt test (green)', () => 
        // The run's exclusions: tests of models green does not build would read missing relations.
        run.dbtOk(run.greenDbt, 'test', stage_excludeArgs(blueGreen.exclude), 'dbt test against green'));
    }
    else {
        run.notes.push('Validation skipped ("run-tests: false").');
    }
    const productionBody = await run.step('Production manifest', parsed);
    if (run.inputs.diff.mode !== 'off')
        await run.step('Data diff', () => diffGreen(run, productionBody, manifest?.body));
    lib_core/* setOutput */.uH('deployed', 'true');
    const staged = {
        sha,
        deploymentId: run.deployment.id,
        target: run.config.target,
        ...green,
        fingerprint,
        manifestEtag: manifest?.etag ?? null,
        previousSha: manifest?.metadata[GIT_SHA],
        stagedAt: new Date().toISOString(),
        runUrl: run.context.runUrl
    };
    return { staged, manifest: productionBody, parseState };
}

;// CONCATENATED MODULE: ./src/bluegreen/swap.ts
// Promoting a staged green environment: readiness again, a drift check, the swap recorded
// (S3 and saved state) and run by deploy_promote, the cutover verified by catalog ids, then
// dropping (or keeping) the previous production and publishing state.















async function ensureReady(run) {
    const { blueGreen } = run.inputs;
    const readiness = await checkReadiness(await run.warehouse(), run.config.clusters.map(green), run.config.schemas, {
        lagThresholdSeconds: blueGreen.lagThresholdSeconds,
        replicaGraceSeconds: blueGreen.replicaGraceSeconds
    });
    readiness.forEach((r) => lib_core/* info */.pq(describeReadiness(r)));
    if (readiness.every((r) => r.status === 'ready'))
        return;
    if (readiness.some((r) => r.status === 'failing')) {
        throw new errors/* ActionError */.lZ(`Green is not promotable: ${readiness
            .filter((r) => r.status === 'failing')
            .map(describeReadiness)
            .join('; ')}.`);
    }
    run.hydration = await awaitHydration(run);
}
async function refuseDrift(run, staged) {
    const changes = [];
    if ((await productionFingerprint(await run.warehouse(), run.config)) !== staged.fingerprint) {
        changes.push('production schemas, clusters or objects were replaced or changed');
    }
    const manifest = await run.clients.store.get(manifestKey(run.inputs.state));
    if ((manifest?.etag ?? null) !== staged.manifestEtag)
        changes.push('another deploy published a newer production manifest');
    if (changes.length === 0)
        return;
    const message = `Production changed since this deploy was staged (${staged.stagedAt}): ${changes.join('; ')}.`;
    if (!run.inputs.blueGreen.force) {
        throw new errors/* ActionError */.lZ(`${message} Promoting would overwrite those changes; re-deploy, or set "force: true" to promote anyway.`);
    }
    lib_core/* warning */.$e(`${message} Promoting anyway ("force: true").`);
}
async function swap(run, what) {
    run.plan = swapStatements(run.config);
    const args = { max_retries: run.inputs.blueGreen.swapRetries, retry_backoff: 1 };
    await run.dbtOk(run.clients.dbt, 'run-operation', ['deploy_promote', '--args', JSON.stringify(args)], what);
}
/**
 * Fails while green's names hold the previous production because a run failed after its swap
 * committed: `what` would otherwise swap or drop it as if it were green.
 */
async function refuseWhileSwapUnsettled(run, what) {
    const record = await readSwapRecord(run.clients.store, run.keys.swap);
    if (!record || record.outcome === 'not-committed')
        return;
    const now = await catalogIds(await run.warehouse(), record);
    if (!holdsPrevious(record, now))
        return;
    const outcome = record.outcome === 'about-to-swap' ? decideSwap(record, now) : record.outcome;
    throw new errors/* ActionError */.lZ(`${what} would touch the previous production: the promote of ${record.sha} (${record.runUrl ?? 'an earlier run'}) failed after its swap. ` +
        `${describeSwapped(record, outcome === 'not-committed' ? 'unclear' : outcome)} ${nextSteps(record)}`);
}
/** Records, in S3 and for the post step, that the swap is about to run and the ids on both sides. */
async function recordSwap(run, staged) {
    const sides = await swapSides(await run.warehouse(), run.config);
    const record = {
        ...sides,
        sha: staged.sha,
        previousSha: staged.previousSha,
        target: run.config.target,
        runUrl: run.context.runUrl,
        recordedAt: new Date().toISOString(),
        outcome: 'about-to-swap'
    };
    await writeRecord(run.clients.store, run.keys.swap, record);
    recordCreated({ kind: 'swap', key: run.keys.swap, previousKey: run.keys.previous, ...sides });
    lib_core/* info */.pq(`Recorded the swap at ${run.keys.swap}: ${sides.schemas.join(', ')} and ${sides.clusters.join(', ')} with their ids on both sides.`);
    return sides;
}
/** After deploy_promote failed: the error to report, once the catalog told what became of the swap. */
async function afterFailedSwap(run, sides, error) {
    let outcome;
    try {
        outcome = await settleSwap(run.clients.store, await run.warehouse(), run.keys, sides);
    }
    catch (settling) {
        // The undo tries again, and leaves green alone while it cannot tell either.
        lib_core/* warning */.$e(`Could not tell whether the swap committed: ${(0,errors/* errorMessage */.gJ)(settling)}`);
        return error;
    }
    forgetCreated('swap');
    if (outcome === 'not-committed')
        return error;
    // Green's names hold the previous production now: never drop them as "green".
    forgetCreated('green');
    if (outcome === 'committed')
        lib_core/* setOutput */.uH('promoted', 'true');
    return new errors/* ActionError */.lZ(`deploy_promote failed after the swap. ${describeSwapped(sides, outcome)} ${nextSteps(sides)} The production manifest was not published.\n${(0,errors/* errorMessage */.gJ)(error)}`);
}
async function swapRecorded(run, sides) {
    await run.verifyLease();
    try {
        await swap(run, 'deploy_promote (the atomic swap)');
    }
    catch (error) {
        throw await afterFailedSwap(run, sides, error);
    }
    // The green names now hold the previous production: never drop it as "green" on failure.
    forgetCreated('green');
    forgetCreated('swap');
}
/**
 * The swap committed but a planned sink does not read the new production: the previous
 * production is kept (recorded for "phase: rollback"), since what still reads it must not go.
 */
async function unrepointedSinks(run, sides, sinks) {
    await settleSwap(run.clients.store, await run.warehouse(), run.keys, sides);
    lib_core/* setOutput */.uH('promoted', 'true');
    return new errors/* ActionError */.lZ(`The swap committed, but ${sinks.length} sink(s) do not read the new production: ${sinks.map((s) => s.problem).join('; ')}. ` +
        `Nothing was dropped: the previous production is kept under ${previousNames(sides)}, and the production manifest was not published. ` +
        `Repoint each sink (${sinks.map((s) => `${s.repoint.statement};`).join(' ')}), then: ${nextSteps(sides)}`);
}
/**
 * Production's names must now carry green's former ids, green's names production's, and each
 * sink deploy_promote repointed must read its new production object.
 */
async function verifyCutover(run, sides) {
    const sql = await run.warehouse();
    const mismatches = cutoverMismatches(sides, await catalogIds(sql, sides));
    if (mismatches.length > 0) {
        await settleSwap(run.clients.store, sql, run.keys, sides);
        throw new errors/* ActionError */.lZ(`The cutover does not match the swap: ${mismatches.join('; ')}. Nothing was dropped; the previous production is kept as it is. ${nextSteps(sides)}`);
    }
    const planned = run.cutover?.sinks ?? [];
    const sinks = await sinkMismatches(sql, planned);
    if (sinks.length > 0)
        throw await unrepointedSinks(run, sides, sinks);
    await markSwap(run.clients.store, run.keys.swap, sides, 'committed');
    lib_core/* info */.pq('Cutover verified: production resolves to the green ids, green to the previous production' +
        (planned.length > 0
            ? `, and each sink reads its new production object (${planned.map((s) => `${s.sink} from ${s.from}`).join(', ')}).`
            : '.'));
}
/** Records the previous production under the *_dbt_deploy names: the next deploy drops it. */
async function recordPrevious(run, staged) {
    const previous = {
        sha: staged.previousSha,
        replacedBy: staged.sha,
        keptAt: new Date().toISOString()
    };
    await writeRecord(run.clients.store, run.keys.previous, previous);
}
async function keepPrevious(run, staged) {
    await recordPrevious(run, staged);
    run.notes.push(`The previous production is kept under ${run.config.schemas.map(green).join(', ')} for "phase: rollback".`);
}
/**
 * Production is the new release by now. A drop that fails part way (a lost connection, a
 * timeout) leaves what is left of the previous production recorded, so that the next deploy or
 * "phase: cleanup" drops it; the run publishes the manifest, then fails with the cause.
 */
async function dropPrevious(run, staged) {
    try {
        await run.step('Drop previous production', () => run.dropGreen());
    }
    catch (error) {
        if (cancelled.aborted)
            throw error;
        await recordPrevious(run, staged);
        const { schemas, clusters } = greenNames(run.config);
        const names = [...schemas, ...clusters].join(', ');
        run.blockedDrop = new errors/* ActionError */.lZ(`Promoted: production runs the new release. Dropping the previous production failed: ${(0,errors/* errorMessage */.gJ)(error)}. ` +
            `What is left of it (${names}) is recorded as the previous production; the next deploy drops it, "phase: cleanup" does so now.`);
    }
}
/**
 * Drops the previous production unless "keep-previous" keeps it or the drop would take objects
 * outside the deployment: then it is kept, and the run fails once the phase has finished.
 */
async function keepOrDropPrevious(run, staged) {
    if (!run.inputs.blueGreen.keepPrevious) {
        const blocking = await run.step('Check what the drop takes', () => blockingDependents(run));
        if (blocking.length === 0) {
            await run.step('Check deploy lock', () => run.verifyLease());
            return dropPrevious(run, staged);
        }
        run.blockedDrop = dependentsError(run, blocking, 'the previous production', 'The previous production is kept under those names (so "phase: rollback" can also swap it back).');
    }
    await keepPrevious(run, staged);
}
/** Swaps a staged green into production; the lock must be held. */
async function promoteGreen(run, staged, manifestBody) {
    await run.step('Check earlier swap', () => refuseWhileSwapUnsettled(run, 'Promoting'));
    await run.step('Cutover plan', () => planCutover(run, manifestBody));
    await run.step('Check readiness', () => ensureReady(run));
    await run.step('Check drift', () => refuseDrift(run, staged));
    const sides = await run.step('Record swap', () => recordSwap(run, staged));
    await run.step('deploy_promote (atomic swap)', () => swapRecorded(run, sides));
    await run.step('Verify cutover', () => verifyCutover(run, sides));
    lib_core/* setOutput */.uH('promoted', 'true');
    await keepOrDropPrevious(run, staged);
    const condition = staged.manifestEtag
        ? { ifMatch: staged.manifestEtag }
        : { ifNoneMatch: '*' };
    await run.step('Publish manifest', async () => {
        await run.verifyLease();
        await publishManifest(run.clients.store, run.inputs.state, manifestBody, condition, staged.sha, {
            history: commitHistory(run.inputs.dbt.projectDir, run.inputs.report.githubToken, run.context),
            changedProduction: true
        });
    });
    // Done: a kept previous production is described by its own record from here on.
    await run.clients.store.delete(run.keys.swap);
}
/** Swaps the kept previous production back; the lock must be held. */
async function swapBack(run) {
    await run.step('deploy_promote (swap back)', () => swap(run, 'deploy_promote (the rollback swap)'));
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/all.ts
// phase: all — deploy and promote in one run, under one lock.



async function allPhase(run) {
    await run.step('Check production', () => run.requireProduction());
    await run.step('Acquire deploy lock', () => run.lock());
    const { staged, manifest, parseState } = await stageGreen(run);
    await promoteGreen(run, staged, manifest);
    await run.unlock();
    await run.recordPromoted();
    // After the swap: an upload must not stand between readiness and the promote.
    await saveParseState(parseState);
    return 'promoted';
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/cleanup.ts
// phase: cleanup — drop green, which aborts a staged deploy or discards a kept previous; never
// the previous production a failed promote left under green's names after its swap committed.



async function cleanupPhase(run) {
    await run.step('Acquire deploy lock', () => run.lock());
    await run.step('Check earlier swap', () => refuseWhileSwapUnsettled(run, '"phase: cleanup"'));
    await run.step('Drop green', async () => {
        await guardGreenDrop(run, 'the *_dbt_deploy names');
        await run.dropGreen();
        for (const key of [...stagedKeys(run.keys), run.keys.previous, run.keys.swap])
            await run.clients.store.delete(key);
    });
    await run.unlock();
    return 'cleaned-up';
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/deploy.ts
// phase: deploy — stage a validated green environment for a later `promote` job, with the
// cutover plan that promote would run, so a PR's comment shows it before anyone promotes.






async function deployPhase(run) {
    await run.step('Check production', () => run.requireProduction());
    await run.step('Acquire deploy lock', () => run.lock());
    const { staged, manifest, parseState } = await stageGreen(run);
    await run.step('Cutover plan', () => planCutover(run, manifest));
    await run.step('Store staged deploy', async () => {
        await run.clients.store.put(run.keys.stagedManifest, manifest);
        if (run.diff)
            await run.clients.store.put(run.keys.stagedDiff, diffResult(run.diff));
        await writeRecord(run.clients.store, run.keys.staged, staged);
    });
    // Green now belongs to the staged deploy, which `promote` or `cleanup` will finish.
    forgetCreated('green');
    await run.unlock();
    await run.deployment.status('queued', { description: 'Staged: waiting for phase: promote.' });
    await saveParseState(parseState);
    run.notes.push(`Staged at ${run.inputs.state.uri}/staged/: promote it with "phase: promote".`, 'The cutover plan below is what the promote would run against production as it is now; the promote plans again before it swaps.');
    return 'staged';
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/promote.ts
// phase: promote — swap a deploy staged by an earlier job into production.









async function stagedDeployment(run) {
    const staged = await readRecord(run.clients.store, run.keys.staged, 'staged deploy', STAGED_SHAPE);
    const manifest = await run.clients.store.get(run.keys.stagedManifest);
    if (!staged || !manifest) {
        const { previous } = await readGreenRecords(run);
        throw new errors/* ActionError */.lZ(nothingToPromote(previous, run.inputs.state.uri));
    }
    if (staged.target !== run.config.target) {
        throw new errors/* ActionError */.lZ(`The staged deploy is for target "${staged.target}", not "${run.config.target}" (input "target").`);
    }
    return { staged, manifest: manifest.body };
}
/** With "require-hydration-check", the staged commit's hydration check must have succeeded. */
async function requireHydrationCheck(run) {
    if (!run.inputs.blueGreen.requireHydrationCheck)
        return;
    const { staged } = await stagedDeployment(run);
    if (!run.clients.checks)
        throw new errors/* ActionError */.lZ(`"require-hydration-check" needs "github-token" to read the "${HYDRATION_CHECK}" check of ${staged.sha}.`);
    const conclusion = await run.clients.checks.conclusionOf(staged.sha);
    if (conclusion !== 'success')
        throw new errors/* ActionError */.lZ(`The "${HYDRATION_CHECK}" check of ${staged.sha} is ${conclusion ?? 'missing'}, not success ("require-hydration-check"): nothing was promoted.`);
    lib_core/* info */.pq(`The "${HYDRATION_CHECK}" check of ${staged.sha} succeeded.`);
}
async function promotePhase(run) {
    await run.step('Check hydration', () => requireHydrationCheck(run));
    await run.step('Check production', () => run.requireProduction());
    if (run.inputs.blueGreen.dryRun)
        return planOnly(run, (await stagedDeployment(run)).manifest);
    await run.step('Acquire deploy lock', () => run.lock());
    const { staged, manifest } = await run.step('Read staged deploy', () => stagedDeployment(run));
    run.deployment.carryOn(staged.deploymentId);
    await run.deployment.status('in_progress', { description: 'Promoting.' });
    if (run.inputs.diff.mode !== 'off')
        await run.step('Data diff', () => diffStagedGreen(run, manifest));
    await promoteGreen(run, staged, manifest);
    for (const key of stagedKeys(run.keys))
        await run.clients.store.delete(key);
    await run.unlock();
    await run.recordPromoted();
    return 'promoted';
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/rollback.ts
// phase: rollback — swap the previous production (kept by keep-previous) back in. With
// keep-previous, the release it takes out of production is kept in turn, so a second rollback
// re-applies it; without, that release is dropped.







async function restoreManifest(run, previous) {
    const { store } = run.clients;
    const archived = previous.sha
        ? await store.get(archiveKey(run.inputs.state, previous.sha))
        : undefined;
    if (!archived || !previous.sha) {
        run.notes.push('No archived manifest of the previous production; manifest.json was left as it is.');
        return;
    }
    const current = await store.get(manifestKey(run.inputs.state));
    const condition = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' };
    await publishManifest(store, run.inputs.state, archived.body, condition, previous.sha);
}
async function requireKeptPrevious(run, previous) {
    const kept = await run.existingGreen();
    if (kept.schemas.length < run.config.schemas.length ||
        kept.clusters.length < run.config.clusters.length) {
        throw new errors/* ActionError */.lZ(`previous.json records ${describePrevious(previous)}, but its *_dbt_deploy schemas and clusters are gone, so there is nothing to roll back to. ` +
            'The next deploy drops what is left of it with its record; "phase: cleanup" does so now.');
    }
}
/**
 * Records the release the swap just took out of production, before anything else can fail:
 * previous.json then always describes what the *_dbt_deploy names hold.
 */
async function recordRolledBack(run, restored) {
    const rolledBack = keptAfterRollback(restored, new Date());
    await writeRecord(run.clients.store, run.keys.previous, rolledBack);
    return rolledBack;
}
async function keepOrDropRolledBack(run, rolledBack) {
    if (!run.inputs.blueGreen.keepPrevious) {
        await run.step('Drop rolled-back release', () => dropKeptPrevious(run, rolledBack));
        return;
    }
    run.notes.push(`The rolled-back release is kept under ${run.config.schemas.map(green).join(', ')}: a second "phase: rollback" re-applies it, the next deploy drops it.`);
}
/** A deployment of the restored release, which supersedes the rolled-back one. */
async function recordRollback(run, restored) {
    const sha = restored.sha ?? run.context.sha;
    await run.deployment.start({
        sha,
        environment: run.environment,
        transient: false,
        description: `dbt blue/green rollback of target ${run.config.target} to ${sha.slice(0, 7)}`,
        payload: { rollbackTo: restored.sha ?? null }
    });
    await run.recordPromoted('Rolled back.');
}
const keptPrevious = async (run) => previousToRollBack(await readGreenRecords(run), run.inputs.state.uri);
async function rollbackPhase(run) {
    // Checked in S3 alone first, so a refusal touches no SQL.
    await keptPrevious(run);
    await run.step('Check production', () => run.requireProduction());
    await run.step('Acquire deploy lock', () => run.lock());
    // Read again under the lock: a rollback that ran meanwhile rewrote the record.
    const previous = await keptPrevious(run);
    await run.step('Check kept previous', () => requireKeptPrevious(run, previous));
    await swapBack(run);
    const rolledBack = await recordRolledBack(run, previous);
    await run.step('Restore manifest', () => restoreManifest(run, previous));
    await keepOrDropRolledBack(run, rolledBack);
    await run.unlock();
    await recordRollback(run, previous);
    return 'rolled-back';
}

;// CONCATENATED MODULE: ./src/bluegreen/phases/status.ts
// phase: status — what exists now: production, what the *_dbt_deploy names hold (a staged deploy
// or the previous production kept for rollback) and who holds the deploy lock. It takes no lock
// and changes nothing, so it can run at any time, even while a deploy holds the lock.






async function lockHolder(run, now) {
    const object = await run.clients.store.get(run.keys.lock);
    if (!object)
        return null;
    const lease = parseLease(object.body);
    if (!lease)
        return { unreadable: true };
    const { owner, runUrl, acquiredAt, expiresAt } = lease;
    return { owner, runUrl, acquiredAt, expiresAt, expired: Date.parse(expiresAt) <= now };
}
async function readDeploymentState(run) {
    const wanted = productionNames(run.config);
    const found = await existingNames(await run.warehouse(), wanted);
    const missing = [
        ...wanted.schemas.filter((s) => !found.schemas.includes(s)),
        ...wanted.clusters.filter((c) => !found.clusters.includes(c))
    ];
    const manifest = await run.clients.store.get(manifestKey(run.inputs.state));
    const records = await readGreenRecords(run);
    const green = await run.existingGreen();
    const { staged, previous } = records;
    return {
        production: { ...found, missing, manifestSha: manifest?.metadata[GIT_SHA] ?? null },
        green: { holds: greenOccupant(records, green).kind, ...green },
        staged: staged ? { sha: staged.sha, stagedAt: staged.stagedAt, runUrl: staged.runUrl } : null,
        previous: previous ?? null,
        lock: await lockHolder(run, Date.now())
    };
}
const code = (names) => names.map((n) => `\`${cell(n)}\``).join(', ') || '–';
function lockRow(lock) {
    if (!lock)
        return 'free';
    if ('unreadable' in lock)
        return 'an object this action did not write (taken over by the next deploy)';
    const run = lock.runUrl ? ` (${cell(lock.runUrl)})` : '';
    const state = lock.expired ? 'expired' : 'expires';
    return `held by ${cell(lock.owner)}${run} since ${lock.acquiredAt}, ${state} ${lock.expiresAt}`;
}
function previousRow(previous) {
    const how = previous.keptBy === 'rollback' ? 'rolled back to' : 'replaced by';
    return `commit \`${cell(previous.sha ?? 'unknown')}\`, ${how} \`${cell(previous.replacedBy ?? 'unknown')}\`, kept ${previous.keptAt}`;
}
/** The state as a Markdown table for the job summary. */
function stateSection(state) {
    const { production, green, staged, previous } = state;
    const missing = production.missing.length > 0 ? `; missing: ${code(production.missing)}` : '';
    const rows = [
        [
            'Production',
            `${code([...production.schemas, ...production.clusters])}${missing}; manifest of commit \`${cell(production.manifestSha ?? 'none published')}\``
        ],
        ['Green names hold', `${green.holds}: ${code([...green.schemas, ...green.clusters])}`],
        [
            'Staged deploy',
            staged
                ? `commit \`${cell(staged.sha)}\`, staged ${staged.stagedAt}${staged.runUrl ? ` by ${cell(staged.runUrl)}` : ''}`
                : 'none'
        ],
        ['Kept previous', previous ? previousRow(previous) : 'none'],
        ['Deploy lock', lockRow(state.lock)]
    ];
    return [
        '### Deployment state',
        '',
        '| | |',
        '| --- | --- |',
        ...rows.map(([what, value]) => `| ${what} | ${value} |`)
    ].join('\n');
}
async function statusPhase(run) {
    const state = await run.step('Read deployment state', () => readDeploymentState(run));
    lib_core/* setOutput */.uH('state', JSON.stringify(state));
    lib_core/* info */.pq(JSON.stringify(state, null, 2));
    run.sections.push(stateSection(state));
    return 'reported';
}

;// CONCATENATED MODULE: ./src/main.ts
// Reads the inputs and runs the selected mode and phase.













const main_blueGreen = (phase) => (inputs, context) => runBlueGreen(inputs, context, phase);
const phases = {
    'slim:build': build_slimBuild,
    'slim:teardown': slimTeardown,
    'blue-green:all': main_blueGreen(allPhase),
    'blue-green:deploy': main_blueGreen(deployPhase),
    'blue-green:promote': main_blueGreen(promotePhase),
    'blue-green:cleanup': main_blueGreen(cleanupPhase),
    'blue-green:rollback': main_blueGreen(rollbackPhase),
    'blue-green:status': main_blueGreen(statusPhase)
};
function dispatch(inputs, context) {
    // The key always matches the inputs' own type: each key's handler takes exactly that type.
    const handler = phases[`${inputs.mode}:${inputs.phase}`];
    return handler(inputs, context);
}
async function run() {
    cancelOnSignals();
    try {
        const inputs = getInputs();
        await dispatch(inputs, readRunContext());
    }
    catch (error) {
        // A cancelled run fails on the way out; cancel.ts reports it and exits.
        if (cancelled.aborted)
            return;
        lib_core/* setOutput */.uH('status', 'failed');
        throw error;
    }
}


/***/ })

};
