"""maxrss.py FILE COMMAND [ARG...]: run COMMAND (sharing this process's
stdin, stdout and stderr), write its peak RSS in KiB to FILE, exit with its
status.  A driver test's wrapper, to measure one driver run."""

import os
import signal
import sys


def main():
    out, argv = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    # marketd's timeout signals the whole group: pass nothing, just wait.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w") as f:
        f.write("%d\n" % usage.ru_maxrss)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xff)


if __name__ == "__main__":
    main()
