// node validate-manifests.mjs NODE_MODULES FILE.yaml...
// Validates every document of the given Kubernetes manifests against the Kubernetes OpenAPI schema as published in the
// npm package kubernetes-models (its generated validators: types, required fields, enums, formats), and checks that the
// validator can fail at all (a DaemonSet with a wrongly typed field and one missing its selector must be refused).
// Prints "ok: ..." / "FAILED: ..." lines; exits 1 on any failure. What it cannot see: unknown field names (the
// OpenAPI schema does not forbid them; the API server's strict field validation would), so NetlinkFence.Tests'
// KubernetesManifestTests check the security-relevant fields by name.
import { readFileSync } from "node:fs";
import { join, basename } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, ...files] = process.argv.slice(2);
const { parseAllDocuments } = await import(pathToFileURL(join(modules, "yaml", "dist", "index.js")));
let failures = 0;
const ok = (m) => console.log(`ok: ${m}`);
const bad = (m, e) => { failures++; console.log(`FAILED: ${m}${e ? `\n    ${String(e.message ?? e).split("\n").join("\n    ")}` : ""}`); };

async function model(apiVersion, kind) {
  const dir = apiVersion.includes("/") ? apiVersion : `v1`;   // core group: kubernetes-models/v1/KIND.js
  return (await import(pathToFileURL(join(modules, "kubernetes-models", dir, `${kind}.js`))))[kind];
}
async function validate(doc) {
  const Kind = await model(doc.apiVersion, doc.kind);
  new Kind(doc).validate();
}

const daemonSets = [];
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const parsed of docs) {
    if (parsed.errors.length) { bad(`${basename(file)} parses as YAML`, parsed.errors[0]); continue; }
    const doc = parsed.toJS({ maxAliasCount: 100 });
    if (doc === null) continue;
    const what = `${basename(file)}: ${doc.kind} ${doc.metadata?.name}`;
    try { await validate(doc); ok(`${what} is valid against the Kubernetes schema (kubernetes-models)`); }
    catch (e) { bad(`${what} is valid against the Kubernetes schema (kubernetes-models)`, e); }
    if (doc.kind === "DaemonSet") daemonSets.push(doc);
  }
}

// The validator must be able to say no.
for (const ds of daemonSets) {
  const wrongType = structuredClone(ds);
  wrongType.spec.updateStrategy.rollingUpdate.maxUnavailable = { nodes: 1 };
  const noSelector = structuredClone(ds);
  delete noSelector.spec.selector;
  const capabilityString = structuredClone(ds);
  capabilityString.spec.template.spec.containers[0].securityContext.capabilities.add = "NET_ADMIN";
  for (const [name, broken] of [["maxUnavailable as an object", wrongType], ["no selector", noSelector],
    ["capabilities.add a string, not a list", capabilityString]]) {
    try { await validate(broken); bad(`the schema refuses the DaemonSet with ${name}`); }
    catch { ok(`the schema refuses the DaemonSet with ${name}`); }
  }
}
if (daemonSets.length === 0) bad("the manifests hold a DaemonSet");
process.exit(failures === 0 ? 0 : 1);
