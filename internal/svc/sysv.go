package svc

// sysvScript is the init script installed where the service manager is
// SysV init (kardianos' template syntax). Unlike kardianos' default it
// supervises the program: a program that exits, for whatever reason, is
// started again after RestartDelay, as systemd's Restart=always would.
//
// Two pid files keep stop honest: NAME.pid holds the supervisor, and
// NAME.program.pid the program itself, written by the shell that started it
// (the program runs in a pipeline to logger(1), where no other shell can
// learn its pid). stop tells the supervisor to stop restarting, sends
// SIGTERM to the program, and returns only when both are gone, sending
// SIGKILL to what is left after stopWait. start and status count either as
// running, so a second start never runs a second copy.
//
// The environment file (EnvPath) is read with "set -a", so the variables in
// it reach the program. Output goes to syslog through logger(1) when a
// syslog socket exists (logger drops everything when there is none), else it
// is appended to /var/log/NAME.log; start says which.
const sysvScript = `#!/bin/sh
# chkconfig: - 99 01
# description: {{Description}}
# processname: {{Path}}
### BEGIN INIT INFO
# Provides:          {{Path}}
# Required-Start:    $network $remote_fs $syslog
# Required-Stop:     $network $remote_fs $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: {{DisplayName}}
# Description:       {{Description}}
### END INIT INFO

name=$(basename "$(readlink -f "$0")")
pid_file="/var/run/$name.pid"
program_pid_file="/var/run/$name.program.pid"
log_file="/var/log/$name.log"
restart_policy="always"
restart_delay=` + RestartDelay + `
stop_wait=` + stopWait + `

{{range EnvVars}}{{.}}
{{end}}
set -a
[ -r /etc/sysconfig/$name ] && . /etc/sysconfig/$name
[ -r /etc/default/$name ] && . /etc/default/$name
set +a

use_syslog() {
    [ -S /dev/log ] && command -v logger >/dev/null 2>&1
}

# start_program runs the program, records its pid while it runs, and says
# how it ended.
start_program() {
    {{Path|cmd}}{{range Arguments}} {{.|cmd}}{{end}} 2>&1 &
    echo $! > "$program_pid_file"
    wait $!
    status=$?
    rm -f "$program_pid_file"
    echo "$name exited with status $status"
}

run_program() {
    {{if WorkingDirectory}}cd '{{WorkingDirectory}}' || return 1{{end}}
    if use_syslog; then
        start_program 2>&1 | logger -t "$name"
    else
        start_program >> "$log_file" 2>&1
    fi
}

stop_program() {
    stopping=1
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    [ -f "$program_pid_file" ] && kill "$(cat "$program_pid_file")" 2>/dev/null
}

# supervise runs the program again whenever it exits (Restart=always),
# until it is itself told to stop.
supervise() {
    stopping=
    sleeper=
    trap stop_program TERM INT
    while [ -z "$stopping" ]; do
        run_program &
        child=$!
        # wait returns early when a signal is trapped: wait until the
        # program's shell has really ended.
        while kill -0 "$child" 2>/dev/null; do
            wait "$child"
        done
        [ -n "$stopping" ] && break
        sleep "${restart_delay%s}" &
        sleeper=$!
        wait "$sleeper"
        sleeper=
    done
}

alive() {
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

is_running() {
    alive "$pid_file" || alive "$program_pid_file"
}

case "$1" in
    start)
        if is_running; then
            echo "Already started"
        else
            if use_syslog; then
                echo "Starting $name; logging to syslog (tag $name)"
            else
                echo "Starting $name; logging to $log_file"
            fi
            (
                exec </dev/null >/dev/null 2>&1
                supervise
            ) &
            echo $! > "$pid_file"
            if ! is_running; then
                echo "Unable to start"
                exit 1
            fi
        fi
    ;;
    stop)
        if is_running; then
            printf "Stopping %s.." "$name"
            alive "$pid_file" && kill "$(cat "$pid_file")"
            signalled=
            i=0
            while is_running && [ "$i" -lt "${stop_wait%s}" ]; do
                # The supervisor signals the program too; this covers a
                # program started just as the supervisor was told to stop,
                # and a supervisor that is gone.
                program=$(cat "$program_pid_file" 2>/dev/null)
                if [ -n "$program" ] && [ "$program" != "$signalled" ]; then
                    kill "$program" 2>/dev/null
                    signalled=$program
                fi
                printf "."
                sleep 1
                i=$((i + 1))
            done
            echo
            if is_running; then
                echo "Not stopped after $stop_wait; killing it"
                alive "$program_pid_file" && kill -9 "$(cat "$program_pid_file")"
                alive "$pid_file" && kill -9 "$(cat "$pid_file")"
            fi
            echo "Stopped"
            rm -f "$pid_file" "$program_pid_file"
        else
            echo "Not running"
        fi
    ;;
    restart)
        "$0" stop
        if is_running; then
            echo "Unable to stop, will not attempt to start"
            exit 1
        fi
        "$0" start
    ;;
    status)
        if is_running; then
            echo "Running"
        else
            echo "Stopped"
            exit 1
        fi
    ;;
    *)
        echo "Usage: $0 {start|stop|restart|status}"
        exit 1
    ;;
esac
exit 0
`
