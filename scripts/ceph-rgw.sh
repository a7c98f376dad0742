#!/usr/bin/env bash
# A single-node Ceph cluster with the RADOS Gateway (RGW), a real and strict
# S3 server for hokan's tests, run as plain processes (no systemd, no
# containers) with everything in one folder.
#
#   scripts/ceph-rgw.sh start DIR [PORT]   start (or, if running, just report)
#   scripts/ceph-rgw.sh stop DIR           stop it (by pid files); DIR stays
#   scripts/ceph-rgw.sh env DIR            print the exports for the tests
#
# PORT is RGW's S3 port on 127.0.0.1 (default 7480); the monitor listens on
# PORT+1 (msgr v2) and PORT+2 (v1), so clusters on different ports coexist.
# Needs Debian's ceph-mon ceph-mgr ceph-osd radosgw ceph-common (Pacific):
#   apt-get install -y --no-install-recommends ceph-mon ceph-mgr ceph-osd radosgw ceph-common
# About 16 s from nothing to a working endpoint, about 0.5 GB of memory, an
# 8 GiB sparse file for the OSD (about 100 MB really used).
#
# Test-only: authentication between the daemons is off and the S3 user's
# keys are fixed, public values.
set -euo pipefail

ACCESS_KEY=hokan-rgw-test-key
SECRET=hokan-rgw-test-secret

die() { echo "ceph-rgw.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_ceph() {
  local missing=()
  for b in ceph-mon ceph-mgr ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "Ceph is not installed (missing ${missing[*]}); install it with:
  apt-get install -y --no-install-recommends ceph-mon ceph-mgr ceph-osd radosgw ceph-common"
  fi
}

# Whether the process of pid file $1 runs.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

endpoint_of() { echo "http://127.0.0.1:$(cat "$1/port")"; }

# Whether RGW answers S3 on DIR's port.
answers() {
  local port
  port=$(cat "$1/port" 2>/dev/null) || return 1
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"
}

print_env() {
  echo "export HOKAN_TEST_RGW_ENDPOINT=$(endpoint_of "$1") HOKAN_TEST_RGW_ACCESS_KEY=$ACCESS_KEY HOKAN_TEST_RGW_SECRET=$SECRET"
}

# Run a daemon in the foreground (-f) in the background, its pid in DIR/run.
spawn() {
  local name=$1; shift
  "$@" >>"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

ceph_cli() { timeout 30 ceph -c "$dir/ceph.conf" "$@"; }

# Wait up to $1 seconds for command "${@:2}" to succeed.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.3
  done
}

osd_up() { ceph_cli osd dump 2>/dev/null | grep -q '^osd\.0 up'; }

fail_start() {
  echo "ceph-rgw.sh: $1; the logs are in $dir/log:" >&2
  tail -n 20 "$dir"/log/*.out >&2 || true
  stop_all
  exit 1
}

write_conf() {
  local fsid port mon2 mon1
  fsid=$(cat /proc/sys/kernel/random/uuid)
  port=$1 mon2=$(($1 + 1)) mon1=$(($1 + 2))
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# Without this radosgw loops on "get_initial_auth_request returned -13".
ms mon client mode = crc secure
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.ceph.pid
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# The monitor stops itself when its disk is under 5 % free otherwise.
mon data avail warn = 2
mon data avail crit = 1
mon warn on pool no redundancy = false

[mon.a]
mon data = $dir/mon/a

[mgr.x]
mgr data = $dir/mgr/x

[osd.0]
osd data = $dir/osd/0
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 8589934592
# Not inside "osd data": bluestore links it there (ELOOP otherwise).
bluestore block path = $dir/osd-block
osd memory target = 939524096

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw enable usage log = false
EOF
}

start() {
  dir=$1
  local port=${2:-7480}
  need_ceph
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/port" ] && alive "$dir/run/rgw.pid" && answers "$dir"; then
    echo "ceph-rgw.sh: already running in $dir on $(endpoint_of "$dir")" >&2
    print_env "$dir"
    return
  fi
  command -v curl >/dev/null || die "curl is needed (apt-get install -y curl)"
  # Whatever was left of an earlier run in DIR (killed, rebooted): stop it.
  stop_all
  mkdir -p "$dir/run" "$dir/log"
  local begin=$SECONDS
  if [ ! -f "$dir/ready" ]; then
    # A fresh cluster.
    rm -rf "$dir/mon" "$dir/mgr" "$dir/osd" "$dir/osd-block" "$dir/rgw" "$dir/keyring"
    mkdir -p "$dir/mon/a" "$dir/mgr/x" "$dir/osd/0" "$dir/rgw"
    echo "$port" >"$dir/port"
    write_conf "$port"
    ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$dir/keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
    monmaptool --create --fsid "$(sed -n 's/^fsid = //p' "$dir/ceph.conf")" \
      --addv a "[v2:127.0.0.1:$((port + 1)),v1:127.0.0.1:$((port + 2))]" "$dir/monmap" >/dev/null
    ceph-mon -c "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
      >>"$dir/log/mkfs.out" 2>&1 || fail_start "ceph-mon --mkfs failed"
  else
    port=$(cat "$dir/port")
  fi
  spawn mon ceph-mon -c "$dir/ceph.conf" -i a -f
  spawn mgr ceph-mgr -c "$dir/ceph.conf" -i x -f
  wait_for 60 ceph_cli mon stat || fail_start "the monitor did not answer within 60 s"
  if [ ! -f "$dir/ready" ]; then
    local uuid
    uuid=$(cat /proc/sys/kernel/random/uuid)
    ceph_cli osd new "$uuid" 0 >/dev/null || fail_start "ceph osd new failed"
    ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs --osd-uuid "$uuid" \
      >>"$dir/log/mkfs.out" 2>&1 || fail_start "ceph-osd --mkfs failed"
  fi
  spawn osd ceph-osd -c "$dir/ceph.conf" -i 0 -f
  wait_for 90 osd_up || fail_start "osd.0 was not up within 90 s"
  spawn rgw radosgw -c "$dir/ceph.conf" -n client.rgw.a -f
  wait_for 90 answers "$dir" || fail_start "RGW did not answer on port $port within 90 s"
  if [ ! -f "$dir/ready" ]; then
    timeout 60 radosgw-admin -c "$dir/ceph.conf" user create --uid=hokan-test \
      --display-name="hokan tests" --access-key=$ACCESS_KEY --secret=$SECRET \
      >>"$dir/log/user.out" 2>&1 || fail_start "radosgw-admin user create failed"
    touch "$dir/ready"
  fi
  echo "ceph-rgw.sh: Ceph RGW up in $dir on $(endpoint_of "$dir") after $((SECONDS - begin)) s" >&2
  print_env "$dir"
}

# Kill DIR's daemons by their pid files (TERM, then KILL after 10 s).
stop_all() {
  local pids=() f
  for f in rgw osd mgr mon; do
    if alive "$dir/run/$f.pid"; then
      pids+=("$(cat "$dir/run/$f.pid")")
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  local end=$((SECONDS + 10)) p
  while [ $SECONDS -lt $end ]; do
    local left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left = 1 ] || break
    sleep 0.2
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -f "$dir"/run/*.pid
}

cmd=${1:-}
case "$cmd" in
  start)
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    start "$2" "${3:-}"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    [ -d "$2" ] || exit 0
    dir=$(cd "$2" && pwd)
    stop_all
    ;;
  env)
    [ $# -eq 2 ] || usage
    [ -f "$2/port" ] || die "no cluster in $2 (start it first)"
    print_env "$2"
    ;;
  *) usage ;;
esac
