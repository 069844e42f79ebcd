"""maxrss.py FILE COMMAND [ARG...]: run COMMAND (sharing this process's
stdin, stdout and stderr), write its peak RSS in KiB to FILE, exit with its
status.  A wrapper for the driver tests and benches, to measure one driver
run: the peak a parent's wait4() reports also counts the memory of the
process that forked the driver (the kernel keeps the larger of the two
at exec), so the driver is forked from this small process (run it with
python3 -S: about 8 MiB) rather than from a test or bench process."""

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
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)     # killed: as a shell says it


if __name__ == "__main__":
    main()
