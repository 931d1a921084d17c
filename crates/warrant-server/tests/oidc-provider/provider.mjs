// A real OpenID provider (oidc-provider, OpenID-certified) for tests/oidc.rs, on loopback only.
//
//   node provider.mjs [PORT]
//
// Environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI (the one confidential
// client), OIDC_ACCOUNTS_FILE (a JSON file: login name -> claims such as email,
// email_verified, preferred_username; the login name is the subject; read at each sign-in, so
// a test can change a person's claims between two sign-ins). Listens on 127.0.0.1:PORT, by default on
// a free port the system chooses (so no two tests race for one), with the issuer
// http://localhost:PORT,
// a host name apart from the relying party's 127.0.0.1 so the two keep separate cookies, as
// two sites would. Prints `READY <issuer>` once it answers, and `TOKENS <json>` for every token
// response it sends, so the test can check that none of them reaches a page of Warrant.
//
// Sign-in uses the package's development interactions: a login form (any password) and then
// a consent form.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

const clientId = required('OIDC_CLIENT_ID');
const clientSecret = required('OIDC_CLIENT_SECRET');
const redirectUri = required('OIDC_REDIRECT_URI');
const accountsFile = required('OIDC_ACCOUNTS_FILE');

// A signing key of this run only, not the package's fixed development keys.
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

const server = createServer();
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://localhost:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name'],
    },
    // Unknown logins are still accounts (the dev login form takes any name), with no claims
    // beyond the subject.
    async findAccount(ctx, sub) {
      const claims = JSON.parse(readFileSync(accountsFile, 'utf8'))[sub] ?? {};
      return {
        accountId: sub,
        async claims() {
          return { sub, ...claims };
        },
      };
    },
  });
  provider.on('grant.success', (ctx) => {
    const { access_token: accessToken, id_token: idToken } = ctx.body ?? {};
    console.log(`TOKENS ${JSON.stringify({ access_token: accessToken, id_token: idToken })}`);
  });
  provider.on('server_error', (ctx, error) => console.error('provider server_error', error));
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
});

// The test closes stdin (or dies): stop with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
