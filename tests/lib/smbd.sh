# shellcheck shell=bash
# A private Debian smbd for tests, sourced by tests/integration/smb-*.sh (after
# tests/lib/common.sh, whose EXIT trap it hooks into; alone it sets its own).
#
# Recipe (works as root, which is how CI runs; nothing outside the temp folder
# and the loopback interface is touched):
#   - a private smb.conf: `interfaces = lo`, `bind interfaces only = yes`,
#     `smb ports = <free port>`, `disable netbios = yes`; private, lock, state,
#     cache, pid, ncalrpc and binddns dirs plus the log file under one temp
#     folder; printing, RPC helpers and user shares off; `passdb backend =
#     tdbsam:` in the temp folder, so /var/lib/samba is never read or written;
#   - one share "scans" pointing at a temp dir, writable;
#   - the SMB user "scanner" is mapped to the Unix user root through a private
#     `username map` (no useradd, so parallel tests never race on /etc/passwd),
#     and its password is set with `smbpasswd -c <conf> -a -s root`;
#   - `setsid smbd --foreground --no-process-group --configfile <conf>` runs in
#     the background in its own session. smbd signals its whole process group
#     when it terminates, which would kill the test script if they shared one;
#     and smbd must not call setsid itself (it fails as a session leader), hence
#     --no-process-group; --log-basename keeps smbd's first log lines (before
#     it reads the config) out of /var/log/samba. smbd_start waits until smbd
#     listens on 127.0.0.1:port (checked with ss, and retried on another port
#     if someone took it); smbd_stop signals the group (smbd and its
#     per-connection children) and waits until the port refuses connections.
#   - SMBD_EXTRA (smb.conf lines for [global]) is written at each smbd_start,
#     e.g. "server smb encrypt = required" or "server max protocol = SMB2_10";
#     SMBD_SHARES_EXTRA (whole share sections) is appended after [scans].
#
# Use:
#   . "$SCAND_SRCDIR/tests/lib/common.sh"
#   . "$SCAND_SRCDIR/tests/lib/smbd.sh"
#   smbd_setup            # temp folder, config, user; sets the variables below
#   smbd_start            # starts smbd (again, on the same port, after smbd_stop);
#                         # write configs using SMBD_PORT/SMBD_URL after the first start
#   smbd_stop             # stops it; smbd_cleanup (run at exit) also removes the folder
#   smbd_log              # prints the tail of smbd's log (for failure messages)
# Variables: SMBD_DIR, SMBD_PORT, SMBD_SHARE (the share's directory on disk),
#   SMBD_URL (smb://127.0.0.1:PORT/scans), SMBD_USER, SMBD_PASSWORD,
#   SMBD_PASSWORD_FILE (mode 0600), SMBD_PID.

SMBD_BIN=${SMBD_BIN:-/usr/sbin/smbd}
SMBD_USER=scanner
SMBD_PASSWORD='Sc4n-secret'
SMBD_PID=

smbd_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes the private smb.conf (again, so SMBD_EXTRA may change between starts).
smbd_write_conf() {
  cat > "$SMBD_DIR/smb.conf" <<EOF
[global]
  server role = standalone server
  workgroup = SCANDTEST
  netbios name = SCANDTEST
  interfaces = lo
  bind interfaces only = yes
  smb ports = $SMBD_PORT
  disable netbios = yes
  private dir = $SMBD_DIR/private
  lock directory = $SMBD_DIR/lock
  state directory = $SMBD_DIR/state
  cache directory = $SMBD_DIR/cache
  pid directory = $SMBD_DIR/pid
  ncalrpc dir = $SMBD_DIR/ncalrpc
  binddns dir = $SMBD_DIR/bind-dns
  log file = $SMBD_DIR/log.smbd
  log level = 1
  max log size = 0
  logging = file
  passdb backend = tdbsam:$SMBD_DIR/private/passdb.tdb
  username map = $SMBD_DIR/usermap
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  rpc start on demand helpers = no
  usershare path =
  kernel oplocks = no
  store dos attributes = no
  ea support = no
  server min protocol = SMB2_02
$(printf '%s\n' "${SMBD_EXTRA:-}")

[scans]
  path = $SMBD_SHARE
  read only = no
  guest ok = no
  create mask = 0644
  directory mask = 0755
$(printf '%s\n' "${SMBD_SHARES_EXTRA:-}")
EOF
}

smbd_setup() {
  SMBD_DIR=$(mktemp -d "${T:-${TMPDIR:-/tmp}}/smbd.XXXXXX")
  SMBD_SHARE=$SMBD_DIR/share
  mkdir -p "$SMBD_SHARE" "$SMBD_DIR"/{private,lock,state,cache,pid,ncalrpc,bind-dns}
  chmod 0700 "$SMBD_DIR/private"
  SMBD_PORT=$(smbd_free_port)
  SMBD_URL=smb://127.0.0.1:$SMBD_PORT/scans
  echo "root = $SMBD_USER" > "$SMBD_DIR/usermap"
  smbd_write_conf
  SMBD_PASSWORD_FILE=$SMBD_DIR/password
  (umask 077; printf '%s\n' "$SMBD_PASSWORD" > "$SMBD_PASSWORD_FILE")
  printf '%s\n%s\n' "$SMBD_PASSWORD" "$SMBD_PASSWORD" |
    smbpasswd -c "$SMBD_DIR/smb.conf" -a -s root >"$SMBD_DIR/smbpasswd.out" 2>&1 ||
    { cat "$SMBD_DIR/smbpasswd.out" >&2; echo "smbpasswd failed" >&2; return 1; }
  if declare -F on_exit >/dev/null; then
    on_exit smbd_cleanup
  else
    trap smbd_cleanup EXIT
  fi
}

smbd_log() {
  echo "--- smbd log ($SMBD_DIR/log.smbd) ---" >&2
  tail -n 40 "$SMBD_DIR/log.smbd" >&2 2>/dev/null || true
}

# Waits (up to 20 s) until our smbd listens on 127.0.0.1:port. A listener
# there that is not smbd (someone took the "free" port) fails within 2 s.
smbd_wait_port() {
  local i foreign=0
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$SMBD_PORT") 2>/dev/null; then
      if ss -ltnpH "src 127.0.0.1:$SMBD_PORT" 2>/dev/null | grep -q '"smbd"'; then
        return 0
      fi
      if ((++foreign > 20)); then
        echo "127.0.0.1:$SMBD_PORT is held by another process" >&2
        return 1
      fi
    fi
    if [[ -n $SMBD_PID ]] && ! kill -0 "$SMBD_PID" 2>/dev/null; then
      echo "smbd exited; log:" >&2
      cat "$SMBD_DIR/log.smbd" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "smbd did not listen on port $SMBD_PORT; log:" >&2
  cat "$SMBD_DIR/log.smbd" >&2
  return 1
}

smbd_start() {
  local try
  for ((try = 0; try < 3; try++)); do
    smbd_write_conf
    setsid "$SMBD_BIN" --foreground --no-process-group --configfile="$SMBD_DIR/smb.conf" \
      --log-basename="$SMBD_DIR" \
      </dev/null >>"$SMBD_DIR/smbd.out" 2>&1 &
    SMBD_PID=$!
    smbd_wait_port && { SMBD_STARTED=1; return 0; }
    kill -KILL -- "-$SMBD_PID" 2>/dev/null || true
    wait "$SMBD_PID" 2>/dev/null || true
    SMBD_PID=
    # Someone took the free port in between: only a first start may move on
    # to another one (later starts must keep the URL the test configured).
    [[ -z ${SMBD_STARTED:-} ]] || return 1
    SMBD_PORT=$(smbd_free_port)
    SMBD_URL=smb://127.0.0.1:$SMBD_PORT/scans
  done
  return 1
}

# Stops smbd and its per-connection children (its process group, which setsid
# made equal to its pid).
smbd_stop() {
  [[ -n $SMBD_PID ]] || return 0
  kill -TERM -- "-$SMBD_PID" 2>/dev/null || true
  wait "$SMBD_PID" 2>/dev/null || true
  kill -KILL -- "-$SMBD_PID" 2>/dev/null || true
  SMBD_PID=
  # The port must refuse connections before the caller goes on.
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SMBD_PORT") 2>/dev/null || return 0
    sleep 0.1
  done
  echo "port $SMBD_PORT still accepts after smbd_stop" >&2
  return 1
}

smbd_cleanup() {
  smbd_stop || true
  [[ -n ${SMBD_DIR:-} ]] && rm -rf "$SMBD_DIR"
  SMBD_DIR=
}
