#!/usr/bin/env bash
# Builds the three Dramble images for amd64, arm64 and arm/v7 with docker buildx and pushes them.
# Usage: npm run images -- <tag> [registry]      e.g. npm run images -- 0.1.0 ghcr.io/dramble
#   REGISTRY (default ghcr.io/dramble), PLATFORMS and PUSH=0 (build into the cache only) can also be
#   set in the environment. Needs a Docker engine with buildx and QEMU binfmt handlers for the arm
#   platforms (see k8s/README.md, "Building and pushing images").
set -euo pipefail

tag="${1:-}"
registry="${2:-${REGISTRY:-ghcr.io/dramble}}"
platforms="${PLATFORMS:-linux/amd64,linux/arm64,linux/arm/v7}"
if [[ -z "$tag" || "$tag" == "latest" ]]; then
  echo "usage: npm run images -- <tag> [registry]   (a pinned tag such as 0.1.0; not 'latest')" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! docker buildx version >/dev/null 2>&1; then
  echo "docker buildx is not available: install Docker with the buildx plugin" >&2
  exit 1
fi
# A docker-container builder is needed for multi-platform builds; create one once.
if ! docker buildx inspect dramble >/dev/null 2>&1; then
  docker buildx create --name dramble --driver docker-container >/dev/null
fi

output=(--push)
if [[ "${PUSH:-1}" == "0" ]]; then output=(); fi

for svc in balancer app db-manager; do
  image="$registry/$svc:$tag"
  echo "==> $image ($platforms)"
  docker buildx build \
    --builder dramble \
    --platform "$platforms" \
    --file "services/$svc/Dockerfile" \
    --tag "$image" \
    --label "org.opencontainers.image.version=$tag" \
    --label "org.opencontainers.image.revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "${output[@]}" \
    .
done
