#!/bin/sh
# The engine's launcher (automation/engine/engine-command.ts starts it with setsid, so it leads a
# session of its own): runs the Pulumi CLI given as arguments, and ends the whole session
# (the CLI, and the plugins it starts, each in its own process group) when fd 3 reaches
# end-of-file: the server that started it died, or let go of the stack's lock. After the CLI
# exits it also ends any plugin the CLI left behind. Needs ps (procps).
set -u
session=$$
export ODOO_SAAS_ENGINE_SESSION="$session"

end_plugin_groups() {
  for group in $(ps -o pgid= -s "$session" | sort -u); do
    [ "$group" = "$session" ] || kill -s KILL -- "-$group" 2>/dev/null
  done
}

"$@" 3<&- &
cli=$!
trap 'kill -s INT "$cli" 2>/dev/null' INT
trap 'kill -s TERM "$cli" 2>/dev/null' TERM

# The watcher: end-of-file (or any byte) on fd 3 ends everything in this session, itself last.
( read -r _ <&3; end_plugin_groups; kill -s KILL 0 ) >/dev/null 2>&1 &
watcher=$!
exec 3<&-

while :; do
  wait "$cli"
  status=$?
  kill -0 "$cli" 2>/dev/null || break
done
kill -s TERM "$watcher" 2>/dev/null
end_plugin_groups
exit "$status"
