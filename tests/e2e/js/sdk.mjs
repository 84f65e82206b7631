// The JavaScript Azure SDK (@azure/container-registry + @azure/identity) against berth.
//
// Run by tests/e2e/test_js_sdk.py with BERTH_URL (https://localhost:PORT), BERTH_TENANT,
// BERTH_CLIENT_ID, BERTH_CLIENT_SECRET and NODE_EXTRA_CA_CERTS (berth's local CA). The service
// principal signs in at berth's directory with ClientSecretCredential, seeds a repository through
// the content client, then lists, reads, updates and deletes repositories, tags and manifests,
// paging with small page sizes over several pages. Every check is an assertion here; on success
// the script prints one JSON line summarizing what it saw, for the Python test to check again.

import assert from "node:assert/strict";
import {
  ContainerRegistryClient,
  ContainerRegistryContentClient,
} from "@azure/container-registry";
import { ClientSecretCredential } from "@azure/identity";

const url = process.env.BERTH_URL;
const repository = process.env.BERTH_REPOSITORY ?? "js/paging";
const tagCount = Number(process.env.BERTH_TAG_COUNT ?? "7");
const audience = "https://containerregistry.azure.net"; // as the Python SDK suite

const credential = new ClientSecretCredential(
  process.env.BERTH_TENANT,
  process.env.BERTH_CLIENT_ID,
  process.env.BERTH_CLIENT_SECRET,
  { authorityHost: url, disableInstanceDiscovery: true },
);
const client = new ContainerRegistryClient(url, credential, { audience });
const content = new ContainerRegistryContentClient(url, repository, credential, { audience });

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function pages(pagedIterator, maxPageSize) {
  const result = [];
  for await (const page of pagedIterator.byPage({ maxPageSize })) result.push(page);
  return result;
}

async function pushImage(content, seed, tag) {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const layer = Buffer.from(`layer of ${seed}`);
  const configBlob = await content.uploadBlob(config);
  const layerBlob = await content.uploadBlob(layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configBlob.digest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerBlob.digest, size: layer.length }],
  };
  const result = await content.setManifest(manifest, { tag });
  return result.digest;
}

// --- seed: tagCount images, one tag each, plus a second tag on the first -----------------------
const tags = Array.from({ length: tagCount }, (_, i) => `v${String(i).padStart(2, "0")}`);
const digests = {};
for (const tag of tags) digests[tag] = await pushImage(content, `${repository}-${tag}`, tag);
const firstDigest = digests[tags[0]];
const pulled = await content.getManifest(tags[0]);
assert.equal(pulled.digest, firstDigest);
await content.setManifest(pulled.content, { tag: "latest" });
const allTags = [...tags, "latest"].sort();

// --- repositories, paged one at a time -----------------------------------------------------------
const others = new ContainerRegistryContentClient(url, "js/other", credential, { audience });
await pushImage(others, "other", "only"); // a second repository, so the catalog has two pages
const repositoryPages = await pages(client.listRepositoryNames(), 1);
const repositories = repositoryPages.flat();
assert.ok(repositoryPages.length >= 2, `one repository a page: ${JSON.stringify(repositoryPages)}`);
assert.ok(repositories.includes(repository) && repositories.includes("js/other"), repositories.join(","));

// --- tags: pages of 3 over every tag; the whole list; one tag's properties ----------------------
const repo = client.getRepository(repository);
const artifact = repo.getArtifact(tags[0]);
const tagPagesByName = (await pages(artifact.listTagProperties(), 3)).map((page) => page.map((t) => t.name));
const listedTags = (await collect(artifact.listTagProperties())).map((t) => t.name);
assert.deepEqual(listedTags, allTags, "every tag, across pages");
assert.deepEqual(tagPagesByName.flat(), allTags);
assert.ok(tagPagesByName.length >= 3, `pages of 3: ${JSON.stringify(tagPagesByName)}`);
assert.ok(tagPagesByName.every((page) => page.length <= 3));

const tagProperties = await artifact.getTagProperties("latest");
assert.equal(tagProperties.digest, firstDigest);
assert.equal(tagProperties.canWrite, true);

// --- manifests: pages of 2; properties; update ---------------------------------------------------
const manifestPages = await pages(repo.listManifestProperties(), 2);
const manifests = manifestPages.flat();
assert.ok(manifestPages.length >= 2, `pages of 2: ${manifestPages.map((p) => p.length)}`);
assert.deepEqual(manifests.map((m) => m.digest).sort(), [...new Set(Object.values(digests))].sort());
const first = manifests.find((m) => m.digest === firstDigest);
assert.deepEqual([...first.tags].sort(), ["latest", tags[0]]);

const manifestProperties = await artifact.getManifestProperties();
assert.equal(manifestProperties.digest, firstDigest);
assert.equal(manifestProperties.architecture, "amd64");
assert.equal(manifestProperties.operatingSystem, "linux");

const locked = await artifact.updateManifestProperties({ canDelete: false });
assert.equal(locked.canDelete, false);
assert.equal((await artifact.getManifestProperties()).canDelete, false);
await artifact.updateManifestProperties({ canDelete: true });
const updatedTag = await artifact.updateTagProperties("latest", { canWrite: false });
assert.equal(updatedTag.canWrite, false);
await artifact.updateTagProperties("latest", { canWrite: true });

// --- repository properties -----------------------------------------------------------------------
const repositoryProperties = await repo.getProperties();
assert.equal(repositoryProperties.name, repository);
assert.equal(repositoryProperties.tagCount, allTags.length);
assert.equal(repositoryProperties.manifestCount, tags.length);
const repositoryUpdated = await repo.updateProperties({ canList: false });
assert.equal(repositoryUpdated.canList, false);
await repo.updateProperties({ canList: true });

// --- delete: a tag, a manifest, a repository ------------------------------------------------------
await artifact.deleteTag("latest");
assert.deepEqual((await collect(artifact.listTagProperties())).map((t) => t.name), tags);
const last = repo.getArtifact(tags[tags.length - 1]);
await last.delete();
const remaining = (await collect(repo.listManifestProperties())).map((m) => m.digest);
assert.equal(remaining.length, tags.length - 1);
assert.ok(!remaining.includes(digests[tags[tags.length - 1]]));
await client.deleteRepository("js/other");
assert.ok(!(await collect(client.listRepositoryNames())).includes("js/other"));

console.log(
  JSON.stringify({
    repositoryPages,
    tagPages: tagPagesByName,
    manifestPages: manifestPages.map((page) => page.map((m) => m.digest)),
    remainingManifests: remaining.length,
  }),
);
