// Validates an OpenAPI document (a JSON file) with @seriousme/openapi-schema-validator and
// requires it to be OpenAPI 3.1. Usage: node openapi_validate.mjs <file.json>
// The package is not vendored: it is resolved from the current directory's node_modules (or
// from PN_NODE_MODULES_DIR, the directory that holds node_modules), e.g. after
//   cd /tmp/x && npm install @seriousme/openapi-schema-validator@2.11.0
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { argv, cwd, env, exit } from "node:process";
import { pathToFileURL } from "node:url";

const PKG = "@seriousme/openapi-schema-validator";

async function loadValidator() {
  const bases = [env.PN_NODE_MODULES_DIR, cwd()].filter(Boolean);
  for (const base of bases) {
    try {
      const resolved = createRequire(join(base, "noop.js")).resolve(PKG);
      return (await import(pathToFileURL(resolved).href)).Validator;
    } catch {
      // try the next base
    }
  }
  console.error(`openapi_validate: cannot find ${PKG}; run "npm install ${PKG}@2.11.0" in the ` +
                `current directory or set PN_NODE_MODULES_DIR`);
  exit(2);
}

const file = argv[2];
if (!file) {
  console.error("usage: node openapi_validate.mjs <openapi.json>");
  exit(2);
}
let spec;
try {
  spec = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  console.error(`openapi_validate: ${file}: ${e.message}`);
  exit(1);
}
const Validator = await loadValidator();
const validator = new Validator();
const res = await validator.validate(spec);
if (!res.valid) {
  console.error(`openapi_validate: ${file} is not a valid OpenAPI document:`);
  console.error(JSON.stringify(res.errors, null, 2));
  exit(1);
}
if (validator.version !== "3.1") {
  console.error(`openapi_validate: ${file} is OpenAPI ${validator.version}, expected 3.1`);
  exit(1);
}
console.log(`openapi_validate: ${file} is a valid OpenAPI ${validator.version} document`);
