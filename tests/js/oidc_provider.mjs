// A real OpenID Provider on 127.0.0.1 — the certified `oidc-provider` package — for the single
// sign-on tests and for trying single sign-on locally (`make oidc-provider`, see the README).
//
// Its sign-in page accepts any email as the login and any password: it signs that person in
// with a verified email and a name made from the email, or with the claims below for the few
// people the tests need to be special. Settings, all optional, from the environment:
//   OIDC_PROVIDER_PORT            port (9000)
//   OIDC_PROVIDER_REDIRECT_URIS   the web client's redirect URIs, comma separated
//                                 (http://127.0.0.1:5000/auth/oidc/callback and localhost)
//   OIDC_PROVIDER_JWKS            a file with the signing keys (a private JWKS); else dev keys
//   OIDC_PROVIDER_ISSUER          the issuer it names itself (http://127.0.0.1:PORT)
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PROVIDER_PORT || 9000);
const issuer = process.env.OIDC_PROVIDER_ISSUER || `http://127.0.0.1:${port}`;
const redirectUris = (process.env.OIDC_PROVIDER_REDIRECT_URIS
  || "http://127.0.0.1:5000/auth/oidc/callback,http://localhost:5000/auth/oidc/callback").split(",");
// After RP-initiated logout the provider sends people back to the community's sign-in page.
const postLogoutRedirectUris = redirectUris.map((uri) => new URL("/login", uri).href);
const appRedirectUri = "com.example.roundtable:/oidc";

const WEB_CLIENT = { client_id: "roundtable-web", client_secret: "roundtable-demo-secret",
  redirect_uris: redirectUris, post_logout_redirect_uris: postLogoutRedirectUris };
// Mobile apps are public clients: no secret, PKCE. `roundtable-short` issues ID tokens that
// expire after two seconds; `other-app` is a client the community does not accept.
const appClient = (clientId) => ({ client_id: clientId, application_type: "native",
  token_endpoint_auth_method: "none", redirect_uris: [appRedirectUri] });

// Its pages are plain HTML: nothing is loaded from elsewhere.
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${escape(title)}</title></head>
<body style="font-family: sans-serif; max-width: 24rem; margin: 3rem auto">${body}</body></html>`;

const PEOPLE = {
  "unverified@acme.test": { email_verified: false },
  "dana@acme.test": { name: "Dana Diaz", job_title: "Claims Analyst" },
  // Claims an organization she does not belong to: the community must go by her email's domain.
  "gina@globex.test": { name: "Gina Gray", organization: "Acme Insurance" },
};

function claimsFor(login) {
  const email = login.trim().toLowerCase();
  const local = email.split("@")[0].replace(/[._-]+/g, " ");
  const name = local.replace(/\b\w/g, (letter) => letter.toUpperCase());
  return { sub: email, email, email_verified: true, name, ...PEOPLE[email] };
}

const configuration = {
  clients: [WEB_CLIENT, appClient("roundtable-mobile"), appClient("roundtable-short"), appClient("other-app")],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "job_title", "organization"] },
  // ID tokens carry the profile and email claims, as most providers' do, so an app can send it alone.
  conformIdTokenClaims: false,
  cookies: { keys: ["roundtable-test-provider-cookie-key"] },
  pkce: { required: () => true },
  ttl: { IdToken: (ctx, token, client) => (client.clientId === "roundtable-short" ? 2 : 3600) },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page("Sign out", `<h1>Sign out of the test identity provider?</h1>${form}
<p><button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></p>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page("Signed out", "<h1>You are signed out.</h1>");
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Error", `<h1>${escape(out.error)}</h1><p>${escape(out.error_description || "")}</p>`);
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!id.includes("@")) return undefined;
    return { accountId: id, claims: async () => claimsFor(id) };
  },
};
if (process.env.OIDC_PROVIDER_JWKS) {
  configuration.jwks = JSON.parse(readFileSync(process.env.OIDC_PROVIDER_JWKS, "utf8"));
}

const provider = new Provider(issuer, configuration);

const signInPage = (uid, hint) => page("Test identity provider", `<h1>Test identity provider</h1>
<p>Sign in as anyone: any email, any password.</p>
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label>Email <input name="login" type="email" required autofocus value="${escape(hint || "")}"></label></p>
<p><label>Password <input name="password" type="password" required></label></p>
<p><button type="submit">Sign in</button></p></form>`);

async function formBody(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET" && !match[2] && details.prompt.name === "consent") {
    // People are not asked to consent: the community is the vendor's own first-party client.
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
  } else if (ctx.method === "GET" && !match[2]) {
    ctx.type = "html";
    ctx.body = signInPage(details.uid, details.params.login_hint);
  } else if (ctx.method === "POST" && match[2]) {
    const login = (await formBody(ctx.req)).get("login") || "";
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login.trim().toLowerCase() } },
      { mergeWithLastSubmission: false });
  } else {
    ctx.status = 405;
  }
});
provider.listen(port, "127.0.0.1", () => {
  console.log(`OpenID provider ${issuer} ready (clients: roundtable-web / roundtable-demo-secret, roundtable-mobile)`);
});
