// A real OAuth 2.0 / OpenID Connect server (panva/oidc-provider, certified)
// on 127.0.0.1 for authcfg's tests. Prints one line `READY <json>` with its
// issuer once it accepts connections, and counts token grants at
// GET /_test/stats so tests can prove single-flight refreshes.
import http from 'node:http';
import Provider from 'oidc-provider';

let accessTtl = Number(process.env.ACCESS_TTL || 3600);
const secrets = {
  basic: process.env.SECRET_BASIC || 'basic-secret-planted-7c1',
  post: process.env.SECRET_POST || 'post-secret-planted-9d2',
  machine: process.env.SECRET_MACHINE || 'machine-secret-planted-3e4',
};
const loopback = ['http://127.0.0.1/callback'];
const codeGrants = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];

process.stdout.on('error', () => {});
const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const stats = { grants: {}, errors: {}, revocations: 0, gitAuth: { ok: 0, denied: 0 } };
const provider = new Provider(issuer, {
  clients: [
    { client_id: 'public-native', application_type: 'native', token_endpoint_auth_method: 'none',
      redirect_uris: loopback, grant_types: codeGrants, response_types: ['code'] },
    { client_id: 'conf-basic', client_secret: secrets.basic, application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic', redirect_uris: loopback, grant_types: codeGrants, response_types: ['code'] },
    { client_id: 'conf-post', client_secret: secrets.post, application_type: 'native',
      token_endpoint_auth_method: 'client_secret_post', redirect_uris: loopback, grant_types: codeGrants, response_types: ['code'] },
    { client_id: 'machine', client_secret: secrets.machine, token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [], grant_types: ['client_credentials'], response_types: [] },
  ],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'api:read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: process.env.PEER_EMAIL || `${id}@example.test`, email_verified: true, name: id }),
  }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: () => accessTtl, ClientCredentials: () => accessTtl, DeviceCode: 600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600 },
  cookies: { keys: ['authcfg-test-cookie-key'] },
});
provider.proxy = false;
provider.on('grant.success', (ctx) => {
  const g = ctx.oidc.params.grant_type;
  stats.grants[g] = (stats.grants[g] || 0) + 1;
});
provider.on('grant.error', (ctx, err) => {
  const g = ctx.oidc.params?.grant_type || 'unknown';
  stats.errors[`${g}:${err.error}`] = (stats.errors[`${g}:${err.error}`] || 0) + 1;
});
provider.on('grant.revoked', () => { stats.revocations += 1; });
provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/stats') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/_test/git-auth') {
    // For nginx's auth_request in front of git http-backend: 204 when the
    // Basic password is an access token this server issued and that has not
    // expired (or been revoked), else 401.
    const m = /^Basic (.+)$/i.exec(ctx.get('authorization') || '');
    let ok = false;
    if (m) {
      const decoded = Buffer.from(m[1], 'base64').toString();
      const token = await provider.AccessToken.find(decoded.slice(decoded.indexOf(':') + 1));
      ok = !!token && !token.isExpired;
    }
    stats.gitAuth[ok ? 'ok' : 'denied'] += 1;
    ctx.status = ok ? 204 : 401;
    return;
  }
  if (ctx.path === '/_test/ttl') {
    // Lifetime of access tokens issued from now on, in seconds.
    accessTtl = Number(ctx.query.seconds);
    ctx.body = { accessTtl };
    return;
  }
  // A hostile provider, for the outside-text tests: PEER_AUTH_ERROR sends
  // the browser back to the client with error=access_denied and this
  // error_description; PEER_DEVICE_FIELDS (JSON) replaces fields of the
  // device authorization answer; PEER_EMAIL (above) is every account's
  // e-mail claim; PEER_ECHO_TOKEN (below).
  if (process.env.PEER_AUTH_ERROR && ctx.path === '/auth' && ctx.query.redirect_uri) {
    const back = new URL(ctx.query.redirect_uri);
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', process.env.PEER_AUTH_ERROR);
    back.searchParams.set('state', ctx.query.state || '');
    ctx.redirect(back.href);
    return;
  }
  await next();
  if (process.env.PEER_DEVICE_FIELDS && ctx.path === '/device/auth' && ctx.body && typeof ctx.body === 'object') {
    Object.assign(ctx.body, JSON.parse(process.env.PEER_DEVICE_FIELDS));
  }
  // PEER_ECHO_TOKEN: userinfo names the account by the bearer token it was
  // sent (a provider that echoes the credential back).
  if (process.env.PEER_ECHO_TOKEN && ctx.path === '/me' && ctx.body && typeof ctx.body === 'object') {
    const bearer = (ctx.get('authorization') || '').replace(/^\S+\s+/, '');
    Object.assign(ctx.body, { email: bearer, name: bearer });
  }
});
server.on('request', provider.callback());
process.stdout.write(`READY ${JSON.stringify({ issuer, port: server.address().port })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
