# shellcheck shell=bash
# The world of the intake recipe tests (data/intake/): a private network and
# mount namespace in which the copier's Unix account and scand's own exist,
# the drop folder is a small file system of its own, and scand's daemon runs
# as its own unprivileged user, as in production. Nothing outside: the real
# /etc/passwd, /etc/group, /etc/shadow and /etc/pam.d are never written
# (copies are bind-mounted over them inside the namespace), and the network
# is the namespace's loopback plus a veth to a peer namespace (netns.sh).
#
#   . "$SCAND_SRCDIR/tests/lib/intake-drop.sh"
#   drop_enter "$@"        # first: re-runs the script in new namespaces
#   . "$SCAND_SRCDIR/tests/lib/common.sh"  (and daemon.sh, netns.sh, …)
#   drop_user NAME UID [PASSWORD [GROUPS]]   # a Unix account (group NAME too)
#   drop_folder DIR OWNER GROUP MODE SIZE    # a tmpfs of SIZE mounted there
#   drop_home NAME DIR                       # its home directory
#   drop_daemon_start CONFIG [ARGS…]         # scand daemon as user "scand"
#   drop_settled DROP OUT N                  # all taken, N delivered
# drop_daemon_start runs as the account "scand": make it with drop_user first
# (after the copier's, whose group it joins).

# drop_enter ARGS…: unless already inside, re-executes "$0" ARGS… in a new
# network and mount namespace (mounts private to it); brings lo up.
drop_enter() {
  if [ -z "${SCAND_IN_DROPNS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "FAIL: the intake recipe tests run daemons as root (as CI does)" >&2; exit 1; }
    SCAND_IN_DROPNS=1 SCAND_IN_NETNS=1 exec unshare --net --mount --propagation private -- "$BASH" "$0" "$@"
  fi
  ip link set lo up
}

# Copies of the account files, bind-mounted over the real ones at the first
# drop_user (in this mount namespace only).
_drop_etc_ready=
_drop_etc() {
  [ -z "$_drop_etc_ready" ] || return 0
  mkdir -p "$T/etc"
  local f
  for f in passwd group shadow; do
    cp -p "/etc/$f" "$T/etc/$f"
    mount --bind "$T/etc/$f" "/etc/$f"
  done
  _drop_etc_ready=1
}

# drop_user NAME UID [PASSWORD [GROUP,…]]: a Unix account NAME (uid = gid =
# UID, group NAME, no home, no shell) with PASSWORD (or none), also a member
# of the groups listed.
drop_user() {
  local name=$1 id=$2 password=${3:-} groups=${4:-} hash='!'
  _drop_etc
  getent passwd "$id" >/dev/null && fail "uid $id is taken"
  echo "$name:x:$id:$id:$name:/nonexistent:/usr/sbin/nologin" >>"$T/etc/passwd"
  echo "$name:x:$id:" >>"$T/etc/group"
  [ -z "$password" ] || hash=$(openssl passwd -6 -stdin <<<"$password")
  echo "$name:$hash:20000:0:99999:7:::" >>"$T/etc/shadow"
  local g
  for g in ${groups//,/ }; do
    _drop_rewrite group awk -F: -v OFS=: -v g="$g" -v u="$name" '$1 == g { $4 = $4 == "" ? u : $4 "," u } 1'
  done
  getent passwd "$name" >/dev/null || fail "account $name not visible"
}

# drop_home NAME DIR: sets the home directory of account NAME.
drop_home() {
  _drop_rewrite passwd awk -F: -v OFS=: -v u="$1" -v h="$2" '$1 == u { $6 = h } 1'
}

# _drop_rewrite FILE CMD…: filters $T/etc/FILE through CMD in place, keeping
# its inode (it is bind-mounted: a new file would not be seen).
_drop_rewrite() {
  local f=$T/etc/$1
  shift
  "$@" "$f" >"$f.new"
  cat "$f.new" >"$f"
  rm -f "$f.new"
}

# drop_folder DIR OWNER GROUP MODE SIZE: DIR becomes a tmpfs of SIZE (e.g.
# 8m) owned by OWNER:GROUP with MODE, unmounted at exit (the namespace
# would drop it anyway).
drop_folder() {
  local dir=$1
  mkdir -p "$dir"
  mount -t tmpfs -o "size=$5,mode=$4,uid=$(id -u "$2"),gid=$(getent group "$3" | cut -d: -f3)" tmpfs "$dir"
  on_exit "umount -l '$dir' 2>/dev/null"
}

# drop_daemon_start CONFIG [ARGS…]: `scand daemon` as the user scand, with
# its supplementary groups (the copiers' groups it reads through); the
# spool and $T's state folders are made its own. Sets DAEMON_PID (daemon.sh).
drop_daemon_start() {
  local config=$1
  shift
  mkdir -p "$SCAND_SPOOL" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME"
  chown scand: "$SCAND_SPOOL" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME" "$HOME"
  chmod 0711 "$T"
  setpriv --reuid=scand --regid=scand --init-groups -- \
    "$SCAND" daemon --config "$config" "$@" >>"$T/daemon.log" 2>&1 &
  DAEMON_PID=$!
  on_exit "kill -9 $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
  daemon_wait_ready
}

# drop_settled DIR OUT N: DIR (the drop) holds no file outside scand's
# folders and OUT holds exactly N files — the state after every upload was
# taken once.
drop_settled() {
  [ "$(find "$1" -path "$1/.scand-*" -prune -o -type f -print | wc -l)" -eq 0 ] &&
    [ "$(find "$2" -type f | wc -l)" -eq "$3" ]
}
