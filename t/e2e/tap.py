# tap.py - TAP output for the end-to-end test: numbered ok/not ok lines,
# diagnostics as "# " comments, the plan printed last.

import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.gone = False

    def _line(self, text):
        # A reader that went away (prove killed, `| head`) must not stop
        # the clean-up: keep counting, stop writing.
        if self.gone:
            return
        try:
            sys.stdout.write(text + '\n')
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            self.gone = True

    def diag(self, text):
        for l in str(text).splitlines() or ['']:
            self._line('# ' + l)

    def ok(self, cond, name, diag=None, todo=None):
        self.n += 1
        line = '%s %d - %s' % ('ok' if cond else 'not ok', self.n, name)
        if todo:
            line += ' # TODO ' + todo
        self._line(line)
        if not cond:
            if not todo:
                self.failed += 1
            if diag:
                self.diag(diag)
        return bool(cond)

    def skip(self, name, why):
        self.n += 1
        self._line('ok %d - %s # skip %s' % (self.n, name, why))

    def eq(self, got, want, name, todo=None):
        return self.ok(got == want, name, 'got:  %r\nwant: %r' % (got, want), todo)

    def bail(self, why):
        self._line('Bail out! ' + str(why).splitlines()[0])
        for l in str(why).splitlines()[1:]:
            self._line('# ' + l)

    def done(self):
        self._line('1..%d' % self.n)
        return 1 if self.failed else 0
