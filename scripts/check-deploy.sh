#!/usr/bin/env bash
# Check the deploy files with real tools: Prometheus rules (promtool check + unit tests), the systemd units
# (systemd-analyze verify + security), YAML (yamllint), nginx (nginx -t), Caddy (caddy validate), coturn (starts
# turnserver with the config on loopback), the Grafana dashboard (JSON), the Dockerfile's COPY sources, and that
# every metric name in the rules and the dashboard exists in the Rust sources; compose.yaml against the compose
# specification's schema (check-jsonschema from PyPI). docker compose and helm are used when installed (neither is
# in Debian 12); without helm, the chart's non-template files are linted only.
source "$(dirname "$0")/lib.sh"
T0=$SECONDS
D="$ROOT/deploy"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# prometheus ships promtool; nginx-light for nginx -t; caddy and coturn for their own validators.
step "Debian packages (prometheus, yamllint, nginx-light, caddy, coturn, openssl, systemd)" \
  need_debs prometheus yamllint nginx-light caddy coturn openssl systemd

check_yaml() {
  # Helm templates are Go templates, not YAML: linted by helm below.
  find deploy -name '*.yml' -o -name '*.yaml' | grep -v '^deploy/helm/plenum/templates/' | sort \
    | xargs yamllint --strict -c deploy/yamllint.yml
}
step "yamllint (deploy/**/*.yml, *.yaml)" check_yaml

step "promtool check config + rules" promtool check config "$D/prometheus/prometheus.yml"
step "promtool test rules (alert unit tests)" promtool test rules "$D/prometheus/alerts.test.yml"

# Every metric a rule or panel queries must be one plenum exports: plenum_* names as string literals in the
# Rust sources; process_* names from the metrics-process crate (its source in cargo's registry). up and
# probe_success come from Prometheus and the blackbox exporter themselves.
check_metric_names() {
  local names metric missing=0
  names=$( { grep -v '^ *#' "$D/prometheus/alerts.yml" | grep -oE '(plenum|process)_[a-z_]+'
             jq -r '.. | .expr? // empty' "$D/grafana/plenum.json" | grep -oE '(plenum|process)_[a-z_]+'; } \
           | sed -E 's/_(bucket|sum|count)$//' | sort -u)
  [ -n "$names" ] || { echo "no metric names found"; return 1; }
  local process_src
  process_src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/metrics-process-*/src 2>/dev/null | tail -1 || true)
  if [ -z "$process_src" ]; then
    cargo fetch --locked -q
    process_src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/metrics-process-*/src | tail -1)
  fi
  for metric in $names; do
    case "$metric" in
      process_*) grep -rqF "{prefix}$metric\"" "$process_src" || { echo "unknown metric $metric (not in $process_src)"; missing=1; } ;;
      *) grep -rqF "\"$metric\"" sfu/src signaling/src || { echo "unknown metric $metric (not in sfu/src or signaling/src)"; missing=1; } ;;
    esac
  done
  [ $missing -eq 0 ] && echo "$(echo "$names" | wc -l) metric names, all exported by plenum"
  for extra in $(grep -hoE '\b(up|probe_success)\{' "$D/prometheus/alerts.yml" | tr -d '{' | sort -u); do
    echo "  + $extra (from Prometheus / the blackbox exporter)"
  done
  return $missing
}
step "metric names in alerts.yml and plenum.json exist in the sources" check_metric_names

check_dashboard() {
  jq -e '.uid and .title and (.panels | length > 0)' "$D/grafana/plenum.json" >/dev/null
  # Every panel queries something, and every query has a datasource and a refId.
  jq -e '[.panels[] | select(.type != "row") | (.targets | length > 0) and all(.targets[]; .expr != "" and .refId != "" and .datasource.uid != null)] | all' \
    "$D/grafana/plenum.json" >/dev/null
  echo "$(jq '[.panels[] | select(.type != "row")] | length' "$D/grafana/plenum.json") panels"
}
step "Grafana dashboard JSON" check_dashboard

# systemd-analyze verify needs the unit's executable and systemd's own units: an offline root with both
# (a stub plenum, since the real binary is not installed here; no systemd needs to run).
check_systemd() {
  local root="$TMP/sysroot" out
  mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/usr/bin"
  cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
  printf '#!/bin/sh\n' > "$root/usr/local/bin/plenum"; chmod +x "$root/usr/local/bin/plenum"
  cp "$D/systemd/plenum.service" "$root/etc/systemd/system/"
  local units=(plenum.service)
  if [ -f /lib/systemd/system/coturn.service ]; then
    cp /lib/systemd/system/coturn.service "$root/etc/systemd/system/"
    cp /usr/bin/turnserver "$root/usr/bin/"
    mkdir -p "$root/etc/systemd/system/coturn.service.d"
    cp "$D/systemd/coturn.service.d/plenum.conf" "$root/etc/systemd/system/coturn.service.d/"
    units+=(coturn.service)
  fi
  # Unknown keys and bad values are only warnings for systemd: any output fails the check.
  out=$(systemd-analyze verify --root="$root" "${units[@]}" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
  echo "verified: ${units[*]}"
  systemd-analyze security --offline=yes --root="$root" --threshold=20 plenum.service | tail -1
}
step "systemd-analyze verify + security (offline)" check_systemd

# nginx -t on the example site inside a throwaway main config, with a throwaway certificate.
check_nginx() {
  local n="$TMP/nginx"
  mkdir -p "$n"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=meet.example.org \
    -keyout "$n/privkey.pem" -out "$n/fullchain.pem" 2>/dev/null
  sed "s#/etc/ssl/plenum/#$n/#" "$D/proxy/nginx.conf" > "$n/site.conf"
  cat > "$n/nginx.conf" <<CONF
pid $n/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path $n/body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    include $n/site.conf;
}
CONF
  nginx -t -q -p "$n" -c "$n/nginx.conf"
}
step "nginx -t (deploy/proxy/nginx.conf)" check_nginx

check_caddy() {
  caddy validate --config "$D/proxy/Caddyfile" --adapter caddyfile 2>&1 | grep -E "Valid configuration|error" || return 1
  # caddy fmt prints the canonical form: the example should already be in it.
  caddy fmt "$D/proxy/Caddyfile" | diff -u "$D/proxy/Caddyfile" -
}
step "caddy validate (deploy/proxy/Caddyfile)" check_caddy

# coturn has no check-only mode: start turnserver with the config (placeholders filled in, loopback ports, a
# throwaway certificate) and fail on any configuration complaint in its start-up output.
check_coturn() {
  local c="$TMP/coturn" out port=$((20000 + RANDOM % 10000))
  mkdir -p "$c"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=turn.example.org \
    -keyout "$c/privkey.pem" -out "$c/fullchain.pem" 2>/dev/null
  sed -e 's/REPLACE_TURN_SECRET/check-secret/; s/REPLACE_TURN_REALM/turn.example.org/; s/REPLACE_SFU_IP/10.1.2.3/' \
      -e "s#^cert=.*#cert=$c/fullchain.pem#; s#^pkey=.*#pkey=$c/privkey.pem#" \
      -e "s/^listening-port=.*/listening-port=$port/; s/^tls-listening-port=.*/tls-listening-port=$((port + 1))/" \
      "$D/coturn/turnserver.conf" > "$c/turnserver.conf"
  grep -v '^#' "$c/turnserver.conf" | grep -q REPLACE_ && { echo "a REPLACE_ placeholder is not covered by this check"; return 1; }
  printf 'listening-ip=127.0.0.1\n' >> "$c/turnserver.conf"
  out=$(timeout 2 turnserver -c "$c/turnserver.conf" --pidfile= --userdb="$c/turndb" 2>&1 || true)
  if grep -iE "bad configuration|error|cannot (find|start|open|bind|read)" <<<"$out"; then return 1; fi
  grep -q "Private key file found" <<<"$out" || { echo "turnserver did not load the TLS files"; return 1; }
  grep -q "White listing: 10.1.2.3" <<<"$out" || { echo "turnserver did not read the config:"; echo "$out" | head -20; return 1; }
  grep -q "Relay ports initialization done" <<<"$out" || { echo "turnserver did not start:"; echo "$out" | tail -20; return 1; }
  echo "turnserver accepted the config ($(grep -c 'Black listing' <<<"$out") denied peer ranges)"
}
step "coturn: turnserver starts with deploy/coturn/turnserver.conf" check_coturn

# No Docker daemon here to build the image: check that every file the Dockerfile copies from the build context
# exists and is not excluded by .dockerignore, and that the stages it copies from are defined.
check_dockerfile() {
  local f="$D/docker/Dockerfile" src bad=0
  for src in $(grep -E '^COPY ' "$f" | grep -v -- '--from=' | sed -E 's/^COPY +//' | awk '{ for (i = 1; i < NF; i++) print $i }'); do
    [ -e "$ROOT/$src" ] || { echo "Dockerfile copies $src, which does not exist"; bad=1; }
    if grep -qxF "${src%/}" .dockerignore; then echo "Dockerfile copies $src, which .dockerignore excludes"; bad=1; fi
  done
  for stage in $(grep -oE -- '--from=[a-z]+' "$f" | cut -d= -f2 | sort -u); do
    grep -qE "^FROM .* AS $stage\$" "$f" || { echo "COPY --from=$stage: no such stage"; bad=1; }
  done
  return $bad
}
step "Dockerfile: copied paths and stages exist" check_dockerfile

# check-jsonschema (PyPI) validates compose.yaml against the compose specification's JSON schema, which it ships;
# installed into a venv under target/ when deploy/requirements-check.txt changed.
check_compose_schema() {
  local venv="$ROOT/target/check-deploy-venv" stamp
  stamp="$venv/.requirements"
  if [ ! -x "$venv/bin/check-jsonschema" ] || ! cmp -s "$D/requirements-check.txt" "$stamp"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$D/requirements-check.txt"
    cp "$D/requirements-check.txt" "$stamp"
  fi
  "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$D/docker/compose.yaml"
}
step "compose.yaml against the compose-spec schema (check-jsonschema)" check_compose_schema

check_compose() {
  if docker compose version >/dev/null 2>&1; then
    mkdir -p "$TMP/compose"
    # Placeholder .env and secrets, only for `config` (it resolves them but starts nothing).
    (cd "$D/docker" && env PLENUM_PUBLIC_URL=https://meet.example.org PLENUM_PUBLIC_IP=203.0.113.10 \
      TURN_HOST=turn.example.org POSTGRES_PASSWORD=check docker compose -f compose.yaml config -q)
  else
    echo "SKIPPED: docker compose is not installed (the compose plugin is not in Debian 12); the schema check above covers compose.yaml"
    # What can be checked without it: every file the services mount from the repository exists (secrets/ and
    # tls/ are made by the operator, see deploy/docker/README.md).
    /usr/bin/python3 - "$D/docker/compose.yaml" <<'PY'
import os, sys, yaml
path = sys.argv[1]
base = os.path.dirname(path)
doc = yaml.safe_load(open(path))
missing = []
for name, svc in doc["services"].items():
    for vol in svc.get("volumes", []):
        src = vol.split(":")[0]
        if src.startswith(".") and not src.startswith(("./secrets", "./tls")):
            if not os.path.exists(os.path.join(base, src)):
                missing.append(f"{name}: {src}")
    build = svc.get("build")
    if build and not os.path.exists(os.path.join(base, build["context"], build["dockerfile"])):
        missing.append(f"{name}: build {build}")
if missing:
    sys.exit("compose.yaml mounts what does not exist: " + ", ".join(missing))
print("compose.yaml: every mounted repository file exists")
PY
  fi
}
step "docker compose config" check_compose

check_helm() {
  local chart="$D/helm/plenum"
  if command -v helm >/dev/null; then
    helm lint --strict "$chart" --set secrets.tokenSecret=0123456789abcdef0123456789abcdef
    helm template check "$chart" >/dev/null
    helm template check "$chart" --set media.mode=service --set media.publicIP=203.0.113.10 \
      --set persistence.enabled=false --set secrets.databaseUrl=postgres://u:p@db/plenum >/dev/null
  else
    echo "SKIPPED: helm is not installed (not in Debian 12); Chart.yaml and values.yaml were linted by yamllint"
    grep -q '^apiVersion: v2$' "$chart/Chart.yaml"
  fi
}
step "helm lint + template" check_helm

echo "deploy checks passed in $((SECONDS - T0)) s"
