"""codeexec_capture: bounded text streams that stand in for sys.stdout and
sys.stderr while user code runs.

Each stream keeps at most `cap` bytes of UTF-8 in one bytearray and drops
the rest, remembering that it did; so however much the code prints, the
helper's memory grows by at most `cap` bytes per stream.  Text that cannot
be encoded (lone surrogates) is written backslash-escaped, so what is kept
is always valid UTF-8.
"""


class CappedStream:
    """A write-only text stream keeping the first `cap` bytes."""

    encoding = "utf-8"
    errors = "backslashreplace"
    newlines = None
    closed = False

    def __init__(self, cap, name):
        self.cap = max(int(cap), 0)
        self.name = name
        self.data = bytearray()
        self.truncated = False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s"
                            % type(text).__name__)
        n = len(text)
        if self.truncated or n == 0:
            if n:
                self.truncated = True
            return n
        room = self.cap - len(self.data)
        # Encode at most `room` characters: each is at least one byte, so
        # nothing past them could fit, and a huge string is never copied.
        chunk = text[:room].encode("utf-8", "backslashreplace")
        if len(chunk) > room:
            # cut at the byte cap, then drop a partial trailing character
            chunk = chunk[:room].decode("utf-8", "ignore").encode("utf-8")
            self.truncated = True
        elif n > room:
            self.truncated = True
        self.data += chunk
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def fileno(self):
        raise OSError("captured stream has no file descriptor")

    def getvalue(self):
        """The captured bytes (valid UTF-8)."""
        return bytes(self.data)
