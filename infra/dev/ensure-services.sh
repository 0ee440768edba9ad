#!/usr/bin/env bash
# Make sure the services the tests need are up on this kind of machine (PostgreSQL, Redis),
# and that Debian's Chromium is installed for the browser tests. Idempotent and quiet.
set -u

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi

if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will fail" >&2
fi
# poppler-utils: pdftotext reads CV PDFs back for the text self-check (the CV studio).
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "installing poppler-utils for the CV text self-check"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
    || echo "warning: could not install poppler-utils; CV renders will fail their text check" >&2
fi
# ClamAV's clamd (uploads are scanned; the tests start their own clamd with shipped test
# signatures, so no freshclam download is needed) and libmagic (type sniffing).
need_scan_tools=0
[ -x /usr/sbin/clamd ] || command -v clamd >/dev/null 2>&1 || need_scan_tools=1
ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || need_scan_tools=1
if [ "$need_scan_tools" = 1 ]; then
  echo "installing clamav-daemon and libmagic1 for uploads"
  for _ in 1 2 3 4 5 6; do
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      clamav-daemon libmagic1 >/dev/null 2>&1) && break
    sleep 10  # another install holds the dpkg lock
  done
  [ -x /usr/sbin/clamd ] || echo "warning: could not install clamav-daemon; upload tests will fail" >&2
fi
# libreoffice-impress: slide-deck tests open and convert the generated PPTX with a real office suite.
if ! command -v soffice >/dev/null 2>&1; then
  echo "installing libreoffice-impress for the slide-deck tests"
  for _ in 1 2 3 4 5 6; do
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libreoffice-impress >/dev/null 2>&1) && break
    sleep 10  # another install holds the dpkg lock
  done
  command -v soffice >/dev/null 2>&1 || echo "warning: could not install libreoffice-impress; slide tests will fail" >&2
fi
exit 0
