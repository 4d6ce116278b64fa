// Better Auth's own client library (better-auth/client) and password hash
// (better-auth/crypto), driven step by step by the Neon API sandbox's Go
// tests: each run does one step against a branch's base URL and prints one
// JSON object on stdout.
//
//   node client.mjs hash PASSWORD          {"hash": "..."}
//   node client.mjs verify HASH PASSWORD   {"ok": true|false}
//   node client.mjs encrypt SECRET TEXT    {"stored": "..."}, as the JWT plugin stores a private key
//   node client.mjs decrypt SECRET STORED  {"text": "..."}
//   node client.mjs sign-up                {"signUp": {data, error}}
//   node client.mjs sign-in                {"signIn", "session", "sessions", "token", "jwks"}
//
// sign-up and sign-in read BASE_URL, EMAIL, PASSWORD, NAME and ORIGIN (sent
// as the Origin header, as a browser on the app would) from the environment.
// Node's fetch keeps no cookies: the session cookie Better Auth sets is
// taken from each answer's Set-Cookie in the onResponse hook and sent back
// in onRequest, which is what a browser's cookie jar does for the client.
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";
import { hashPassword, symmetricDecrypt, symmetricEncrypt, verifyPassword } from "better-auth/crypto";

const [step, ...args] = process.argv.slice(2);

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function client() {
  const jar = new Map();
  const authClient = createAuthClient({
    baseURL: env("BASE_URL"),
    plugins: [jwtClient()],
    fetchOptions: {
      headers: { Origin: env("ORIGIN") },
      onRequest(ctx) {
        if (jar.size > 0) {
          ctx.headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
        }
        return ctx;
      },
      onResponse(ctx) {
        for (const line of ctx.response.headers.getSetCookie()) {
          const [pair, ...attrs] = line.split(";");
          const eq = pair.indexOf("=");
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          const expired = attrs.some((a) => a.trim().toLowerCase() === "max-age=0");
          if (expired || value === "") jar.delete(name);
          else jar.set(name, value);
        }
      },
    },
  });
  return { authClient, jar };
}

// plain keeps what JSON can carry of a client result: {data, error}.
function plain(result) {
  return JSON.parse(JSON.stringify({ data: result.data ?? null, error: result.error ?? null }));
}

async function main() {
  switch (step) {
    case "hash":
      return { hash: await hashPassword(args[0]) };
    case "verify":
      return { ok: await verifyPassword({ hash: args[0], password: args[1] }) };
    case "encrypt":
      return { stored: JSON.stringify(await symmetricEncrypt({ key: args[0], data: args[1] })) };
    case "decrypt":
      return { text: await symmetricDecrypt({ key: args[0], data: JSON.parse(args[1]) }) };
    case "sign-up": {
      const { authClient } = client();
      const signUp = await authClient.signUp.email({
        email: env("EMAIL"),
        password: env("PASSWORD"),
        name: env("NAME"),
      });
      return { signUp: plain(signUp) };
    }
    case "sign-in": {
      const { authClient, jar } = client();
      const signIn = plain(await authClient.signIn.email({ email: env("EMAIL"), password: env("PASSWORD") }));
      if (signIn.error) return { signIn };
      const out = { signIn, cookies: [...jar.keys()] };
      out.session = plain(await authClient.getSession());
      out.sessions = plain(await authClient.listSessions());
      out.token = plain(await authClient.token());
      out.jwks = plain(await authClient.jwks());
      return out;
    }
    default:
      throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out) + "\n"),
  (err) => {
    process.stderr.write(String(err?.stack ?? err) + "\n");
    process.exit(1);
  },
);
