// The TypeScript SDK's (@pulumi/esc-sdk 0.12.4) flow against `escc serve`, run by
// tests/it/serve_clients.rs with NODE_PATH at the packages `.ci/run` installs
// (target/esc-ts/node_modules). The same flow as tests/clients/python/flow.py, plus the
// environment tags the TS SDK wraps.
//
// Reads PULUMI_BACKEND_URL and PULUMI_ACCESS_TOKEN as the SDK does, and ESCC_ORG; prints
// one JSON object of what each call returned (the test asserts on it).
"use strict";
const esc = require("@pulumi/esc-sdk");

const ORG = process.env.ESCC_ORG;
const out = {};

async function failure(call) {
    try {
        await call();
    } catch (e) {
        if (e.response) {
            return { status: e.response.status, body: e.response.data };
        }
        throw e;
    }
    return null;
}

async function main() {
    const client = esc.DefaultClient();
    // `new EscApi(config)` keeps only the backend's host name (it drops the port);
    // server-api.md section 1. Set the API root again, port included.
    client.config.basePath = new URL("/api/esc", process.env.PULUMI_BACKEND_URL).toString();

    const envs = await client.listEnvironments(ORG);
    out.list = envs.environments.map((e) => [
        e.organization, e.project, e.name, Boolean(e.created), Boolean(e.modified),
    ]);
    const got = await client.getEnvironment(ORG, "app", "dev");
    out.get = got.yaml;

    const read = await client.openAndReadEnvironment(ORG, "app", "dev");
    out.values = read.values;
    out.password_is_secret = read.environment.properties.db.value.password.secret;

    const opened = await client.openEnvironment(ORG, "app", "dev");
    const prop = await client.readOpenEnvironmentProperty(ORG, "app", "dev", opened.id, "db.password");
    out.property = [prop.value, prop.property.secret, prop.property.trace.def.environment];
    const item = await client.readOpenEnvironmentProperty(ORG, "app", "dev", opened.id, "list[1]");
    out.item = item.value;

    const diagnostics = await client.updateEnvironmentYaml(
        ORG, "app", "dev", "imports:\n  - app/base\nvalues:\n  stage: updated\n",
    );
    out.update_diagnostics = diagnostics.diagnostics ?? null;
    const after = await client.openAndReadEnvironment(ORG, "app", "dev");
    out.after_update = after.values;
    // The session opened before the update still reads the revision it opened.
    const old = await client.readOpenEnvironment(ORG, "app", "dev", opened.id);
    out.old_session = old.values.db.host;

    out.bad_yaml = await failure(() =>
        client.updateEnvironmentYaml(ORG, "app", "dev", "values: {a: [1, 2\n"));
    out.missing = await failure(() => client.getEnvironment(ORG, "app", "nope"));

    // Environment tags (#20): create, list, get, rename with a new value, delete.
    await client.createEnvironmentTag(ORG, "app", "dev", "team", "payments");
    await client.createEnvironmentTag(ORG, "app", "dev", "tier", "gold");
    const tags = await client.listEnvironmentTags(ORG, "app", "dev");
    out.tags = Object.fromEntries(
        Object.entries(tags.tags).map(([k, t]) => [k, [t.name, t.value, t.editorLogin, Boolean(t.created)]]),
    );
    out.tag_duplicate = await failure(() => client.createEnvironmentTag(ORG, "app", "dev", "team", "x"));
    await client.updateEnvironmentTag(ORG, "app", "dev", "team", "payments", "owner", "billing");
    out.tag_renamed = (await client.getEnvironmentTag(ORG, "app", "dev", "owner")).value;
    out.tag_old_name = await failure(() => client.getEnvironmentTag(ORG, "app", "dev", "team"));
    out.tag_stale = await failure(() =>
        client.updateEnvironmentTag(ORG, "app", "dev", "owner", "payments", "owner", "x"));
    await client.deleteEnvironmentTag(ORG, "app", "dev", "tier");
    out.tags_after = Object.keys((await client.listEnvironmentTags(ORG, "app", "dev")).tags);
    console.log(JSON.stringify(out));
}

main().catch((e) => {
    // The status and the server's message only: never the request (it has the token).
    const detail = e.response ? `${e.response.status} ${JSON.stringify(e.response.data)}` : String(e);
    console.error(`flow.js: ${detail}`);
    process.exit(1);
});
