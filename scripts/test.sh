#!/usr/bin/env bash
# The whole test suite, with its set-up. README's test command; .ci/run calls it.
#
#   scripts/test.sh            lint, short fuzz run, then every test
#   FUZZ_SECONDS=0 scripts/test.sh   skip fuzzing (e.g. while iterating)
#
# Tests need: python3 (for moto and aiosmtpd), mount/umount and root
# for the full-disk tmpfs test, losetup/lsblk/mkfs.ext4 and root for the
# removable-disk test on a real ext4 image (both say SKIPPED loudly without
# root), nft (nftables) and ip (iproute2) and root for hokan-vault's firewall
# test in two network namespaces (it fails, never skips, without them), moto's S3 server (`pip install 'moto[server]'`, done below) for
# hokan-s3, aiosmtpd's SMTP server (`pip install aiosmtpd`, done below) for
# hokan-notify, chromium, poppler-utils and fonts-noto-cjk for the report's
# PDF test (it fails, never skips, without them), chromium-driver for the
# dashboard's browser test (it fails, never skips, without it; its
# screenshots are left in target/test-artifacts/web), and cargo-nextest (falls
# back to cargo test), and Debian's Ceph (ceph-mon ceph-mgr ceph-osd radosgw
# ceph-common, installed below) for the tests on a real, strict S3 server: one
# single-node Ceph RGW cluster (scripts/ceph-rgw.sh) is started in a temporary
# folder before the tests, named to them by HOKAN_TEST_RGW_*, and stopped and
# removed at exit. Everything else is Rust crates.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v mount >/dev/null || need_apt+=(mount)
command -v losetup >/dev/null || need_apt+=(util-linux)
command -v lsblk >/dev/null || need_apt+=(util-linux)
command -v mkfs.ext4 >/dev/null || need_apt+=(e2fsprogs)
command -v systemd-analyze >/dev/null || need_apt+=(systemd)   # schedules checked against systemd's own calendar
command -v nft >/dev/null || need_apt+=(nftables)   # the vault's firewall, tested in network namespaces
command -v ip >/dev/null || need_apt+=(iproute2)    # ip netns and veth for that test
# The inspection report printed to PDF (crates/cli/tests/report_pdf.rs):
# headless Chromium, poppler's pdfinfo/pdftotext, and a Japanese font.
command -v chromium >/dev/null || need_apt+=(chromium)
# The dashboard driven in Chromium over WebDriver (crates/cli/tests/browser.rs).
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=ja 2>/dev/null)" ]; } || need_apt+=(fonts-noto-cjk)
# moto's S3 server for hokan-s3's tests comes from PyPI through pip.
{ python3 -c 'import moto.server' 2>/dev/null && python3 -c 'import aiosmtpd' 2>/dev/null; } \
  || python3 -m pip --version >/dev/null 2>&1 \
  || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
# A real, strict S3 server for the tests: Ceph RGW (Debian's packages,
# without the recommends: no systemd units or extra tools are needed).
ceph_pkgs=()
for b in ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common; do
  command -v "${b%%:*}" >/dev/null || ceph_pkgs+=("${b#*:}")
done
if [ ${#ceph_pkgs[@]} -gt 0 ]; then
  echo "== installing ${ceph_pkgs[*]} (Ceph RGW, a strict S3 server for the tests)"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${ceph_pkgs[@]}"
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
if ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "== installing moto[server] (S3 test server for hokan-s3)"
  # Debian's python refuses plain pip installs (externally managed).
  python3 -m pip install --quiet 'moto[server]' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]'
  python3 -c 'import moto.server'
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "== installing aiosmtpd (SMTP test server for hokan-notify)"
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages aiosmtpd
  python3 -c 'import aiosmtpd'
fi

# A one-shot build gains nothing from incremental caches; they cost GBs of disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

FUZZ_SECONDS=${FUZZ_SECONDS:-10}
if [ "$FUZZ_SECONDS" != 0 ] && [ -x fuzz/run-all.sh ]; then
  echo "== fuzzing every parser for ${FUZZ_SECONDS}s each"
  fuzz/run-all.sh "$FUZZ_SECONDS"
fi

echo "== tests"
# One Ceph RGW cluster for every test that needs a strict S3 server; gone at exit.
rgw_dir=$(mktemp -d "${TMPDIR:-/tmp}/hokan-ceph-rgw.XXXXXX")
stop_rgw() { scripts/ceph-rgw.sh stop "$rgw_dir" || true; rm -rf "$rgw_dir"; }
trap stop_rgw EXIT
rgw_port=${HOKAN_TEST_RGW_PORT:-7480}
rgw_env=$(scripts/ceph-rgw.sh start "$rgw_dir" "$rgw_port")
eval "$rgw_env"
export HOKAN_TEST_RGW_ENDPOINT HOKAN_TEST_RGW_ACCESS_KEY HOKAN_TEST_RGW_SECRET
cargo test --workspace --doc --locked -q
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "cargo-nextest not found; using cargo test"
  cargo test --workspace --locked --no-fail-fast
fi
