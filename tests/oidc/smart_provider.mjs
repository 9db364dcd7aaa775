// A real SMART on FHIR authorization server for isotrack's SMART launch tests: the
// certified `oidc-provider` package, configured here for SMART App Launch 2.x (test
// configuration only) and started by tests/oidc/smart_provider.py on a free loopback port.
// It listens on 127.0.0.1 only and stops when its parent closes stdin.
//
// Environment: SMART_PORT (required), SMART_REDIRECT_URIS (comma-separated),
// FHIR_UPSTREAM and FHIR_UPSTREAM_TOKEN (optional: a FHIR server the EHR's FHIR base
// proxies to, and the bearer token that server accepts).
//
// The EHR's FHIR base is `${issuer}/fhir`: it serves `.well-known/smart-configuration`
// and, with FHIR_UPSTREAM, forwards every other request to that FHIR server (so that
// `iss` is one URL for discovery and for the data, as at a real EHR) once the request's
// bearer token is an access token this server issued and that has not expired (else 401);
// the FHIR server's own URLs in its answers are rewritten to the FHIR base.
// What the EHR does before it launches an app, tests do through `POST /test/launches`
// (JSON {patient, appContext?, fhirContext?} -> {launch}); the standalone patient picker
// is `POST /test/standalone` (JSON {patient}); `GET /test/chart?src=<url>` is a chart
// page of the EHR that shows <url> in a frame.
// The authorization request must carry aud = the FHIR base and a known launch (if any);
// the token response carries `patient`, `fhirContext` and `appContext` of the launch.
// Accounts (any password): dr.smart (Practitioner, grants what is asked), nurse.smart
// (PractitionerRole), limited (declines the patient data scopes but allows sign-in),
// declines (is asked to consent; the tests press Cancel), visitor (RelatedPerson).
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.SMART_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('SMART_PORT must be a port number');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const fhirBase = `${issuer}/fhir`;
const upstream = (process.env.FHIR_UPSTREAM || '').replace(/\/$/, '');
const upstreamToken = process.env.FHIR_UPSTREAM_TOKEN || '';
const redirectUris = (process.env.SMART_REDIRECT_URIS || '').split(',').filter(Boolean);

const ACCOUNTS = {
  'dr.smart': { name: 'Dr Sam Smart', fhirUser: `${fhirBase}/Practitioner/dr-smart` },
  'nurse.smart': { name: 'Nia Nurse', fhirUser: 'PractitionerRole/nurse-1' },
  limited: { name: 'Lee Limited', fhirUser: 'Practitioner/limited' },
  declines: { name: 'Dee Clines', fhirUser: 'Practitioner/declines' },
  visitor: { name: 'Val Visitor', fhirUser: 'RelatedPerson/visitor' },
};
const PATIENT_DATA = /^(patient|user)\//;
const RESOURCE_SCOPES = [
  'Patient', 'Observation', 'Condition', 'MedicationRequest', 'MedicationStatement', 'Procedure',
].map((type) => `patient/${type}.rs`);
const SCOPES = [
  'openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'patient/*.rs',
  ...RESOURCE_SCOPES, 'patient/DocumentReference.c',
];

const launches = new Map(); // launch id -> {patient, appContext, fhirContext}
const contextOfGrant = new Map(); // grant id -> launch context
let standalone = null;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'isotrack',
    client_secret: 'isotrack-smart-test-secret-not-used-anywhere-else',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: SCOPES,
  claims: { openid: ['sub'], fhirUser: ['fhirUser', 'name', 'preferred_username'] },
  conformIdTokenClaims: false,
  extraParams: ['launch', 'aud'],
  features: { devInteractions: { enabled: true } },
  async loadExistingGrant(ctx) {
    const { accountId } = ctx.oidc.session;
    if (accountId === 'declines') return undefined; // asked to consent
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
    const asked = String(ctx.oidc.params.scope || '').split(' ').filter(Boolean);
    const refused = accountId === 'limited' ? asked.filter((s) => PATIENT_DATA.test(s)) : [];
    grant.addOIDCScope(asked.filter((s) => !refused.includes(s)).join(' '));
    if (refused.length) grant.rejectOIDCScope(refused.join(' '));
    grant.addOIDCClaims(['fhirUser', 'name', 'preferred_username']);
    const id = await grant.save();
    contextOfGrant.set(id, contextOf(ctx.oidc.params));
    return grant;
  },
  async findAccount(ctx, id) {
    const known = ACCOUNTS[id] || { name: id };
    return { accountId: id, async claims() { return { sub: id, preferred_username: id, ...known }; } };
  },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
});

function contextOf(params) {
  if (params.launch) return launches.get(params.launch) || null;
  return standalone ? { patient: standalone } : null;
}

function smartConfiguration() {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    grant_types_supported: ['authorization_code'],
    response_types_supported: ['code'],
    scopes_supported: SCOPES,
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
    capabilities: [
      'launch-ehr', 'launch-standalone', 'client-confidential-symmetric', 'context-ehr-patient',
      'context-standalone-patient', 'sso-openid-connect', 'permission-patient', 'permission-v2',
    ],
  };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

async function proxy(ctx) {
  const bearer = /^Bearer (.+)$/i.exec(ctx.headers.authorization || '');
  const token = bearer && await provider.AccessToken.find(bearer[1]);
  if (!token) {
    ctx.status = 401;
    ctx.body = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: 'no valid access token' }],
    };
    return;
  }
  const headers = { ...ctx.headers, authorization: `Bearer ${upstreamToken}` };
  delete headers.host;
  delete headers['content-length'];
  const hasBody = !['GET', 'HEAD'].includes(ctx.method);
  const chunks = [];
  if (hasBody) for await (const chunk of ctx.req) chunks.push(chunk);
  const body = hasBody ? Buffer.concat(chunks) : undefined;
  const answer = await fetch(upstream + ctx.url.slice('/fhir'.length), {
    method: ctx.method, headers, body,
  });
  ctx.status = answer.status;
  const type = answer.headers.get('content-type');
  if (type) ctx.type = type;
  // the server's own URLs (paging links, fullUrls) as the EHR's FHIR base, as a gateway does
  ctx.body = (await answer.text()).replaceAll(upstream, fhirBase);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/fhir/.well-known/smart-configuration') {
    ctx.body = smartConfiguration();
    return;
  }
  if (ctx.path.startsWith('/fhir/') || ctx.path === '/fhir') {
    if (!upstream) { ctx.status = 404; ctx.body = { error: 'no FHIR server behind this EHR' }; return; }
    await proxy(ctx);
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/test/launches') {
    const launch = crypto.randomUUID();
    launches.set(launch, await readJson(ctx.req));
    ctx.body = { launch };
    return;
  }
  if (ctx.method === 'GET' && ctx.path === '/test/chart') {
    // the EHR's chart page showing an app in a frame (the app's launch URL in `src`)
    const src = String(ctx.query.src || '').replaceAll('"', '&quot;');
    ctx.type = 'html';
    ctx.body = `<!doctype html><html lang="en"><title>Chart</title><h1>Chart</h1>
<iframe src="${src}" title="isotrack" width="1200" height="900"></iframe></html>`;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/test/standalone') {
    standalone = (await readJson(ctx.req)).patient || null;
    ctx.body = { patient: standalone };
    return;
  }
  if (ctx.path === '/auth') {
    const { aud, launch } = ctx.query;
    if (aud !== fhirBase) { ctx.status = 400; ctx.body = `aud must be ${fhirBase}`; return; }
    if (launch && !launches.has(launch)) { ctx.status = 400; ctx.body = 'unknown launch'; return; }
  }
  await next();
  if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.access_token) {
    const code = ctx.oidc.entities.AuthorizationCode;
    const context = code && contextOfGrant.get(code.grantId);
    const scopes = String(ctx.body.scope || '').split(' ');
    if (context && (scopes.includes('launch') || scopes.includes('launch/patient'))) {
      ctx.body.patient = context.patient;
      if (context.fhirContext) ctx.body.fhirContext = context.fhirContext;
      if (context.appContext) ctx.body.appContext = context.appContext;
    }
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`SMART authorization server listening on ${issuer}, FHIR base ${fhirBase}`);
});
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
