#!/bin/sh
# Deploys one overlay with every DataLab image pinned to one tag (a commit's images, as CI
# pushed them), waits for each rollout, and rolls every Deployment back if one of them fails.
#
#   infrastructure/k8s/deploy.sh <overlay> <tag> [render|apply]
#
# `render` prints the manifests (what `apply` would send); `apply` needs kubectl access to the
# cluster. DATALAB_REGISTRY overrides the registry (default ghcr.io/datalab).
set -eu

usage() {
  echo "usage: $0 <staging|production|production-gpu|production-istio> <image tag> [render|apply]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
overlay=$1
tag=$2
mode=${3:-apply}
registry=${DATALAB_REGISTRY:-ghcr.io/datalab}
root=$(cd "$(dirname "$0")" && pwd)
[ -d "$root/overlays/$overlay" ] || usage
case $tag in *[!A-Za-z0-9_.-]*|'') echo "invalid image tag: $tag" >&2; exit 2 ;; esac
case $mode in render|apply) ;; *) usage ;; esac

services="api-gateway data-service ai-service compute-service viz-service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  # kustomize takes only relative paths to other kustomizations.
  echo "  - $(realpath --relative-to="$work" "$root/overlays/$overlay")"
  echo "images:"
  for service in $services; do
    echo "  - name: ghcr.io/datalab/$service"
    echo "    newName: $registry/$service"
    echo "    newTag: \"$tag\""
  done
} > "$work/kustomization.yaml"
kubectl kustomize "$work" > "$work/manifests.yaml"

if [ "$mode" = render ]; then
  cat "$work/manifests.yaml"
  exit 0
fi

namespace=$(awk '/^kind: Namespace/ { found = 1 } found && /^  name:/ { print $2; exit }' "$work/manifests.yaml")
deployments=$(awk '/^kind: Deployment/ { found = 1 } found && /^  name:/ { print $2; found = 0 }' "$work/manifests.yaml")
kubectl apply --server-side --field-manager=datalab-deploy -f "$work/manifests.yaml"
for deployment in $deployments; do
  if ! kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout=10m; then
    echo "deployment/$deployment did not become ready: rolling every deployment back" >&2
    for back in $deployments; do kubectl -n "$namespace" rollout undo "deployment/$back" || true; done
    exit 1
  fi
done
echo "$overlay is running $registry/*:$tag"
