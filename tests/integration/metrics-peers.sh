# Metrics listener against other computers and slow clients, in a private
# network namespace with a peer at 10.77.0.2: a peer not in metrics-allow is
# closed before a byte is read, one in it is served (after a reload that
# adds it); 16 connections that send nothing fill the slots, the 17th is
# refused, and the idle timeout frees them.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"
. "$SCAND_SRCDIR/tests/lib/netns.sh"
netns_enter "$@"
netns_peer dev 10.77.0.2 fe80::2

cat >"$T/scand.conf" <<CONF
[scand]
metrics-listen = 10.77.0.1:0
metrics-allow = 10.77.0.3, 192.0.2.0/24
CONF
daemon_start "$T/scand.conf" --no-bus
port_of() { sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$T/daemon.log" | tail -1; }
wait_for 10 test -n "$(port_of)" || { cat "$T/daemon.log"; fail "no metrics port"; }
port=$(port_of)

# From the peer, not allowed: closed without an answer.
code=$(netns_run dev curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://10.77.0.1:$port/metrics" || true)
assert_eq 000 "$code" "a peer outside metrics-allow"
wait_for 5 grep -q "metrics: refused a connection from 10.77.0.2: not loopback and not in metrics-allow" \
  "$T/daemon.log" || { cat "$T/daemon.log"; fail "refusal not logged"; }

# Allowed after a reload.
sed -i 's/^metrics-allow = .*/metrics-allow = 10.77.0.2/' "$T/scand.conf"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "configuration reloaded" "$T/daemon.log" || fail "no reload"
port=$(port_of)
netns_run dev curl -sf --max-time 5 "http://10.77.0.1:$port/metrics" >"$T/m.txt" || fail "allowed peer not served"
/usr/bin/python3 -c "
from prometheus_client.parser import text_string_to_metric_families as p
assert any(f.name == 'scand_build_info' for f in p(open('$T/m.txt').read()))" || fail "allowed peer's scrape"

# Slow clients: 16 silent connections hold every slot; the 17th is closed;
# after the idle timeout (10 s) a scrape is served again.
cat >"$T/slow.py" <<'PY'
import socket, sys, time
conns = [socket.create_connection(("10.77.0.1", int(sys.argv[1]))) for _ in range(16)]
time.sleep(25)
PY
netns_spawn dev /usr/bin/python3 "$T/slow.py" "$port"
slow=$!
on_exit "kill $slow 2>/dev/null"
sleep 2
code=$(netns_run dev curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://10.77.0.1:$port/metrics" || true)
assert_eq 000 "$code" "a scrape while 16 silent connections are open"
grep -q "refused a connection from 10.77.0.2: too many connections open" "$T/daemon.log" || fail "17th not refused for the count"
wait_for 20 netns_run dev sh -c "curl -sf --max-time 2 -o /dev/null 'http://10.77.0.1:$port/metrics'" ||
  { cat "$T/daemon.log"; fail "silent connections were never closed"; }
kill $slow 2>/dev/null
daemon_stop
echo ok
