#!/usr/bin/env bash
# Set-up command (README): prepares everything, then starts the platform's main job on the
# embedded default stack (Pulumi.dev.yaml) against the local simulated cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
exec npm start
