"""errors.py: the exceptions of the m0emu package.

Timeouts are the built-in TimeoutError (with a message that lists what was seen), so a
caller can catch them without importing anything from here.
"""


class M0EmuError(Exception):
    """Something about the emulator itself: not found, failed to start, exited."""


class ATError(M0EmuError):
    """The module answered +ERR=<code> to a command.

    `.code` is the integer code (-1 format, -2 unknown command, -3 operator,
    -4 parameter, -5 not permitted), `.command` the line sent, `.reply` the reply text."""

    def __init__(self, command, reply, code):
        super().__init__(f"{command!r} answered {reply}")
        self.command = command
        self.reply = reply
        self.code = code
