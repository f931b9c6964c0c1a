# End-to-end test with a real Postfix and OpenDMARC (t/e2e-postfix.t; it
# also runs in `make check`).  `make e2e-python` runs the same harness
# against the Python policyd-spf, the reference.
.PHONY: e2e e2e-python
e2e: all
	PSPF_BUILD=$(B) prove -v t/e2e-postfix.t
e2e-python:
	PSPF_E2E_SERVER=python prove -v t/e2e-postfix.t
