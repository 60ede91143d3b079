// A real OpenID provider for signaling/tests/oidc.rs: the oidc-provider package with its development login and
// consent pages, one static confidential client, and accounts whose claims carry roles. Listens on 127.0.0.1 (an
// ephemeral port) and prints {"issuer": "http://127.0.0.1:PORT"} as its first line of output once it serves.
//
// Environment: REDIRECT_URI (the client's one redirect URI), CLIENT_ID, CLIENT_SECRET, ACCOUNTS (JSON: login name →
// claims, e.g. {"alice": {"email": "alice@example.org", "name": "Alice", "roles": ["plenum-admin"]}}), and
// ROLES_IN_ID_TOKEN=1 to put the scopes' claims into the ID token as well (oidc-provider's default, like the
// specification's, is to return them from the userinfo endpoint only when an access token is issued).
import http from 'node:http';
import Provider from 'oidc-provider';

const need = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const redirectUri = need('REDIRECT_URI');
const clientId = need('CLIENT_ID');
const clientSecret = need('CLIENT_SECRET');
const accounts = JSON.parse(need('ACCOUNTS'));

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      roles: ['roles', 'realm_access'],
    },
    conformIdTokenClaims: process.env.ROLES_IN_ID_TOKEN !== '1',
    async findAccount(_ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    // Plenum always sends a PKCE challenge; make the provider insist on it.
    pkce: { required: () => true },
    cookies: { keys: ['plenum-oidc-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

// Stop with the test: when its stdin closes (the test process ended or dropped the child).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
