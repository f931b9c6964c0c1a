#!/usr/bin/python3
# Request-line parsing of lib/attr compared with the Python policyd-spf's own
# code path (readline, decode('UTF-8', errors='replace'), rstrip, its regex,
# lower() except three keys) on generated lines: ASCII, Unicode blanks,
# invalid UTF-8, every code point in a value, and capital sigma in the
# contexts of Python's Final_Sigma rule.
import os, random, re, subprocess, sys

build = os.environ.get('PSPF_BUILD', 'build')
tool = os.path.join(build, 'tools', 'attr_dump')
if not os.access(tool, os.X_OK):
    print('1..1\nnot ok 1 - %s missing (run make)' % tool)
    sys.exit(1)

lineRx = re.compile(r'^\s*([^=\s]+)\s*=(.*)$')

def python_view(raw):
    line = raw.decode('UTF-8', errors='replace').rstrip()
    if not line:
        return 'END'
    m = lineRx.match(line)
    if not m:
        return 'NOMATCH'
    k, v = m.group(1), m.group(2)
    if k not in ('protocol_state', 'protocol_name', 'queue_id'):
        v = v.lower()
    return 'KV %s %s' % (k.encode().hex(), v.encode().hex())

pieces = [b'a', b'Z', b'=', b' ', b'\t', b'\r', b'\x0b', b'\x0c', b'\x1c', b'\x1f',
          b'sender', b'queue_id', b'protocol_state', b'protocol_name', b'helo_name',
          b'Alice@Example.COM', b'\xc2\xa0', b'\xc2\x85', b'\xe3\x80\x80', b'\xe2\x80\xa8',
          b'\xe1\x9a\x80', b'\xff', b'\xfe', b'\xc0\x80', b'\xe2\x82', b'\xed\xa0\x80',
          b'\xf0\x9f\x98', b'\xf0\x9f\x98\x80', b'\xf4\x90\x80\x80', b'\x80', b'\xc3',
          b'\xc3\x84', b'\xc3\x9e', b'\xc3\x97', b'\xc5\xb8', b'\xc4\xb0', b'\xc4\x80',
          b'\xc5\x81', b'\xc5\xbd', b'\xd0\x96', b'\xd0\x81', b'\xd1\xa0', b'\xd3\x80',
          b'\xd3\x81', b'\xd4\xae', b'\xe4\xb8\xad', b'\xef\xbf\xbd', b'1.2.3.4', b'::1', b'"']

rnd = random.Random(7208)
lines = [b'', b' ', b'k=v', b'  k  =  V  ', b'=v', b'k', b'k v=w']
for _ in range(5000):
    lines.append(b''.join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12))))
for c in [0x130, 0x178, 0x1E9E, 0x4E2D, 0x212A, 0x3A3]:
    lines.append(b'k=' + chr(c).encode() + b'X')
# every code point but the surrogates, 150 to a value
cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000]
for i in range(0, len(cps), 150):
    lines.append(b'k=' + ''.join(chr(c) for c in cps[i:i + 150]).encode())
# capital sigma after and before letters, case-ignorable marks (U+0301, '.',
# U+00B7, U+02B0 which is also cased, U+0345), digits, blanks, other sigmas
sigma = ['\u03a3', '\u03a3', 'A', '\u0391', 'b', '1', ' ', '.', "'", '\u0301', '\u00b7', '\u02b0',
         '\u0345', '\u03c2', '\u03c3', '\u212a', '\u4e2d', '\u00aa']
for _ in range(3000):
    lines.append(b'k=' + ''.join(rnd.choice(sigma) for _ in range(rnd.randint(1, 7))).encode())

out = subprocess.run([tool], input=b'\n'.join(lines) + b'\n', stdout=subprocess.PIPE,
                     check=True).stdout.decode().splitlines()

bad = 0
for raw, got in zip(lines, out):
    want = python_view(raw)
    if got != want:
        bad += 1
        if bad <= 10:
            print('# line %r: python %s, attr %s' % (raw[:60], want[:80], got[:80]))
print('ok 1 - %d lines parsed as Python does' % len(lines) if bad == 0 and len(out) == len(lines)
      else 'not ok 1 - %d of %d lines differ (outputs %d)' % (bad, len(lines), len(out)))
print('1..1')
