// A real OpenID Connect provider for planflow's sign-in tests: the certified `oidc-provider`, with
// its development login form (any login name is accepted; it becomes the subject), one client
// registered for planflow's callback, and the accounts' claims (email, name, groups) read from a
// JSON file at every sign-in, so that a test can change a person's groups between two sign-ins.
//
// Environment: ACCOUNTS (the JSON file: subject -> claims), JWKS (a JSON file with the private
// signing keys, so that a test can also forge tokens with the provider's own key), REDIRECT_URI and
// POST_LOGOUT_REDIRECT_URI (planflow's), CLIENT_SECRET. Listens on an ephemeral port on 127.0.0.1
// and prints one line of JSON, {"issuer": ...}, when it is ready.
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const accounts = () => JSON.parse(fs.readFileSync(env('ACCOUNTS'), 'utf8'));

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'planflow',
      client_secret: env('CLIENT_SECRET'),
      redirect_uris: [env('REDIRECT_URI')],
      post_logout_redirect_uris: [env('POST_LOGOUT_REDIRECT_URI')],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: JSON.parse(fs.readFileSync(env('JWKS'), 'utf8')),
    cookies: { keys: ['planflow-test-cookie-key'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { email: ['email', 'email_verified'], profile: ['name'], groups: ['groups', 'hasgroups'] },
    // The claims in the ID token, as Entra ID sends them (not only from the userinfo endpoint).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return { sub: id, ...(accounts()[id] || {}) }; } };
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
