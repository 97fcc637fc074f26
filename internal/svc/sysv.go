package svc

// sysvScript is the init script installed where the service manager is
// SysV init (kardianos' template syntax). Unlike kardianos' default it
// supervises the program: a program that exits, for whatever reason, is
// started again after RestartDelay, as systemd's Restart=always would.
// Output goes to syslog through logger(1) where it exists, else to
// /var/log/NAME.log.
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
log_file="/var/log/$name.log"
restart_policy="always"
restart_delay=` + RestartDelay + `

{{range EnvVars}}{{.}}
{{end}}
[ -e /etc/sysconfig/$name ] && . /etc/sysconfig/$name
[ -e /etc/default/$name ] && . /etc/default/$name

run_program() {
    {{if WorkingDirectory}}cd '{{WorkingDirectory}}' || return 1{{end}}
    if command -v logger >/dev/null 2>&1; then
        {{Path|cmd}}{{range Arguments}} {{.|cmd}}{{end}} 2>&1 | logger -t "$name"
    else
        {{Path|cmd}}{{range Arguments}} {{.|cmd}}{{end}} >> "$log_file" 2>&1
    fi
}

# supervise runs the program again whenever it exits (Restart=always),
# until it is itself told to stop.
supervise() {
    trap 'kill $child 2>/dev/null; pkill -P $child 2>/dev/null; wait $child; exit 0' TERM INT
    while :; do
        run_program &
        child=$!
        wait $child
        echo "$name exited with status $?; restarting in $restart_delay" | logger -t "$name" 2>/dev/null
        sleep "${restart_delay%s}" &
        wait $!
    done
}

is_running() {
    [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

case "$1" in
    start)
        if is_running; then
            echo "Already started"
        else
            echo "Starting $name"
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
            kill "$(cat "$pid_file")"
            for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
                is_running || break
                printf "."
                sleep 1
            done
            echo
            if is_running; then
                echo "Not stopped; may still be shutting down"
                exit 1
            fi
            echo "Stopped"
            rm -f "$pid_file"
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
