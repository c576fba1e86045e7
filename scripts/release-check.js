#!/usr/bin/env node
// The release's facts, read from the files that hold them, for the workflows in .github/workflows/:
//
//   node scripts/release-check.js                       names: repository, images, add-on architectures
//   node scripts/release-check.js --tag v1.2.3          … and fails unless every version says 1.2.3
//   node scripts/release-check.js --repository o/n      … and fails unless package.json names o/n
//   node scripts/release-check.js --root DIR            reads DIR instead of this repository (tests)
//
// The GitHub owner/name is written in one place, package.json's repository.url; the image names derive from
// it: ghcr.io/<owner>/<name> for the container image and ghcr.io/<owner>/{arch}-addon-<package name> for the
// Home Assistant add-on (which ocpp-splitter/config.yaml's `image:` must say). Prints `key=value` lines and,
// in GitHub Actions, appends them to $GITHUB_OUTPUT; problems go to stderr, one line each, with exit 1.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const REGISTRY = 'ghcr.io';
const TAG = /^v(\d+\.\d+\.\d+)$/;
const GITHUB_REPOSITORY_URL = /^(?:git\+)?https:\/\/github\.com\/([\w.-]+)\/([\w.-]+?)(?:\.git)?$/;
/** Home Assistant architecture → the container platform its images are built for. */
const PLATFORM_OF_ARCH = { amd64: 'linux/amd64', aarch64: 'linux/arm64' };

const { values } = parseArgs({
  options: {
    tag: { type: 'string' },
    repository: { type: 'string' },
    root: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) },
  },
});
const root = values.root;
const problems = [];

const read = (path) => readFileSync(join(root, path), 'utf8');
const packageJson = JSON.parse(read('package.json'));
const addon = parseYaml(read('ocpp-splitter/config.yaml'));
const build = parseYaml(read('ocpp-splitter/build.yaml'));

const match = GITHUB_REPOSITORY_URL.exec(packageJson.repository?.url ?? '');
if (match === null) {
  problems.push(`package.json: repository.url must be https://github.com/<owner>/<name>(.git), not ${JSON.stringify(packageJson.repository?.url)}`);
}
const [owner, name] = match === null ? ['unknown', 'unknown'] : [match[1], match[2]];
const repository = `${owner}/${name}`;
// Registries want lower case; GitHub names are case-insensitive.
const image = `${REGISTRY}/${repository.toLowerCase()}`;
const addonImage = `${REGISTRY}/${owner.toLowerCase()}/{arch}-addon-${packageJson.name}`;

if (values.repository !== undefined && values.repository !== '' && values.repository.toLowerCase() !== repository.toLowerCase()) {
  problems.push(
    `this runs in ${values.repository}, but package.json's repository.url names ${repository}: the images would go to someone else's ` +
      `registry. Change repository.url (and the files the tests check against it) first.`,
  );
}
if (addon.image !== addonImage) {
  problems.push(`ocpp-splitter/config.yaml: image is ${JSON.stringify(addon.image)}; from package.json it must be ${addonImage}`);
}
const arches = Array.isArray(addon.arch) ? addon.arch : [];
const bases = build.build_from ?? {};
for (const arch of arches) {
  if (!(arch in PLATFORM_OF_ARCH)) problems.push(`ocpp-splitter/config.yaml: arch ${arch} is not one the workflows build (${Object.keys(PLATFORM_OF_ARCH).join(', ')})`);
  if (typeof bases[arch] !== 'string') problems.push(`ocpp-splitter/build.yaml: no build_from for ${arch}`);
}
for (const arch of Object.keys(bases)) {
  if (!arches.includes(arch)) problems.push(`ocpp-splitter/build.yaml: build_from names ${arch}, which config.yaml's arch does not list`);
}

if (values.tag !== undefined) {
  const version = TAG.exec(values.tag)?.[1];
  if (version === undefined) {
    problems.push(`tag ${values.tag}: a release tag is vX.Y.Z`);
  } else {
    const lock = JSON.parse(read('package-lock.json'));
    const versions = [
      ['package.json', packageJson.version],
      ['package-lock.json', lock.version],
      ['package-lock.json (packages[""])', lock.packages?.['']?.version],
      ['ocpp-splitter/config.yaml', addon.version],
    ];
    for (const [file, found] of versions) {
      if (found !== version) problems.push(`${file}: version is ${JSON.stringify(found)}, the tag says ${version}`);
    }
    // Keep a Changelog: "## [1.2.3] - 2026-01-31"; the add-on's: "## 1.2.3".
    if (!new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\]`, 'm').test(read('CHANGELOG.md'))) {
      problems.push(`CHANGELOG.md: no "## [${version}]" heading (rename [Unreleased] to [${version}] - <date>)`);
    }
    if (!new RegExp(`^## ${version.replaceAll('.', '\\.')}$`, 'm').test(read('ocpp-splitter/CHANGELOG.md'))) {
      problems.push(`ocpp-splitter/CHANGELOG.md: no "## ${version}" heading`);
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) process.stderr.write(`release-check: ${problem}\n`);
  process.exit(1);
}

const outputs = {
  repository,
  version: packageJson.version,
  image,
  addon_image: addonImage,
  /** {"amd64":"ghcr.io/<owner>/amd64-addon-<name>", …} */
  addon_images: JSON.stringify(Object.fromEntries(arches.map((arch) => [arch, addonImage.replace('{arch}', arch)]))),
  addon_bases: JSON.stringify(Object.fromEntries(arches.map((arch) => [arch, bases[arch]]))),
  addon_platforms: JSON.stringify(Object.fromEntries(arches.map((arch) => [arch, PLATFORM_OF_ARCH[arch]]))),
};
const lines = Object.entries(outputs).map(([key, value]) => `${key}=${value}\n`).join('');
process.stdout.write(lines);
if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, lines);
