// A real OpenID provider (panva/oidc-provider) for Dossier's single sign-on tests.
//
// Started by tests/oidc/provider.py with a JSON configuration in the environment variable
// PROVIDER_CONFIG: {"clients": [...], "users_file": "...", "modes": {"client-id": "mode"}}.
// It listens on a free loopback port, prints one JSON line {"issuer": ...} when it is ready,
// and serves discovery, JWKS, authorisation (with its own login page), token, userinfo and
// RP-initiated logout.
//
// Users live in a JSON file read again at every log-in, so a test can change someone's
// groups "at the identity provider" between two log-ins:
//   {"alice": {"password": "...", "email": "...", "name": "...", "groups": ["..."]}}
//
// Test-only modes per client id change the ID token in the token response after the provider
// made it, to prove that the relying party checks what it receives:
//   tamper          the payload is altered and the provider's signature kept (broken signature)
//   wrong_audience  re-signed with the provider's own key, for another audience
//   expired         re-signed with the provider's own key, expired half an hour ago
//   unsigned        "alg": "none" and no signature
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.PROVIDER_CONFIG || '{}');
const modes = config.modes || {};

function readUsers() {
  return JSON.parse(readFileSync(config.users_file, 'utf8'));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(ctx, accountId) {
    const user = readUsers()[accountId];
    if (!user) return undefined;
    return {
      accountId,
      async claims() {
        return {
          sub: accountId,
          email: user.email,
          email_verified: user.email_verified ?? true,
          name: user.name,
          groups: user.groups || [],
        };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out from the test identity provider?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></body></html>`;
      },
    },
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
});

// Test-only rework of the ID token a mode client receives (see the top of this file).
async function rework(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const sign = (changed) => new SignJWT(changed)
    .setProtectedHeader(decodeProtectedHeader(idToken))
    .sign(signingKey);
  switch (mode) {
    case 'tamper':
      return [header, base64url.encode(JSON.stringify({ ...claims, sub: 'someone-else' })), signature].join('.');
    case 'wrong_audience': {
      const { azp, ...rest } = claims;
      return sign({ ...rest, aud: 'another-application' });
    }
    case 'expired':
      return sign({ ...claims, iat: now - 3600, exp: now - 1800, auth_time: now - 3600 });
    case 'unsigned':
      return [base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' })), payload, ''].join('.');
    default:
      throw new Error(`unknown test mode ${mode}`);
  }
}

provider.use(async (ctx, next) => {
  await next();
  const mode = modes[ctx.oidc?.client?.clientId];
  if (mode && ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await rework(ctx.body.id_token, mode) };
  }
});

function loginPage(uid, message = '') {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Sign in at the test identity provider</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(html);
}

// The provider's own interaction pages: a username and password check, then consent given
// at once (Dossier is a first-party application of this organisation).
async function interaction(req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'POST' && url.pathname.endsWith('/login')) {
    const form = await readForm(req);
    const user = readUsers()[form.get('login')];
    if (!user || user.password !== form.get('password')) {
      return send(res, 200, loginPage(uid, 'Unknown user or wrong password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, {
      mergeWithLastSubmission: false,
    });
  }
  if (prompt.name === 'login') return send(res, 200, loginPage(uid));
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((error) => send(res, 400, escapeHtml(error.message)));
  } else {
    callback(req, res);
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
