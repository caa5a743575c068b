"""A pseudo-terminal for serial tests: prints the slave's path on stderr, then copies bytes
written to the slave (by the program under test) to stdout, and bytes from stdin to the slave.
The test drives a simulated device on the other side of stdin/stdout. Exits when stdin closes."""
import os
import select
import sys
import tty

master, slave = os.openpty()
tty.setraw(slave)
sys.stderr.write(os.ttyname(slave) + "\n")
sys.stderr.flush()
while True:
    ready, _, _ = select.select([master, 0], [], [])
    if master in ready:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        if data:
            os.write(1, data)
    if 0 in ready:
        data = os.read(0, 4096)
        if not data:
            break
        os.write(master, data)
