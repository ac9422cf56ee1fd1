#!/usr/bin/env bash
# A self-contained Eddy (no .NET needed where it runs) for linux-x64 in artifacts/publish/: the eddy binary, the
# examples, and the geolocation database when one is present. The Dockerfile copies exactly this folder, and
# scripts/walkthrough-test.sh runs this script and the binary it produced.
#   scripts/publish.sh [output-folder]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${1:-$root/artifacts/publish}
# shellcheck source=scripts/prereqs.sh
source "$root/scripts/prereqs.sh"
ensure_prereqs
ensure_geo_db
rm -rf "$out"
mkdir -p "$out"
echo "publishing eddy (Release, linux-x64, self-contained) into $out" >&2
dotnet publish "$root/src/Eddy.Cli/Eddy.Cli.csproj" -c Release -r linux-x64 --self-contained true \
  -p:PublishReadyToRun=true -o "$out/bin" -nologo -v quiet -clp:ErrorsOnly >&2
cp -r "$root/examples" "$out/examples"
if [ -n "${EDDY_GEO_DATABASE:-}" ]; then geo=$EDDY_GEO_DATABASE
elif [ -n "${EDDY_HOME:-}" ]; then geo=$EDDY_HOME/geo/dbip-city
else geo=${XDG_DATA_HOME:-$HOME/.local/share}/eddy/geo/dbip-city
fi
if compgen -G "$geo/*.mmdb" >/dev/null; then
  mkdir -p "$out/geo"
  cp "$geo"/* "$out/geo/"
else
  echo "publish: no geolocation database in $geo; get_location() will need one (scripts/fetch-geo-db.sh)" >&2
  mkdir -p "$out/geo"
fi
echo "$out/bin/eddy"
