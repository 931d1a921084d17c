// A real OAuth 2.1 authorization server (oidc-provider, OpenID-certified) for the gateway's
// tests (tests/oauth.rs), on loopback only. It issues client-credentials access tokens as JWTs
// (RFC 9068) whose audience is the resource the client asks for (RFC 8707 resource indicators).
//
//   node provider.mjs [PORT]
//
// Environment:
//   GW_OIDC_KEY_FILE  a private JWK (JSON) to sign with; created with a fresh RSA key when the
//                     file does not exist, so two providers can share a key (another issuer,
//                     same key) and a restart with a new file is a key rotation.
//   GW_OIDC_CLIENTS   JSON: [{"client_id", "client_secret", "task"?}]; a client with a `task`
//                     gets it as the `task` claim of its tokens.
// Listens on 127.0.0.1:PORT (by default a free port), issuer http://127.0.0.1:PORT, and prints
// `READY <issuer>` once it answers.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const keyFile = required('GW_OIDC_KEY_FILE');
const clients = JSON.parse(required('GW_OIDC_CLIENTS'));

if (!existsSync(keyFile)) {
  const key = {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: randomUUID(),
    use: 'sig',
    alg: 'RS256',
  };
  writeFileSync(keyFile, JSON.stringify(key));
}
const signingKey = JSON.parse(readFileSync(keyFile, 'utf8'));
const tasks = Object.fromEntries(clients.filter((c) => c.task).map((c) => [c.client_id, c.task]));

const server = createServer();
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: clients.map(({ client_id, client_secret }) => ({
      client_id,
      client_secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        // Any resource the client names becomes the audience: the tests ask for the gateway's
        // and for another one (which the gateway must refuse).
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'mcp',
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    async extraTokenClaims(ctx, token) {
      const task = tasks[token.clientId];
      return task ? { task } : undefined;
    },
  });
  provider.on('server_error', (ctx, error) => console.error('provider server_error', error));
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
});

// The test closes stdin (or dies): stop with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
