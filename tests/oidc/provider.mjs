// A real OpenID Provider for isotrack's SSO tests: the certified `oidc-provider` package,
// configured here (test configuration only) and started by tests/oidc/provider.py on a
// free loopback port. It listens on 127.0.0.1 only and stops when its parent closes stdin.
//
// Environment: OIDC_PORT (required), OIDC_REDIRECT_URIS (comma-separated, for every client).
// Clients: `isotrack` (confidential, client_secret_basic, PKCE required) and `other-app`
// (another relying party of the same provider: its ID tokens carry another audience).
// Accounts: any login signs in (the provider's development login form); the groups claim
// comes from ACCOUNTS below, an unknown login has no groups.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('OIDC_PORT must be a port number');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.OIDC_REDIRECT_URIS || '').split(',').filter(Boolean);

export const ACCOUNTS = {
  'dr.sso': { name: 'Dr Sam Sso', email: 'sam.sso@clinic.test', groups: ['derm-prescribers', 'all-staff'] },
  'ph.sso': { name: 'Pat Pharma', email: 'pat.pharma@clinic.test', groups: ['pharmacy'] },
  'visitor': { name: 'Val Visitor', email: 'val@clinic.test', groups: ['marketing'] },
  'two.hats': { name: 'Two Hats', email: 'two@clinic.test', groups: ['derm-prescribers', 'pharmacy'] },
};

const client = (clientId) => ({
  client_id: clientId,
  client_secret: `${clientId}-test-secret-not-used-anywhere-else`,
  redirect_uris: redirectUris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('isotrack'), client('other-app')],
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // the groups (and profile) claims go into the ID token itself, as most clinic IdPs do
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  // a first-party app: the clinic's staff are not asked to consent
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['name', 'preferred_username', 'email', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const known = ACCOUNTS[id] || { name: id, email: `${id}@clinic.test`, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, ...known };
      },
    };
  },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
